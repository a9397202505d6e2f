"""A delegate killed inside each ECS step in distributed mode: the rolling, canary and blue green
demo pipelines (examples/sandbox-demo) run on a Temporal dev server (`temporal server
start-dev`, as tests/delegate starts it), the workflows in this process (a TemporalRunner: what
`corral server --temporal` runs) and every step on a `corral delegate` process.

The delegate is SIGKILLed at a moment inside one ECS step, picked by watching the sandbox's call
log: it is held at the step's first instant (CORRAL_DELEGATE_TEST_PAUSE with ..._RELEASE), the
call log's position taken, then let go and killed

- `before the first AWS call` (held: none made);
- `after the first AWS call` (as soon as the log shows one);
- `after the first change` (the first call that is not a Describe, List or Get);
- `while it waits` (once WAITING_CALLS (2) more calls are answered after the call that starts what
  the step waits for: CreateService, UpdateService, DeleteService, ModifyListener or ModifyRule).

A delegate of the same name is then started again; Temporal gives the step to it once the dead
one's heartbeat times out, from the last checkpoint the step recorded.

Releases: tag 2 (`release`), which must finish as kill.py's runner kills judge it (`_unfinished`),
and an image that cannot be pulled (`failing`, in the step that image fails), whose rollback
must restore exactly: kill.py's `_state` and the whole end state (end_state.py) as before.
Both: nothing created twice: the task definition revisions the release registered each have
their own content; CreateService answered once for each step that creates a service; every
target registration belongs to a running task, and each service has as many as it runs tasks.
"""

from __future__ import annotations

import contextlib
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

from tests.delegate.temporal_server import temporal_dev_server

from . import kill
from .demo_state import differences, whole_state

SPEED = 150.0  # the delegate processes poll with the default policy: the sandbox runs faster
HEARTBEAT_TIMEOUT = 2.0  # seconds without a heartbeat before a step moves to another attempt
# pipeline -> its ECS steps, in the order they run
PIPELINES: dict[str, tuple[str, ...]] = {
    "demo_rolling": ("EcsRollingDeploy",),
    "demo_canary": ("EcsCanaryDeploy", "EcsCanaryDelete", "EcsRollingDeploy"),
    "demo_bluegreen": ("EcsBlueGreenCreateService", "EcsBlueGreenSwapTargetGroups"),
}
# the step an image that cannot be pulled fails (its tasks never start), per pipeline
FAILS = {
    "demo_rolling": "EcsRollingDeploy",
    "demo_canary": "EcsCanaryDeploy",
    "demo_bluegreen": "EcsBlueGreenCreateService",
}
# the steps that create a service (Harness: Canary Deploy makes `<service>Canary`, Blue Green
# Create Service the new version); the service of a rolling deployment already exists here
CREATES_SERVICE = ("EcsCanaryDeploy", "EcsBlueGreenCreateService")
MOMENTS = (
    "before the first AWS call",
    "after the first AWS call",
    "after the first change",
    "while it waits",
)
# 2, not 4: since the settle forecast (ecs/settle_forecast.py) reads less while waiting, a rolling
# step at this sandbox speed could end before a 4th call after its UpdateService (full run on
# 6d092c7: "EcsRollingDeploy ended before the moment")
WAITING_CALLS = 2
READS = ("Describe", "List", "Get")
# the call that starts what an ECS step then waits for (a deployment, a deletion, a listener cut-over)
DEPLOYING = ("CreateService", "UpdateService", "DeleteService", "ModifyListener", "ModifyRule")


@dataclass(frozen=True)
class DelegateKill:
    pipeline: str
    step: str
    moment: str
    release: str = "release"  # or "failing": an image that cannot be pulled

    @property
    def what(self) -> str:
        return f"{self.release}, delegate killed in {self.step} {self.moment}"

    @property
    def id(self) -> str:
        return f"{self.pipeline}: {self.what}"


