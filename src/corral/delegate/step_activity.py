"""A pipeline step as a Temporal activity, run by a delegate.

The step is run by the engine's step runner (engine/step_runner.py, as in the embedded
executor) in a thread of its own; the activity heartbeats while it runs. Attempts are the
workflow's: each carries the step's deadline (its time started when it was queued) and its
latest checkpoint, so when a delegate dies the next attempt, on another delegate, goes on from
there (a Wait waits only for what is left, an ECS step looks before it creates).

A checkpoint is made durable before the step goes on: the step's thread signals it to the
workflow (`checkpoint`) and waits until Temporal has it in the workflow's history. ECS steps
checkpoint their rollback data before their first change, so a delegate that dies at any
moment leaves it behind for the rollback; a later attempt never captures it again from a
service the dead one may have changed.

Log lines go to the Corral store while the step runs (live_logs.py), when the delegate has a
way there (the server, or its own `--store`); the lines not sent by the end travel back in the
result and the control worker writes them.

An abort reaches the activity as a cancellation (through the heartbeat): the step is told
to stop, and its aborted outcome is returned as the activity's result. A delegate that is
shut down stops its steps and fails their attempts, which the workflow starts again elsewhere.
"""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from corral.config.project import Project, load_project
from corral.config.secrets import SecretResolver
from corral.engine import messages as m
from corral.engine import step_runner
from corral.engine.secret_scope import step_secret_scope
from corral.errors import CorralError
from corral.step_log import LogLine, StepLog

from .live_logs import LiveLog, Send

STOP_GRACE = 10.0  # how long a step may take to stop once aborted or out of time
CHECKPOINT_SIGNAL = "checkpoint"
# tests: "start" or "checkpoint:N" stops a step on this delegate there (before the step's code
# runs; once its N-th checkpoint is recorded) until the delegate is killed
PAUSE_ENV = "CORRAL_DELEGATE_TEST_PAUSE"
# tests: with a pause, the step goes on once this file exists (a harness that watches the AWS
# calls the step makes from that instant on, to kill the delegate at the moment it picks)
RELEASE_ENV = "CORRAL_DELEGATE_TEST_RELEASE"
SIGNAL_PATIENCE = 10.0  # seconds one attempt to record a checkpoint may take


