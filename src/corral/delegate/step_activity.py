"""A pipeline step as a Temporal activity, run by a delegate.

The step runs in its own thread; the activity heartbeats while it runs, carrying the step's
latest checkpoint and its deadline. When the delegate dies, Temporal notices the missing
heartbeats and gives the activity to another delegate polling the same queue, with those
details: the step is re-run from its last checkpoint (a Wait waits only for what is left, an
ECS step looks before it creates) and keeps its original deadline.

An abort reaches the activity as a cancellation (through the heartbeat): the step is told
to stop, and its aborted outcome is returned as the activity's result. Log lines go back in
the result; the control worker writes them to the store.
"""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from temporalio import activity

from corral.config.project import Project, load_project
from corral.config.secrets import SecretResolver
from corral.ecs.log import LogLine, StepLog
from corral.engine import messages as m
from corral.engine.literal_inputs import reveal
from corral.engine.runtime_values import KEEP_FOR_LATER, has_expression, masked
from corral.engine.secret_scope import step_secret_scope
from corral.engine.steps import (
    ABORTED,
    EXPIRED,
    FAILED,
    StepOutcome,
    StepRun,
    implementation,
)
from corral.errors import CorralError, ExpressionError
from corral.expressions import ExpressionContext, Mode, render
from corral.expressions.masking import mask_text
from corral.expressions.shell_quoting import RUNTIME_VALUES

STOP_GRACE = 10.0  # how long a step may take to stop once aborted or out of time


class StepActivities:
    """The activities of a delegate: one instance per delegate process."""

    def __init__(self, name: str | None = None, *, heartbeat_every: float = 1.0) -> None:
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.heartbeat_every = heartbeat_every
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
        saved: dict[str, Any] = dict(info.heartbeat_details[0]) if info.heartbeat_details else {}
        state: dict[str, Any] = {
            "checkpoint": saved.get("checkpoint", request.get("checkpoint")),
            "deadline": saved.get("deadline") or time.time() + command.timeout,
        }
        lines: list[dict[str, Any]] = []
        project = self._project(request.get("projectRoot"))
        secrets = (
            SecretResolver(project, allowed=step_secret_scope(project, command.spec, command.target))
            if project is not None
            else None
        )
        masker = _masker(secrets)
        log = StepLog(sink=lambda line: lines.append(_line(command.step_key, line)), mask=masker)
        log.section("Delegate")
        log.info(
            f"Running on delegate {self.name} (attempt {info.attempt} of the activity)"
            + (", from the last checkpoint" if state["checkpoint"] is not None else "")
        )
        impl = implementation(command.type)
        if impl is None:
            outcome = StepOutcome.failed(
                f"no implementation of step type {command.type} on delegate {self.name}"
            )
            return _result(command, outcome, state, lines, masker)
        try:
            spec = _with_secrets(command.spec, secrets)
        except ExpressionError as error:
            return _result(command, StepOutcome.failed(str(error)), state, lines, masker)

        def checkpoint(data: dict[str, Any]) -> None:  # from the step's thread: the next heartbeat carries it
            state["checkpoint"] = data

        abort = threading.Event()
        inputs = request.get("inputs") or {}
        run = StepRun.for_command(
            command,
            execution_id=request["executionId"],
            spec=spec,
            log=log,
            deadline=time.monotonic() + (state["deadline"] - time.time()),
            abort=abort,
            checkpoint=checkpoint,
            previous_checkpoint=state["checkpoint"],
            project=project,
            secrets=secrets,
            mask=masker,
            inputs=inputs,
        )
        outcome = await self._call(impl, run, state)
        return _result(command, outcome, state, lines, masker)

    async def _call(
        self, impl: Callable[[StepRun], StepOutcome], run: StepRun, state: dict[str, Any]
    ) -> StepOutcome:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[StepOutcome] = loop.create_future()

        def target() -> None:
            try:
                outcome = impl(run)
                if not isinstance(outcome, StepOutcome):
                    outcome = StepOutcome.failed(f"step type {run.type} returned no outcome")
            except CorralError as error:
                outcome = run.stopped_outcome() if run.abort.is_set() else StepOutcome.failed(str(error))
            except Exception as error:
                run.log.error(traceback.format_exc())
                outcome = StepOutcome.failed(f"{run.type} failed unexpectedly: {error}")
            loop.call_soon_threadsafe(_settle, done, outcome)

        # a thread of its own: steps wait for long, and the default pool is small
        threading.Thread(target=target, name=f"corral-step-{run.key}", daemon=True).start()
        try:
            while not done.done():
                activity.heartbeat(dict(state))
                wait = max(0.0, min(self.heartbeat_every, run.remaining()))
                await asyncio.wait([done], timeout=wait)
                if not done.done() and run.remaining() <= 0:
                    run.timed_out.set()
                    run.abort.set()
                    break
        except asyncio.CancelledError:  # an abort: the workflow cancelled the activity
            run.abort.set()
        if not done.done():
            try:
                await asyncio.wait_for(asyncio.shield(done), STOP_GRACE)
            except TimeoutError:
                run.log.warn(f"The step did not stop within {STOP_GRACE:g}s; leaving it behind")
                return run.stopped_outcome()
        outcome = done.result()
        if run.timed_out.is_set() and outcome.status != m.SUCCESS:
            return StepOutcome(EXPIRED, outcome.outputs, "The step timed out.", "Timeout", outcome.checkpoint)
        if run.abort.is_set() and outcome.status == FAILED:
            return StepOutcome(
                ABORTED, outcome.outputs, "The step was aborted.", "Unknown", outcome.checkpoint
            )
        return outcome


def _settle(future: asyncio.Future[StepOutcome], outcome: StepOutcome) -> None:
    if not future.done():
        future.set_result(outcome)


def _result(
    command: m.RunStep,
    outcome: StepOutcome,
    state: dict[str, Any],
    lines: list[dict[str, Any]],
    masker: Callable[[str], str],
) -> dict[str, Any]:
    event = m.StepFinished(
        command.id,
        outcome.status,
        masked(dict(outcome.outputs), masker),
        masker(outcome.error) if outcome.error else None,
        outcome.failure_type,
        outcome.checkpoint if outcome.checkpoint is not None else state["checkpoint"],
    )
    return {"event": m.to_json(event), "logs": lines}


def _line(step_key: str, line: LogLine) -> dict[str, Any]:
    return {
        "step_key": step_key,
        "at": line.time.timestamp(),
        "section": line.section,
        "level": line.level,
        "message": line.message,
    }


def _with_secrets(spec: dict[str, Any], secrets: SecretResolver | None) -> dict[str, Any]:
    """The step's final spec: secrets filled in, run-time input values as typed (literal_inputs);
    the values a ShellScript body refers to (shell_quoting.py) are never rendered."""
    held = {k: v for k, v in spec.items() if k == RUNTIME_VALUES}
    body = {k: v for k, v in spec.items() if k != RUNTIME_VALUES}
    if has_expression(body):
        if secrets is None:
            raise ExpressionError("spec: secrets can only be read on a delegate that has the project's files")
        ctx = ExpressionContext(values={}, secrets=secrets, keep=KEEP_FOR_LATER - {"secrets"})
        body = render(body, ctx, mode=Mode.FAIL, path="spec")
    rendered: dict[str, Any] = reveal({**body, **held})
    return rendered


def _masker(secrets: SecretResolver | None) -> Callable[[str], str]:
    def mask(text: str) -> str:
        if secrets is None:
            return text
        return mask_text(text, secrets.masked_values())

    return mask
