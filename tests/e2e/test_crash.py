"""kill -9 of the runner process at each step boundary and in the middle of each wait of the
blue green pipeline, then `resume` in a new process: the end state is that of an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from corral.engine import get_execution
from corral.store import Store

from .approvals import approver as start_approver
from .approvals import waiting_for_approval
from .conftest import Demo, aws_environment
from .state import forward_group, image_of, listener_actions, services
from .test_bluegreen import bluegreen

ROOT = Path(__file__).resolve().parents[2]
Point = Callable[[Store, str], bool]


def _step(store: Store, execution_id: str, identifier: str) -> Any:
    return next((s for s in store.steps(execution_id) if s.identifier == identifier), None)


def _checkpoint(store: Store, execution_id: str, identifier: str) -> dict[str, Any]:
    step = _step(store, execution_id, identifier)
    return (store.latest_checkpoint(execution_id, step.key) or {}) if step is not None else {}


def _status(identifier: str, status: str) -> Point:
    return lambda store, eid: getattr(_step(store, eid, identifier), "status", None) == status


KILL_POINTS: dict[str, Point] = {
    # Create Service: rollback data saved, nothing changed yet
    "create-prepared": lambda s, e: "greenServiceName" in _checkpoint(s, e, "EcsBlueGreenCreateService"),
    # Create Service: the green service asked for, waiting for its steady state
    "create-waiting": lambda s, e: (
        _checkpoint(s, e, "EcsBlueGreenCreateService").get("greenAction") is not None
    ),
    "create-done": _status("EcsBlueGreenCreateService", "Success"),
    "approval-waiting": waiting_for_approval,
    "swap-started": _status("EcsBlueGreenSwapTargetGroups", "Running"),
    # Swap: prod swapped, waiting before downsizing the old service
    "swap-waiting": lambda s, e: bool(_checkpoint(s, e, "EcsBlueGreenSwapTargetGroups").get("prodSwapped")),
    "swap-done": _status("EcsBlueGreenSwapTargetGroups", "Success"),
}


def _runner(demo: Demo, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **aws_environment(demo.sandbox.endpoint_url)}
    return subprocess.Popen(
        [sys.executable, "-m", "tests.e2e.runner", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )


def _end_state(demo: Demo) -> dict[str, Any]:
    ecs, elb = demo.client("ecs"), demo.client("elbv2")
    live = services(ecs)
    for service in live.values():
        service["image"] = image_of(ecs, service.pop("taskDefinition")).rsplit("/", 1)[-1]
    actions = listener_actions(elb, demo.prepared["prodListener"], demo.prepared["stageListener"])
    return {"services": live, "routes": [forward_group(a) for a in actions]}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_kill_9_then_resume_ends_as_an_uninterrupted_run(demo: Demo, point: str) -> None:
    assert bluegreen(demo, "1").status == "Success"
    delay = "1" if point == "swap-waiting" else "0"
    inputs = demo.inputs("demo_bluegreen", tag="2", downsizeOldServiceDelayInSecs=delay)
    runner = _runner(demo, "run", demo.store_url, "demo_bluegreen", json.dumps(inputs))
    assert runner.stdout is not None
    execution_id = runner.stdout.readline().strip()
    stop = threading.Event()
    # approval is given by the approver, except while the kill waits for the approval itself
    approver = None if point in ("approval-waiting",) else start_approver(demo.store, execution_id, stop)
    deadline = time.monotonic() + 60
    while not KILL_POINTS[point](demo.store, execution_id):
        assert runner.poll() is None, f"the runner ended before {point}"
        assert time.monotonic() < deadline, f"never reached {point}"
        time.sleep(0.01)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    if approver is None:
        approver = start_approver(demo.store, execution_id, stop)

    resumed = _runner(demo, "resume", demo.store_url, execution_id)
    try:
        assert resumed.wait(120) == 0
    finally:
        stop.set()
        approver.join()
    execution = get_execution(execution_id, store=demo.store)
    assert execution.status == "Success", execution.error

    prod, stage = demo.prepared["prodTargetGroupArn"], demo.prepared["stageTargetGroupArn"]
    assert _end_state(demo) == {
        "services": {
            "demo-bg__1": {
                "desiredCount": 0,
                "tags": {"BG_VERSION": "GREEN"},
                "targetGroups": [stage],
                "image": "bg:1",
            },
            "demo-bg__2": {
                "desiredCount": 2,
                "tags": {"BG_VERSION": "BLUE"},
                "targetGroups": [prod],
                "image": "bg:2",
            },
        },
        "routes": [prod, stage],
    }