def delegate_kills(fast: bool = False) -> list[DelegateKill]:
    # (tests/delegate/test_ecs_kills.py kills each ECS step before its first call in the suite)
    if fast:  # a failing release killed after its first change, and the canary's wait (a re-run
        # once made the canary service again); tests/delegate/test_ecs_kills.py kills the rolling
        # deploy at each of its checkpoints in the suite
        return [
            DelegateKill("demo_canary", "EcsCanaryDeploy", "while it waits"),
            DelegateKill("demo_bluegreen", "EcsBlueGreenCreateService", "after the first change", "failing"),
        ]
    found = [
        DelegateKill(pipeline, step, moment)
        for pipeline, steps in PIPELINES.items()
        for step in steps
        for moment in MOMENTS
    ]
    found += [DelegateKill(p, step, moment, "failing") for p, step in FAILS.items() for moment in MOMENTS]
    return found


class Delegates:
    """`corral delegate` processes (tag `default`), each one's stderr in a file."""

    def __init__(self, tmp: Path, temporal: str, env: dict[str, str]) -> None:
        self.tmp, self.temporal, self.env = tmp, temporal, env
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, name: str, **env: str) -> subprocess.Popen[bytes]:
        log = self.tmp / f"delegate-{name}-{len(self.started)}.err"
        process = subprocess.Popen(
            [sys.executable, "-m", "corral.cli", "delegate", "--name", name, "--tags", "default",
             "--temporal", self.temporal, "--heartbeat-every", "0.25"],
            stderr=log.open("wb"),
            env={**self.env, **env},
        )  # fmt: skip
        self.started.append(process)
        return process

    def stderr(self, index: int) -> str:
        logs = sorted(self.tmp.glob(f"delegate-*-{index}.err"))
        return logs[0].read_text() if logs else ""

    def close(self) -> None:
        for process in self.started:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGTERM)
        for process in self.started:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()


