"""`corral plan` and `corral run` against a sandbox with the examples/sandbox-demo project, and
`corral demo`."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest
from click.testing import Result

from corral.demo import pipeline_inputs, prepare_sandbox
from corral.engine import approve
from corral.sandbox import Sandbox
from corral.store import Store
from tests.engine.helpers import wait_until

from .helpers import corral

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"


def test_plan_shows_a_new_service_then_image_and_count_changes_and_changes_nothing(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    fresh = corral("plan", "demo_rolling", "--project", str(DEMO), *aws)
    assert fresh.exit_code == 0, fresh.output
    assert "stage deploy: service demo-web in cluster corral-demo: new service" in fresh.output

    deployed = corral(
        "run", "demo_rolling", "--project", str(DEMO), *store, *aws, "--input", "tag=1", "--json"
    )
    assert deployed.exit_code == 0, deployed.output
    assert json.loads(deployed.output)["status"] == "Success"
    ecs = sandbox.client("ecs")
    ecs.update_service(cluster="corral-demo", service="demo-web", desiredCount=3)  # someone scaled it
    same = corral("plan", "demo_rolling", "--project", str(DEMO), *aws, "--input", "tag=1")
    assert "desiredCount" in same.output and "image" not in same.output

    sandbox.admin.clear_calls()
    planned = corral("plan", "demo_rolling", "--project", str(DEMO), *aws, "--input", "tag=2")
    assert planned.exit_code == 0, planned.output
    lines = planned.output.splitlines()
    assert "--- live task definition" in lines and "+++ planned task definition" in lines
    assert any(line.startswith("-") and line.endswith("demo/web:1") for line in lines)
    assert any(line.startswith("+") and line.endswith("demo/web:2") for line in lines)
    assert "-desiredCount: 3" in lines and "+desiredCount: 2" in lines
    operations = {call["operation"] for call in sandbox.admin.calls()}
    assert operations and all(op.startswith(("Describe", "List", "Get")) for op in operations), operations
    service = ecs.describe_services(cluster="corral-demo", services=["demo-web"])["services"][0]
    assert service["desiredCount"] == 3 and service["taskDefinition"].endswith("demo-web:1")

    as_json = json.loads(corral("plan", "demo_rolling", "--project", str(DEMO), *aws, "--json").output)
    assert as_json[0]["changed"] is True and "desiredCount" in as_json[0]["diff"]["service"]


def spawn_approved(sandbox: Sandbox, tmp_path: Path, args: list[str]) -> Result:
    """`corral run demo_bluegreen`, approved by another thread as soon as it waits."""
    url = f"sqlite:///{tmp_path / 'corral.db'}"
    store = Store.open(url)

    def approve_when_waiting() -> None:
        execution = wait_until(lambda: store.executions(limit=1), timeout=60)[0]
        wait_until(lambda: store.requests(execution.id, waiting=True), timeout=60)
        approve(execution.id, store=store)

    approver = threading.Thread(target=approve_when_waiting, daemon=True)
    approver.start()
    try:
        return corral(
            "run", "demo_bluegreen", "--project", str(DEMO), "--store", url, *args, "--input", "tag=1"
        )
    finally:
        approver.join(timeout=10)
        store.close()


def test_plan_of_blue_green_shows_the_listener_swap_and_an_unknown_input_exits_2(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    prepared = prepare_sandbox(sandbox.endpoint_url)
    inputs = pipeline_inputs(prepared, "demo_bluegreen")
    args = [arg for key, value in inputs.items() for arg in ("--input", f"{key}={value}")]
    result = corral("plan", "demo_bluegreen", "--project", str(DEMO), *args)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "stage bluegreen: service demo-bg in cluster corral-demo: new service" in lines
    blue = prepared["prodTargetGroupArn"].rsplit(":", 1)[-1]
    green = prepared["stageTargetGroupArn"].rsplit(":", 1)[-1]
    assert f"-prod listener: {blue}" in lines and f"+prod listener: {green}" in lines
    assert f"-stage listener: {green}" in lines and f"+stage listener: {blue}" in lines

    # deployed once (the approval given from a second thread), a plan compares with the blue service
    run = spawn_approved(sandbox, tmp_path, args)
    assert run.exit_code == 0, run.output
    result = corral("plan", "demo_bluegreen", "--project", str(DEMO), *args, "--input", "tag=2")
    lines = result.output.splitlines()
    assert "beside the blue one, demo-bg__1, which is compared here" in result.output
    assert any(line.startswith("+") and line.endswith("demo/bg:2") for line in lines)
    assert any(line.startswith("+") and line.endswith(blue) for line in lines)

    result = corral("plan", "demo_rolling", "--project", str(DEMO), "--input", "nosuch.input=1")
    assert result.exit_code == 2
    assert "--input: nosuch.input:" in result.output and "Traceback" not in result.output


def test_demo_only_rolling(capsys: pytest.CaptureFixture[str]) -> None:
    result = corral("demo", "--only", "rolling", "--speed", "50")
    assert result.exit_code == 0, result.output
    assert "== Rolling: demo/web:1, a new service of 2 tasks (demo_rolling)" in result.output
    assert result.output.count(": Success in ") == 2
    assert "Deployment Successful." in result.output


def test_the_whole_demo() -> None:
    result = corral("demo", "--speed", "50")
    assert result.exit_code == 0, result.output
    for title in ("Canary:", "Blue green:", "Run task:", "Failure:", "Native blue green:", "Linear:"):
        assert f"== {title}" in result.output
    assert "-- the demo approves, as you would with: corral approve " in result.output
    assert "Rollback Successful." in result.output
    assert "!!" not in result.output


def test_demo_native_blue_green_pauses_for_a_check_and_an_approval() -> None:
    """ECS's own blue/green: the second release pauses with test traffic on the new revision; the
    check and the approval run while ECS waits, then ECS is told to go on and finishes."""
    result = corral("demo", "--only", "native", "--speed", "50")
    assert result.exit_code == 0, result.output
    first, second = result.output.split("== Native blue green: ECS pauses")
    assert "is paused at stage POST_TEST_TRAFFIC_SHIFT" not in first, "a first revision does not pause"
    assert "step StepGroup native/steer: Skipped" in first or "native/steer/approve" not in first
    assert "is paused at stage POST_TEST_TRAFFIC_SHIFT" in second
    order = [
        second.index("Assertion <+httpResponseCode> == 200 passed"),
        second.index("-- the demo approves"),
        second.index("Continuing service deployment"),
        second.index("SUCCESSFUL, stage CLEAN_UP"),
    ]
    assert order == sorted(order), "check, approval, continue, then ECS finishes"
    assert result.output.count(": Success in ") == 2


def test_demo_linear_moves_production_traffic_step_by_step() -> None:
    result = corral("demo", "--only", "linear", "--speed", "50")
    assert result.exit_code == 0, result.output
    for weights in ("25% new / 75% old", "50% new / 50% old", "75% new / 25% old", "100% new / 0% old"):
        assert f"production traffic {weights}" in result.output