class StepActivities:
    """The activities of a delegate: one instance per delegate process."""

    def __init__(
        self, name: str | None = None, *, heartbeat_every: float = 1.0, send_logs: Send | None = None
    ) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.heartbeat_every = heartbeat_every
        self.send_logs = send_logs
        self._projects: dict[str, Project | None] = {}
        self._lock = threading.Lock()

    def activities(self) -> list[Any]:
        return [self.run_step]

    def _project(self, root: str | None) -> Project | None:
        """The project, when this delegate has its files (steps that render services need it)."""
        if not root:
            return None
        with self._lock:
            if root not in self._projects:
                try:
                    self._projects[root] = load_project(Path(root)) if Path(root).is_dir() else None
                except CorralError:
                    self._projects[root] = None
            return self._projects[root]

    @activity.defn(name="corral.run_step")
    async def run_step(self, request: dict[str, Any]) -> dict[str, Any]:
        info = activity.info()
        command = m.RunStep(**{**request["command"], "prior_steps": tuple(request["command"]["prior_steps"])})
        attempt = int(request.get("attempt") or info.attempt)
        previous = request.get("checkpoint")
        deadline = float(request.get("deadline") or time.time() + command.timeout)
        live = LiveLog(self.send_logs, request["executionId"], batch_prefix=f"{command.id}:{attempt}")
        project = self._project(request.get("projectRoot"))
        secrets = (
            SecretResolver(project, allowed=step_secret_scope(project, command.spec, command.target))
            if project is not None
            else None
        )
        log = StepLog(
            sink=lambda line: live.add(_line(command.step_key, line)), mask=step_runner.secret_masker(secrets)
        )
        log.section("Delegate")
        log.info(
            f"Running on delegate {self.name} (attempt {attempt})"
            + (", from the last checkpoint" if previous is not None else "")
        )
        abort = threading.Event()
        checkpoint = _durable_checkpoint(command, attempt, deadline, abort)
        live.start()
        try:
            finished = await self._heartbeating(
                lambda: step_runner.run_step(
                    command,
                    execution_id=request["executionId"],
                    log=log,
                    abort=abort,
                    seconds_left=deadline - time.time(),
                    checkpoint=checkpoint,
                    previous_checkpoint=previous,
                    project=project,
                    secrets=secrets,
                    inputs=request.get("inputs") or {},
                    stop_grace=STOP_GRACE,
                    where=f"on delegate {self.name}",
                    start=_paused_first(command.step_key),
                ),
                abort,
            )
        finally:
            lines = await live.close()
        if live.failure is not None and lines:
            lines.append(_note(command.step_key, f"Log lines sent with the result: {live.failure}"))
        return {"event": m.to_json(finished), "logs": lines}

    async def _heartbeating(
        self, run: Callable[[], m.StepFinished], abort: threading.Event
    ) -> m.StepFinished:
        """`run` (the shared step runner) in a thread of its own, while the activity heartbeats;
        a cancellation (an abort, or a shutdown) sets `abort` and waits for the step to stop."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[m.StepFinished] = loop.create_future()

        def target() -> None:
            try:
                finished = run()
            except BaseException as error:  # the activity fails with it, as the step would have
                loop.call_soon_threadsafe(_settle, done, error)
                return
            loop.call_soon_threadsafe(_settle, done, finished)

        # a thread of its own: steps wait for long, and the default pool is small
        threading.Thread(target=target, name=f"corral-run-{id(done):x}", daemon=True).start()
        shut_down = False
        try:
            while not done.done():
                activity.heartbeat()
                await asyncio.wait([done], timeout=self.heartbeat_every)
        except asyncio.CancelledError:  # an abort (the workflow cancelled it), or a shutdown
            shut_down = activity.is_worker_shutdown()
            abort.set()
        finished = await asyncio.shield(done)  # the runner gives the step its grace to stop
        if shut_down:  # the attempt fails, and the workflow starts another on a live delegate
            raise ApplicationError(f"delegate {self.name} was shut down while running the step")
        return finished


def _durable_checkpoint(
    command: m.RunStep, attempt: int, deadline: float, abort: threading.Event
) -> Callable[[dict[str, Any]], None]:
    """`run.checkpoint` for a step on this delegate: called from the step's thread, it returns
    once the checkpoint is in the workflow's history, trying again while Temporal cannot be
    reached; at the step's deadline (or an abort) it raises, and the step stops before the
    change the checkpoint was to protect."""
    loop = asyncio.get_running_loop()
    info = activity.info()
    if info.workflow_id is None:  # a standalone activity: Corral's steps always run in a workflow
        raise RuntimeError("a step activity runs only inside a pipeline's workflow")
    workflow = activity.client().get_workflow_handle(info.workflow_id, run_id=info.workflow_run_id)

    made = [0]

    def checkpoint(data: dict[str, Any]) -> None:
        saved = {"commandId": command.id, "stepKey": command.step_key, "attempt": attempt, "data": data}
        wait = 0.2
        while True:
            signal = workflow.signal(CHECKPOINT_SIGNAL, saved, rpc_timeout=timedelta(seconds=SIGNAL_PATIENCE))
            try:
                asyncio.run_coroutine_threadsafe(signal, loop).result(SIGNAL_PATIENCE + 1)
                made[0] += 1
                _pause_at(f"checkpoint:{made[0]}", command.step_key)
                return
            except Exception as error:
                gone = isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND
                if gone or abort.is_set() or time.time() + wait >= deadline:
                    raise CorralError(
                        f"the step's checkpoint (its rollback data) could not be recorded in Temporal: "
                        f"{error}; the step stops before the change it protects"
                    ) from None
            time.sleep(wait)
            wait = min(wait * 2, 5.0)

    return checkpoint


def _pause_at(point: str, step_key: str) -> None:
    """Tests: `POINT` pauses every step there, `POINT@IDENTIFIER` only the step of that identifier,
    until the delegate is killed (or, given RELEASE_ENV, until that file exists)."""
    wanted, _, step = os.environ.get(PAUSE_ENV, "").partition("@")
    if wanted == point and (not step or step_key.rsplit("/", 1)[-1].split("#")[0] == step):
        print(f"corral delegate: paused at {point} of {step_key} ({PAUSE_ENV})", file=sys.stderr, flush=True)
        release = os.environ.get(RELEASE_ENV)
        if not release:
            threading.Event().wait()
            return
        while not Path(release).exists():
            time.sleep(0.005)
        print(f"corral delegate: released at {point} of {step_key}", file=sys.stderr, flush=True)


def _note(step_key: str, message: str) -> dict[str, Any]:
    return {
        "step_key": step_key,
        "at": time.time(),
        "section": "Delegate",
        "level": "WARN",
        "message": message,
    }


def _paused_first(step_key: str) -> Callable[[Callable[[], None]], None]:
    """How the runner starts a step's thread here: tests may pause it before the step's code."""

    def start(target: Callable[[], None]) -> None:
        def paused_first() -> None:
            _pause_at("start", step_key)
            target()

        threading.Thread(target=paused_first, name=f"corral-step-{step_key}", daemon=True).start()

    return start


def _settle(future: asyncio.Future[m.StepFinished], result: m.StepFinished | BaseException) -> None:
    if future.done():
        return
    if isinstance(result, BaseException):
        future.set_exception(result)
    else:
        future.set_result(result)


def _line(step_key: str, line: LogLine) -> dict[str, Any]:
    return {
        "step_key": step_key,
        "at": line.time.timestamp(),
        "section": line.section,
        "level": line.level,
        "message": line.message,
    }