def run_delegate_kill(point: DelegateKill) -> tuple[str, float]:
    """(outcome, seconds): "finished", "restored" or "BROKEN: ..."."""
    from corral.config import load_project
    from corral.delegate.step_activity import PAUSE_ENV, RELEASE_ENV
    from corral.delegate.temporal_runner import TemporalRunner
    from corral.demo import pipeline_inputs, prepare_sandbox
    from corral.engine import EmbeddedExecutor, create_execution, get_execution
    from corral.sandbox import Sandbox
    from corral.store import Store
    from corral.wiring.ecs_steps import set_poll_policy
    from tests.e2e.approvals import approver

    started = time.monotonic()
    saved = {k: os.environ.get(k) for k in kill._environment("")}
    stop = threading.Event()
    threads: list[threading.Thread] = []
    with (
        Sandbox(speed=SPEED) as sandbox,
        tempfile.TemporaryDirectory() as directory,
        temporal_dev_server(Path(directory)) as temporal,
    ):
        tmp = Path(directory)
        os.environ.update(kill._environment(sandbox.endpoint_url))
        env = {k: v for k, v in os.environ.items() if k not in (PAUSE_ENV, RELEASE_ENV, "AWS_PROFILE")}
        store = Store.open(f"sqlite:///{tmp / 'corral.db'}")
        delegates = Delegates(tmp, temporal, env)
        runner = TemporalRunner(store, target=temporal, heartbeat_timeout=HEARTBEAT_TIMEOUT)
        try:
            runner.serve()
            _trace(started, "temporal up")
            # the delegate to be killed starts now (it takes only the release's steps, and starts
            # while the release before runs): held at the first instant of the step
            release_file = tmp / "go"
            doomed = delegates.start(
                "worker", **{PAUSE_ENV: f"start@{point.step}", RELEASE_ENV: str(release_file)}
            )
            project = load_project(kill.DEMO)
            prepared = prepare_sandbox(sandbox.endpoint_url)
            first = kill.FIRST[point.pipeline]
            # the release before: embedded, here (its approvals given by a thread)
            set_poll_policy(kill.FAST_POLLS)
            record = create_execution(
                project, first, store=store, inputs={**pipeline_inputs(prepared, first), "tag": "1"}
            )
            threads.append(approver(store, record.id, stop))
            EmbeddedExecutor(store, project, kill._options()).run(record.id)
            set_poll_policy(None)
            if get_execution(record.id, store=store).status != "Success":
                return "BROKEN: the first deployment failed", time.monotonic() - started
            _trace(started, "first release")
            before = kill._state(sandbox, prepared, point.pipeline), whole_state(sandbox)
            _trace(started, "before read")
            definitions = _revisions(sandbox)
            failing = point.release == "failing"
            if failing:
                sandbox.admin.set_images(kill.BROKEN_IMAGE)

            inputs = {**pipeline_inputs(prepared, point.pipeline), "tag": "broken" if failing else "2"}
            record = create_execution(project, point.pipeline, store=store, inputs=inputs)
            execution_id = record.id
            release_seq = sandbox.admin.last_call()
            runner.start(execution_id)
            threads.append(_distributed_approver(runner, store, execution_id, stop))

            made = _kill_at(point, sandbox, delegates, doomed, release_file)
            if isinstance(made, str):
                return f"BROKEN: {made}", time.monotonic() - started
            _trace(started, f"killed after {made} calls")
            delegates.start("worker")  # the same delegate, started again
            try:
                status = runner.wait(execution_id, 180)
            except TimeoutError:
                steps = [(s.identifier, s.status) for s in get_execution(execution_id, store=store).steps]
                return f"BROKEN: the execution did not end: {steps}", time.monotonic() - started
            _trace(started, f"ended {status}")
            ended = get_execution(execution_id, store=store)
            after = whole_state(sandbox)
            problems = _created_twice(sandbox, release_seq, definitions, ended, after)
            problems += _ended(sandbox, prepared, point, status, ended, before, after)
            outcome = "restored" if failing else "finished"
            if problems:
                outcome = "BROKEN: " + "; ".join(problems[:5])
            return outcome, time.monotonic() - started
        finally:
            stop.set()
            for thread in threads:
                thread.join()
            set_poll_policy(None)
            delegates.close()
            runner.close()
            store.close()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _kill_at(
    point: DelegateKill, sandbox: Any, delegates: Delegates, doomed: subprocess.Popen[bytes], release: Path
) -> int | str:
    """Hold the delegate at the step's first instant, let it go, SIGKILL it at the moment: the
    number of AWS calls the step had made (or what went wrong)."""
    deadline = time.monotonic() + 120
    while "paused at start of" not in delegates.stderr(0):
        if doomed.poll() is not None or time.monotonic() > deadline:
            return f"the delegate never started {point.step}: {delegates.stderr(0)[-2000:]}"
        time.sleep(0.01)
    seq = sandbox.admin.last_call()  # the step has made no call: it is held before its code
    if point.moment != MOMENTS[0]:
        release.touch()
        while not _reached(point.moment, [c for c in sandbox.admin.calls(seq) if not c.get("via")]):
            if doomed.poll() is not None or time.monotonic() > deadline:
                return f"{point.step} ended before the moment ({len(sandbox.admin.calls(seq))} calls)"
            time.sleep(0.002)
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()
    made = len([c for c in sandbox.admin.calls(seq) if not c.get("via")])
    if point.moment == MOMENTS[0] and made:
        return f"{made} AWS calls were made before the kill meant to come before the first"
    return made


def _reached(moment: str, calls: list[dict[str, Any]]) -> bool:
    changes = [i for i, c in enumerate(calls) if not c["operation"].startswith(READS)]
    if moment == "after the first AWS call":
        return bool(calls)
    if moment == "after the first change":
        return bool(changes)
    deploying = [i for i, c in enumerate(calls) if c["operation"] in DEPLOYING and c["outcome"] == "ok"]
    return bool(deploying) and len(calls) - deploying[0] - 1 >= WAITING_CALLS


