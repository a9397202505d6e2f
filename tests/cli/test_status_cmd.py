"""`corral status` against the sandbox after the demo's pipelines ran: what runs where (revision,
image, tasks, blue / green roles, production traffic), Corral's last deployment beside it, and
drift when someone changes a service by hand."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from corral.demo import pipeline_inputs, prepare_sandbox
from corral.engine import approve
from corral.sandbox import Sandbox
from corral.store import Store
from tests.engine.helpers import wait_until

from .helpers import corral

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
REGISTRY = "registry.demo.internal"


def run_approved(url: str, args: list[str]) -> dict[str, Any]:
    """`corral run ... --json`, its approval given from another thread as soon as it waits."""
    store = Store.open(url)
    seen = {e.id for e in store.executions(limit=100)}

    def approve_when_waiting() -> None:
        new = wait_until(lambda: [e for e in store.executions(limit=5) if e.id not in seen], timeout=60)[0]
        wait_until(lambda: store.requests(new.id, waiting=True), timeout=60)
        approve(new.id, store=store)

    approver = threading.Thread(target=approve_when_waiting, daemon=True)
    approver.start()
    try:
        result = corral("run", *args, "--json")
    finally:
        approver.join(timeout=10)
        store.close()
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def status(*args: str) -> dict[str, Any]:
    result = corral("status", "--project", str(DEMO), *args, "--json")
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.output)
    return answer


def row(answer: dict[str, Any], service: str) -> dict[str, Any]:
    found = [r for r in answer["services"] if r["service"] == service]
    assert len(found) == 1, answer
    return found[0]


def test_status_shows_revisions_roles_traffic_and_last_deployments_then_drift(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'corral.db'}"
    store = ["--store", url]
    prepared = prepare_sandbox(sandbox.endpoint_url)
    bg = [a for k, v in pipeline_inputs(prepared, "demo_bluegreen").items() for a in ("--input", f"{k}={v}")]

    before = row(status(*store), "demo_web")
    assert (before["live"]["exists"], before["deployed"], before["ecs_service"]) == (False, None, "demo-web")

    rolled = corral("run", "demo_rolling", "--project", str(DEMO), *store, *aws, "--input", "tag=1", "--json")
    assert rolled.exit_code == 0, rolled.output
    first = run_approved(url, ["demo_bluegreen", "--project", str(DEMO), *store, *bg, "--input", "tag=1"])
    second = run_approved(url, ["demo_bluegreen", "--project", str(DEMO), *store, *bg, "--input", "tag=2"])

    answer = status(*store)
    web = row(answer, "demo_web")
    (live_web,) = web["live"]["services"]
    assert (live_web["name"], live_web["images"], live_web["task_definition"]) == (
        "demo-web",
        [f"{REGISTRY}/demo/web:1"],
        "demo-web:1",
    )
    assert live_web["counts"] == {"running": 2, "desired": 2, "pending": 0}
    assert live_web["deployments"][0]["rollout_state"] == "COMPLETED"
    deployed = web["deployed"]
    assert (deployed["execution_id"], deployed["tag"], deployed["triggered_by"], deployed["status"]) == (
        json.loads(rolled.output)["id"],
        "1",
        "cli",
        "Success",
    )
    assert web["drift"] == [] and web["error"] is None

    # blue green: the second run's service is BLUE and takes all production traffic
    pair = row(answer, "demo_bg")
    assert pair["live"]["kind"] == "blue green"
    roles = {s["name"]: (s["role"], s["serves_production"], s["images"]) for s in pair["live"]["services"]}
    assert roles == {
        "demo-bg__2": ("BLUE", True, [f"{REGISTRY}/demo/bg:2"]),
        "demo-bg__1": ("GREEN", False, [f"{REGISTRY}/demo/bg:1"]),
    }
    production = [r for r in pair["live"]["routes"] if r["role"] == "production"]
    assert len(production) == 1
    live_targets = [
        (t["percent"], t["services"], t["healthy"]) for t in production[0]["targets"] if t["weight"]
    ]
    assert live_targets == [(100, ["demo-bg__2"], 2)]
    assert pair["deployed"]["execution_id"] == second["id"] != first["id"]
    assert pair["deployed"]["tag"] == "2" and pair["drift"] == []

    # someone runs another image by hand: drift, in JSON and in the table
    ecs = sandbox.client("ecs")
    definition = ecs.describe_task_definition(taskDefinition="demo-web:1")["taskDefinition"]
    keep = ("family", "containerDefinitions", "networkMode", "requiresCompatibilities", "cpu", "memory")
    request = {k: definition[k] for k in keep if k in definition}
    request["containerDefinitions"] = [
        {**c, "image": f"{REGISTRY}/demo/web:hotfix"} for c in request["containerDefinitions"]
    ]
    for key in ("executionRoleArn", "taskRoleArn"):
        if key in definition:
            request[key] = definition[key]
    hotfix = ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]
    ecs.update_service(cluster="corral-demo", service="demo-web", taskDefinition=hotfix)

    # an Application Auto Scaling range set by hand shows too
    sandbox.client("application-autoscaling").register_scalable_target(
        ServiceNamespace="ecs",
        ResourceId="service/corral-demo/demo-web",
        ScalableDimension="ecs:service:DesiredCount",
        MinCapacity=1,
        MaxCapacity=4,
    )
    web = row(status(*store, "--service", "demo_web"), "demo_web")
    assert web["live"]["services"][0]["autoscaling"] == {"min": 1, "max": 4}
    assert web["drift"] == [
        f"demo-web runs {REGISTRY}/demo/web:hotfix; execution #1 of demo_rolling deployed {REGISTRY}/demo/web:1",
        "demo-web runs task definition demo-web:2; execution #1 of demo_rolling registered demo-web:1",
    ]
    table = corral("status", "--project", str(DEMO), *store)
    assert table.exit_code == 0, table.output
    lines = table.output.splitlines()
    assert lines[0].startswith("Environment Sandbox (sandbox, PreProduction) · infrastructure sandbox")
    assert lines[1].split() == [
        "SERVICE",
        "ECS",
        "SERVICE",
        "ROLE",
        "REVISION",
        "IMAGE",
        "TASKS",
        "ROLLOUT",
        "TRAFFIC",
        "SCALING",
    ]
    cells = {line.split()[1]: line.split() for line in lines[2:] if line.startswith("demo_")}
    assert (
        cells["demo-bg__2"][2:5] == ["BLUE", "demo-bg:2", "demo/bg:2"] and "production" in cells["demo-bg__2"]
    )
    assert cells["demo-bg__1"][2] == "GREEN" and cells["demo-bg__1"][-2:] == ["stage", "100%"]
    assert [line.split()[1] for line in lines[2:4]] == ["demo-bg__2", "demo-bg__1"]  # BLUE first
    assert cells["demo-web"][2:4] == ["demo-web:2", "demo/web:hotfix"] and cells["demo-web"][-1] == "1-4"
    assert (
        f"  ! drift: demo_web: demo-web runs {REGISTRY}/demo/web:hotfix; execution #1 of demo_rolling"
        in table.output
    )
    assert "  demo_web: last deployed #1 of demo_rolling (stage deploy), tag 1, by cli, " in table.output


def test_filters_pick_rows_and_an_unknown_one_is_refused_before_aws(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    sandbox.admin.clear_calls()
    only = status(*store, "--service", "demo_web", "--env", "sandbox")
    assert [r["service"] for r in only["services"]] == ["demo_web"]
    assert {r["service"] for r in status(*store, "--env", "sandbox")["services"]} >= {"demo_web", "demo_bg"}
    calls = len(sandbox.admin.calls())
    for option, value, message in (
        ("--service", "nope", "no service 'nope'; the project's: demo_bg, demo_job, demo_linear"),
        ("--env", "prod", "no environment 'prod'; the project's: sandbox"),
    ):
        result = corral("status", "--project", str(DEMO), *store, option, value)
        assert result.exit_code == 2 and message in result.output, result.output
    assert len(sandbox.admin.calls()) == calls  # refused before reading AWS


def test_an_ecs_blue_green_service_shows_its_service_deployment_and_production_target_group(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    prepared = prepare_sandbox(sandbox.endpoint_url)
    inputs = {**pipeline_inputs(prepared, "demo_native"), "url": f"{sandbox.endpoint_url}/_sandbox/health"}
    args = [a for k, v in inputs.items() for a in ("--input", f"{k}={v}")]
    ran = corral("run", "demo_native", "--project", str(DEMO), *store, *args, "--input", "tag=1")
    assert ran.exit_code == 0, ran.output

    native = row(status(*store, "--service", "demo_native"), "demo_native")
    assert native["live"]["kind"] == "ECS blue/green"
    (service,) = native["live"]["services"]
    deployment = service["service_deployment"]
    assert (deployment["status"], deployment["strategy"]) == ("SUCCESSFUL", "BLUE_GREEN")
    roles = {group["arn"]: group["role"] for group in service["target_groups"]}
    assert set(roles) == {prepared["nativeBlueTargetGroup"], prepared["nativeGreenTargetGroup"]}
    (production,) = [arn for arn, role in roles.items() if role == "production"]
    rules = {route["rule_arn"]: route for route in native["live"]["routes"]}
    assert rules[prepared["nativeProductionRule"]]["role"] == "production"
    assert rules[prepared["nativeTestRule"]]["role"] == "test"
    weights = {t["arn"]: t["percent"] for t in rules[prepared["nativeProductionRule"]]["targets"]}
    assert weights[production] == 100 and sum(weights.values()) == 100
    assert native["drift"] == [] and native["deployed"]["tag"] == "1"


def test_aws_out_of_reach_is_said_on_each_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No sandbox listening where AWS_ENDPOINT_URL points: each row says AWS could not be read."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    for key, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(key, value)
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}", "--aws-timeout", "0.5"]
    answer = status(*store)
    web = row(answer, "demo_web")
    assert web["live"] is None and web["error"] in (
        "AWS could not be read: no answer from http://127.0.0.1:1 within 0.5 s",  # retried until the deadline
        'AWS could not be read: Could not connect to the endpoint URL: "http://127.0.0.1:1/"',
    )
    assert {r["error"] for r in answer["services"]} == {web["error"]}  # every row, tried once
    table = corral("status", "--project", str(DEMO), *store, "--service", "demo_web")
    assert table.exit_code == 0
    assert f"  ! demo_web: {web['error']}" in table.output


def test_a_failed_rolled_back_deployment_is_shown_apart_and_is_no_drift(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    sandbox.admin.set_images({"image": "*:broken", "crashAfter": 2})  # its containers crash after they start
    good = corral("run", "demo_rolling", "--project", str(DEMO), *store, *aws, "--input", "tag=1")
    assert good.exit_code == 0, good.output
    broken = corral("run", "demo_rolling", "--project", str(DEMO), *store, *aws, "--input", "tag=broken")
    assert broken.exit_code == 1, broken.output

    web = row(status(*store, "--service", "demo_web"), "demo_web")
    assert (web["deployed"]["sequence_id"], web["deployed"]["tag"]) == (1, "1")
    attempt = web["last_attempt"]
    assert (attempt["sequence_id"], attempt["tag"], attempt["status"], attempt["rolled_back"]) == (
        2,
        "broken",
        "Failed",
        True,
    )
    assert web["live"]["services"][0]["images"] == [f"{REGISTRY}/demo/web:1"]  # the rollback put :1 back
    assert web["drift"] == []
    table = corral("status", "--project", str(DEMO), *store, "--service", "demo_web").output
    assert "  demo_web: since then #2 of demo_rolling (stage deploy), tag broken, by cli, " in table
    assert ", Failed, rolled back [" in table and "drift" not in table

    # the service's history: both deployments, newest first
    history = corral("status", "--project", str(DEMO), *store, "--service", "demo_web", "--history")
    assert history.exit_code == 0, history.output
    lines = history.output.splitlines()
    assert len(lines) == 2 and lines[0].startswith(
        "sandbox/sandbox  #2 of demo_rolling (stage deploy), tag broken"
    )
    assert lines[1].startswith("sandbox/sandbox  #1 of demo_rolling (stage deploy), tag 1, by cli, ")
    listed = json.loads(
        corral(
            "status", "--project", str(DEMO), *store, "--service", "demo_web", "--history", "--json"
        ).output
    )
    assert [(d["sequence_id"], d["status"]) for d in listed] == [(2, "Failed"), (1, "Success")]
    lone = corral("status", "--project", str(DEMO), *store, "--history")
    assert lone.exit_code == 2 and "give the service whose history to show" in lone.output
