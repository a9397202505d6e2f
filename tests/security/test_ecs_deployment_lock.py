"""One deployment per ECS service, whoever starts it (issue 12, item 7).

A `corral run` process (its own SQLite store) and a `corral server` (another store) deploy the
same sandbox ECS service: before changing it, each looks at ECS itself, so one waits for the
other's deployment and names it; `--no-wait` fails at once and changes nothing; a deployment
started with plain boto3 (as from the console) is waited for; an execution resumed after kill -9
does not wait for the deployment it started itself.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path
from typing import Any

import pytest

from corral.aws.poller import PollPolicy
from corral.sandbox import Sandbox
from corral.store import Store
from corral.wiring.ecs_steps import set_poll_policy
from tests.server.helpers import live_server

from .ecslock_helpers import CLUSTER, PIPELINE, SERVICE, SLOW_START, World, eventually

pytestmark = pytest.mark.sandbox(speed=150)

WAITING = "has a deployment in progress that this execution did not start"


@pytest.fixture
def world(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    set_poll_policy(PollPolicy(fast=0.1, growth=1.5, slowest=0.4, min_gap=0.05, round_window=30.0))
    try:
        yield World.create(sandbox, tmp_path, monkeypatch)  # type: ignore[misc]
    finally:
        set_poll_policy(None)


def _cli_logs(world: World, execution_id: str | None = None) -> list[str]:
    store = Store.for_project(world.root / "cli")
    try:
        records = store.executions(limit=1) if execution_id is None else [store.execution(execution_id)]
        return [line.message for r in records if r is not None for line in store.logs(r.id)]
    finally:
        store.close()


def _server_logs(api: Any, execution_id: str) -> list[str]:
    return [line["message"] for line in api.get(f"/executions/{execution_id}/logs")]


def _finished(run: subprocess.Popen[str]) -> dict[str, Any]:
    out, err = run.communicate(timeout=180)
    assert out, err
    result: dict[str, Any] = json.loads(out)
    return result


def _ran_rollback(steps: list[dict[str, Any]]) -> list[str]:
    return [s["identifier"] for s in steps if "Rollback" in s["type"] and s["status"] != "Skipped"]


def _deploy_first(world: World) -> str:
    """The service exists, running tag 1 (so later deployments update it); the execution's id."""
    first = _finished(world.spawn_run("1"))
    assert first["status"] == "Success"
    return str(first["id"])


def _console_deploys(world: World, tag: str) -> dict[str, Any]:
    """What someone does in the console: a new revision with another image, UpdateService."""
    ecs = world.ecs
    live = world.service()
    current = ecs.describe_task_definition(taskDefinition=live["taskDefinition"])["taskDefinition"]
    request = {
        k: current[k]
        for k in ("family", "containerDefinitions", "networkMode", "requiresCompatibilities", "cpu", "memory")
        if k in current
    }
    for key in ("executionRoleArn", "taskRoleArn"):
        if key in current:
            request[key] = current[key]
    image = request["containerDefinitions"][0]["image"].rsplit(":", 1)[0]
    request["containerDefinitions"][0]["image"] = f"{image}:{tag}"
    arn = ecs.register_task_definition(**request)["taskDefinition"]["taskDefinitionArn"]
    service = ecs.update_service(cluster=CLUSTER, service=SERVICE, taskDefinition=arn)["service"]
    primary: dict[str, Any] = service["deployments"][0]
    return primary


# ---------------------------------------------------------------- the acceptance scenario


