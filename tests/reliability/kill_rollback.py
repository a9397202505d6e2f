"""The runner killed at each step boundary of each rollback: the rolling, canary, blue green,
basic and traffic shift demo pipelines (examples/sandbox-demo) release an image that cannot be
pulled (as provisioned_demo's failing run does) over a good release of tag 1, so a deploy step
fails and the stage's rollback steps run. The release runs in its own process (`RUN`, below),
which holds right after the store has recorded the rollback step `Running` (the step's code not
yet started) or `Success` (nothing after it started), and is killed there with SIGKILL; `resume`
then continues the execution in this process.

Verdict: the execution ends Failed and the demo cluster is exactly as before the release: the
services as kill.py compares them (task definition revision, counts, tags, target groups; blue
green: both listeners' routes; traffic shift: the prod rule's weights), and the whole end state
as the rest of the matrix compares it (end_state.py: deployments, task definition content,
autoscaling, listener rules, target registrations, Cloud Map), read once it has settled.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import kill
from .demo_state import differences, whole_state

# pipeline -> (the step the broken image fails, the stage's rollback steps in the order they run)
ROLLBACKS: dict[str, tuple[str, tuple[str, ...]]] = {
    "demo_rolling": ("EcsRollingDeploy", ("EcsRollingRollback",)),
    # the canary's one task cannot start: Canary Deploy fails; its rollback deletes the canary,
    # then rolls the service back (nothing to do: the service was not touched)
    "demo_canary": ("EcsCanaryDeploy", ("EcsCanaryDeleteRollback", "EcsRollingRollback")),
    "demo_bluegreen": ("EcsBlueGreenCreateService", ("EcsBlueGreenRollback",)),
    # Service Setup makes demo-web__2 at 0 tasks; the first phase's tasks cannot start
    "demo_basic": ("EcsUpgradeContainer_50", ("EcsBasicRollback",)),
    "demo_trafficshift": (
        "EcsBlueGreenCreateService",
        ("EcsBlueGreenTrafficShiftRollback", "EcsBlueGreenRollback"),
    ),
}


@dataclass(frozen=True)
class RollbackKill:
    pipeline: str
    step: str  # a rollback step
    status: str  # "Running": killed as it starts; "Success": as it ends

    @property
    def what(self) -> str:
        return f"failing release, killed when rollback step {self.step} is {self.status}"

    @property
    def id(self) -> str:
        return f"{self.pipeline}: {self.what}"


def rollback_kills(fast: bool = False) -> list[RollbackKill]:
    if fast:  # one kill inside a rollback step, one between two rollback steps
        return [
            RollbackKill("demo_rolling", "EcsRollingRollback", "Running"),
            RollbackKill("demo_trafficshift", "EcsBlueGreenTrafficShiftRollback", "Success"),
        ]
    return [
        RollbackKill(pipeline, step, status)
        for pipeline, (_, steps) in ROLLBACKS.items()
        for step in steps
        for status in ("Running", "Success")
    ]


def run_rollback_kill(point: RollbackKill) -> tuple[str, float]:
    """(outcome, seconds): "restored" or "BROKEN: ..."."""
    from corral.config import load_project
    from corral.demo import pipeline_inputs, prepare_sandbox
    from corral.engine import EmbeddedExecutor, create_execution, get_execution, resume
    from corral.sandbox import Sandbox
    from corral.store import Store
    from corral.wiring.ecs_steps import set_poll_policy
    from tests.e2e.approvals import approver

    started = time.monotonic()
    saved = {k: os.environ.get(k) for k in kill._environment("")}
    stop = threading.Event()
    approvals: list[threading.Thread] = []
    with Sandbox(speed=kill.SPEED) as sandbox, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(kill._environment(sandbox.endpoint_url))
        set_poll_policy(kill.FAST_POLLS)
        url = f"sqlite:///{Path(tmp) / 'corral.db'}"
        store = Store.open(url)
        try:
            project = load_project(kill.DEMO)
            prepared = prepare_sandbox(sandbox.endpoint_url)
            first = kill.FIRST[point.pipeline]
            record = create_execution(
                project, first, store=store, inputs={**pipeline_inputs(prepared, first), "tag": "1"}
            )
            approvals.append(approver(store, record.id, stop))  # blue green's swap
            EmbeddedExecutor(store, project, kill._options()).run(record.id)
            if get_execution(record.id, store=store).status != "Success":
                return "BROKEN: the first deployment failed", time.monotonic() - started
            before = kill._state(sandbox, prepared, point.pipeline), whole_state(sandbox)
            sandbox.admin.set_images(kill.BROKEN_IMAGE)

            inputs = {
                **pipeline_inputs(prepared, point.pipeline),
                "tag": "broken",
                **kill.SECOND.get(point.pipeline, {}),
            }
            runner = subprocess.Popen(
                [sys.executable, "-m", "tests.reliability.kill_rollback", "RUN", point.pipeline, url,
                 json.dumps(inputs), str(kill.DEMO), point.step, point.status],
                cwd=Path(__file__).resolve().parents[2],
                stdout=subprocess.PIPE,
                text=True,
            )  # fmt: skip
            assert runner.stdout is not None
            execution_id = runner.stdout.readline().strip()
            reached = runner.stdout.readline().strip() == "held"  # "": it ended without holding
            if runner.poll() is None:
                runner.send_signal(signal.SIGKILL)
            runner.wait()
            if not reached:
                early = get_execution(execution_id, store=store)
                steps = [(s.identifier, s.status) for s in early.steps]
                return (
                    f"BROKEN: the kill point was not reached: {early.status} ({early.error}), steps {steps}",
                    time.monotonic() - started,
                )

            ended = resume(execution_id, store=store, project=project, options=kill._options())
            return _verdict(sandbox, prepared, point, ended, before), time.monotonic() - started
        finally:
            stop.set()
            for thread in approvals:
                thread.join()
            set_poll_policy(None)
            store.close()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _verdict(
    sandbox: Any, prepared: dict[str, Any], point: RollbackKill, ended: Any, before: tuple[Any, Any]
) -> str:
    failed_step, _ = ROLLBACKS[point.pipeline]
    statuses = {s.identifier: s.status for s in ended.steps}
    if ended.status == "Success" or statuses.get(failed_step) != "Failed":
        return f"BROKEN: the failing release ended {ended.status}, {failed_step} {statuses.get(failed_step)}"
    services, whole = kill._state(sandbox, prepared, point.pipeline), whole_state(sandbox)
    if (services, whole) == before:
        return "restored"
    found = differences(before[0], services) + differences(before[1], whole)
    if found:  # once more after a longer settle (a drain still under way)
        services, whole = kill._state(sandbox, prepared, point.pipeline), whole_state(sandbox, settle=20)
        found = differences(before[0], services) + differences(before[1], whole)
    if not found:
        return "restored"
    return f"BROKEN: {ended.status} and not restored: " + "; ".join(found[:5])


def _run_held(pipeline: str, url: str, inputs: str, root: str, step: str, status: str) -> None:
    """The process that gets killed: kill.py's runner, held (until killed) once a write to the
    store has recorded `step` at `status`; it prints `held` when it holds."""
    from corral.store import Store

    write = Store.write

    def write_then_hold(self: Store, execution_id: str, batch: Any) -> None:
        write(self, execution_id, batch)
        if any(row.get("identifier") == step and row.get("status") == status for row in batch.steps):
            print("held", flush=True)
            threading.Event().wait()

    Store.write = write_then_hold  # type: ignore[method-assign]
    kill._run(pipeline, url, inputs, root)


if __name__ == "__main__":
    if sys.argv[1] == "RUN":
        _run_held(*sys.argv[2:8])