def _distributed_approver(
    runner: Any, store: Any, execution_id: str, stop: threading.Event
) -> threading.Thread:
    """Approves each approval the execution waits for, through the runner (Temporal)."""
    from corral.errors import CorralError
    from tests.e2e.approvals import waiting_for_approval

    def run() -> None:
        while not stop.is_set():
            if waiting_for_approval(store, execution_id):
                with contextlib.suppress(CorralError):
                    runner.approve(execution_id, True, by="reliability", comment="ok")
            stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _revisions(sandbox: Any) -> set[str]:
    ecs = sandbox.client("ecs")
    pages = ecs.get_paginator("list_task_definitions").paginate()
    return {arn for page in pages for arn in page["taskDefinitionArns"]}


def _created_twice(
    sandbox: Any, seq: int, definitions: set[str], ended: Any, state: dict[str, Any]
) -> list[str]:
    """What the release made more than once: task definition revisions of the same content (those
    not in `definitions`, the revisions before), more CreateService answers since call `seq` than
    the steps that create a service ran, target registrations in the whole end state `state`
    without a running task or more than a service runs tasks."""
    from .end_state import TASK_DEFINITION_IDENTITY

    ecs = sandbox.client("ecs")
    problems = []
    contents: dict[str, list[str]] = {}
    for arn in sorted(_revisions(sandbox) - definitions):
        found = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        content = json.dumps(
            {k: v for k, v in found.items() if k not in TASK_DEFINITION_IDENTITY}, sort_keys=True, default=str
        )
        contents.setdefault(content, []).append(arn.rsplit("/", 1)[-1])
    problems += [
        f"one task definition registered {len(arns)} times: {arns}"
        for arns in contents.values()
        if len(arns) > 1
    ]
    calls = sandbox.admin.calls(seq)
    creates = sum(
        1 for c in calls if c["operation"] == "CreateService" and c["outcome"] == "ok" and not c.get("via")
    )
    creating = sum(1 for s in ended.steps if s.identifier in CREATES_SERVICE and s.status != "Skipped")
    if creates > creating:
        problems.append(f"CreateService succeeded {creates} times for {creating} steps that create a service")
    running = {name: s["runningCount"] for name, s in state["services"].items()}
    for group, owners in state["targets"].items():
        for owner, states in owners.items():
            registered = sum(n for s, n in states.items() if s != "draining")
            if owner not in running and registered:
                problems.append(f"{group} holds {registered} targets of {owner}")
            elif owner in running and registered > running[owner]:
                problems.append(
                    f"{group} holds {registered} targets of {owner}, which runs {running[owner]} tasks"
                )
    return problems


def _ended(
    sandbox: Any,
    prepared: dict[str, Any],
    point: DelegateKill,
    status: str,
    ended: Any,
    before: tuple[Any, Any],
    after: dict[str, Any],
) -> list[str]:
    steps = [(s.identifier, s.status) for s in ended.steps]
    if point.release == "release":
        if status != "Success":
            return [f"the release ended {status} ({ended.error}): {steps}"]
        return kill._unfinished(
            sandbox, prepared, point.pipeline, kill._state(sandbox, prepared, point.pipeline)
        )
    if status == "Success" or (FAILS[point.pipeline], "Failed") not in steps:
        return [f"the failing release ended {status}: {steps}"]
    found = differences(before[0], kill._state(sandbox, prepared, point.pipeline))
    found += differences(before[1], after)
    if found:  # once more after a longer settle (a drain still under way)
        found = differences(before[0], kill._state(sandbox, prepared, point.pipeline))
        found += differences(before[1], whole_state(sandbox, settle=20))
    return [f"not restored: {d}" for d in found]


def _trace(started: float, what: str) -> None:
    """RELIABILITY_TRACE=1: where a run's time goes, on stderr."""
    if os.environ.get("RELIABILITY_TRACE"):
        print(f"  {time.monotonic() - started:6.1f}s {what}", file=sys.stderr, flush=True)