def test_cli_run_and_server_deploying_one_service_one_waits_both_succeed_second_wins(
    world: World, tmp_path: Path
) -> None:
    cli = world.spawn_run("slow")
    cli_deployment = eventually("the CLI run's deployment in flight", lambda: world.in_flight("slow"))

    with live_server(tmp_path / "server") as live:
        api = live.client()
        started = api.post(
            f"/projects/demo/pipelines/{PIPELINE}/executions", {"inputs": world.inputs("2")}, 202
        ).json()
        waiting = eventually(
            "the server's step waiting for the CLI's deployment",
            lambda: [m for m in _server_logs(api, started["id"]) if WAITING in m],
        )
        # while it waits, the server changed nothing: the CLI's deployment is still the PRIMARY
        assert world.in_flight("slow") == cli_deployment
        world.finish_slow_tasks()

        cli_result = _finished(cli)
        server_result = api.wait(started["id"], timeout=180)

    assert cli_result["status"] == "Success", cli_result
    assert server_result["status"] == "Success", server_result
    assert (
        f"deployment {cli_deployment['id']} (task definition {cli_deployment['taskDefinition']}" in waiting[0]
    )
    assert _ran_rollback(cli_result["steps"]) == [] and _ran_rollback(server_result["steps"]) == []
    service = world.service()
    assert world.image_of(service["taskDefinition"]).endswith("demo/web:2")
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    assert not [e for e in world.events() if "rolling back" in e or "deployment failed" in e]


def test_started_together_whoever_deploys_second_waits_and_wins(world: World, tmp_path: Path) -> None:
    """No head start: either the later one sees the other's deployment and waits, or both found
    the service free and updated it, and the one replaced waits for the other and deploys again.
    Either way exactly one of them waits, both succeed, and the service ends on that one's image."""
    world.sandbox.admin.set_images(*({"image": f"*:{tag}", "startDelay": SLOW_START} for tag in "ab"))
    with live_server(tmp_path / "server") as live:
        api = live.client()
        cli = world.spawn_run("a", json_output=False)
        started = api.post(
            f"/projects/demo/pipelines/{PIPELINE}/executions", {"inputs": world.inputs("b")}, 202
        ).json()
        assert cli.stdout is not None
        cli_id = cli.stdout.readline().split()[1]  # "execution ID (...)": its store is ready

        def waiting() -> dict[str, bool] | None:
            found = {
                "a": any(WAITING in m for m in _cli_logs(world, cli_id)),
                "b": any(WAITING in m for m in _server_logs(api, started["id"])),
            }
            return found if any(found.values()) else None

        # neither deployment can finish before the clock moves, so their deploy steps overlap
        waited = eventually("one of them waiting for the other", waiting)
        (second,) = [tag for tag, did in waited.items() if did]
        world.finish_slow_tasks()  # the first one's deployment completes ...
        eventually("the second deployment", lambda: world.in_flight(second))
        world.finish_slow_tasks()  # ... then the second one's
        cli.communicate(timeout=180)
        server_result = api.wait(started["id"], timeout=180)
        assert waiting() == waited  # the first one never waited

    cli_result = _cli_execution(world, cli_id)
    assert cli_result["status"] == "Success", cli_result
    assert server_result["status"] == "Success", server_result
    assert world.image_of(world.service()["taskDefinition"]).endswith(f"demo/web:{second}")
    assert _ran_rollback(cli_result["steps"]) == [] and _ran_rollback(server_result["steps"]) == []
    assert not [e for e in world.events() if "rolling back" in e or "deployment failed" in e]


def _cli_execution(world: World, execution_id: str) -> dict[str, Any]:
    store = Store.for_project(world.root / "cli")
    try:
        record = store.execution(execution_id)
        assert record is not None
        steps = [
            {"identifier": s.identifier, "type": s.type, "status": s.status} for s in store.steps(record.id)
        ]
        return {"status": record.status, "steps": steps}
    finally:
        store.close()


# ---------------------------------------------------------------- --no-wait


def test_no_wait_fails_at_once_naming_the_deployment_and_changes_nothing(
    world: World, tmp_path: Path
) -> None:
    _deploy_first(world)
    console = _console_deploys(world, "slow")
    family = world.service()["taskDefinition"].rsplit("/", 1)[-1].split(":")[0]
    revisions = world.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"]

    refused = _finished(world.spawn_run("2", "--no-wait"))
    with live_server(tmp_path / "server") as live:
        api = live.client()
        started = api.post(
            f"/projects/demo/pipelines/{PIPELINE}/executions",
            {"inputs": world.inputs("3"), "no_wait": True},
            202,
        ).json()
        refused_by_server = api.wait(started["id"], timeout=60)

    for result in (refused, refused_by_server):
        assert result["status"] == "Failed"
        (deploy,) = [s for s in result["steps"] if s["identifier"] == "EcsRollingDeploy"]
        assert WAITING in deploy["error"] and console["id"] in deploy["error"]
        assert "not waiting" in deploy["error"] and "Nothing was changed" in deploy["error"]
    assert world.in_flight("slow") is not None
    primary = world.service()["deployments"][0]
    assert primary["id"] == console["id"] and len(world.service()["deployments"]) == 2
    assert world.ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"] == revisions


# ---------------------------------------------------------------- a deployment from the console


def test_a_deployment_started_outside_corral_is_waited_for(world: World) -> None:
    _deploy_first(world)
    console = _console_deploys(world, "slow")

    run = world.spawn_run("2")
    waiting = eventually(
        "the CLI run waiting for the console's deployment",
        lambda: [m for m in _cli_logs(world) if WAITING in m and console["id"] in m],
    )
    assert console["taskDefinition"] in waiting[0]
    assert world.service()["deployments"][0]["id"] == console["id"]  # untouched while waiting
    world.finish_slow_tasks()

    result = _finished(run)
    assert result["status"] == "Success", result
    logs = _cli_logs(world, result["id"])
    assert any("is free" in m and console["id"] in m for m in logs)
    assert world.image_of(world.service()["taskDefinition"]).endswith("demo/web:2")
    assert _ran_rollback(result["steps"]) == []


# ---------------------------------------------------------------- kill -9, then resume


def _started_deployments(world: World, before: str) -> list[str]:
    """The deployments the newest execution (not `before`) journaled as started by it."""
    store = Store.for_project(world.root / "cli")
    try:
        (record,) = store.executions(limit=1)
        if record.id == before:
            return []
        step = next((s for s in store.steps(record.id) if s.identifier == "EcsRollingDeploy"), None)
        data = store.latest_checkpoint(record.id, step.key) if step is not None else None
        return list(((data or {}).get("ecsDeployments") or {}).get("started") or [])
    finally:
        store.close()


def test_resume_after_kill_9_does_not_wait_for_its_own_deployment(world: World) -> None:
    first = _deploy_first(world)
    run = world.spawn_run("slow")
    started = eventually(
        "the deployment journaled as this execution's", lambda: _started_deployments(world, first)
    )
    ours = world.in_flight("slow")
    assert ours is not None and ours["id"] in started
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    execution_id = json.loads(
        subprocess.run(
            world.cli("executions", "--json", "--limit", "1"),
            cwd=world.root / "cli",
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )[0]["id"]

    before = len(_cli_logs(world, execution_id))  # what the killed process wrote
    resumed = subprocess.Popen(
        world.cli("resume", execution_id, "--force", "--json"),
        cwd=world.root / "cli",
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    # the re-run step is past its look at ECS and waits for its own deployment's steady state
    eventually(
        "the resumed step waiting for its own deployment",
        lambda: (
            f"Waiting for Service {SERVICE} to reach steady state" in _cli_logs(world, execution_id)[before:]
        ),
    )
    assert world.in_flight("slow") == ours  # still in flight: the resumed step started nothing new
    world.finish_slow_tasks()
    result = _finished(resumed)

    assert result["status"] == "Success", result
    assert not [m for m in _cli_logs(world, execution_id) if WAITING in m]
    assert world.image_of(world.service()["taskDefinition"]).endswith("demo/web:slow")
    assert _ran_rollback(result["steps"]) == []
