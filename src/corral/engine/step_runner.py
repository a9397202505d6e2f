"""One run of a step, the same in the embedded executor and on a delegate.

    finished = run_step(command, execution_id=..., log=log, abort=abort, seconds_left=...,
                        checkpoint=make_durable, previous_checkpoint=..., project=...,
                        secrets=..., inputs=..., stop_grace=10.0)

The step's implementation is looked up, secrets are filled into its spec, and it runs in a
thread of its own while this call enforces its time and, once it is aborted or out of time,
a grace period to stop; a step that does not stop is left behind. The outcome comes back as
the StepFinished the interpreter is fed, its outputs and error masked.

What differs between the executors is passed in: how a checkpoint is made durable (the
journal; a signal to the Temporal workflow), where log lines go (`log`'s sink), the abort
event, the step's processes and the project, secrets and inputs it may use. Journal writes,
heartbeats and cancellation stay with the executor.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from corral.config.project import Project
from corral.config.secrets import SecretResolver
from corral.errors import CorralError, ExpressionError
from corral.expressions import ExpressionContext, Mode, render
from corral.expressions.masking import mask_text
from corral.expressions.shell_quoting import RUNTIME_VALUES
from corral.step_log import StepLog

from . import messages as m
from .literal_inputs import reveal
from .runtime_values import KEEP_FOR_LATER, has_expression, masked
from .step_process import StepProcesses
from .steps import ABORTED, EXPIRED, FAILED, StepOutcome, StepRun, implementation

Checkpoint = Callable[[dict[str, Any]], None]  # returns once the checkpoint is durable, or raises
Start = Callable[[Callable[[], None]], None]  # starts the step's thread


def run_step(
    command: m.RunStep,
    *,
    execution_id: str,
    log: StepLog,
    abort: threading.Event,
    seconds_left: float,
    checkpoint: Checkpoint,
    previous_checkpoint: dict[str, Any] | None,
    project: Project | None,
    secrets: SecretResolver | None,
    inputs: Mapping[str, Any],
    stop_grace: float,
    processes: StepProcesses | None = None,
    no_wait: bool = False,
    where: str = "in this Corral",
    start: Start | None = None,
) -> m.StepFinished:
    """Run the step to its end, its time out or its abort; `where` names this place in the
    error for a step type it does not implement."""
    mask = secret_masker(secrets)
    impl = implementation(command.type)
    if impl is None:
        failed = StepOutcome.failed(f"no implementation of step type {command.type} {where}")
        return _finished(command, failed, mask, previous_checkpoint)
    try:
        spec = spec_with_secrets(command.spec, secrets)
    except ExpressionError as error:
        return _finished(command, StepOutcome.failed(str(error)), mask, previous_checkpoint)
    latest = [previous_checkpoint]

    def durable(data: dict[str, Any]) -> None:
        checkpoint(data)
        latest[0] = data

    run = StepRun.for_command(
        command,
        execution_id=execution_id,
        spec=spec,
        log=log,
        deadline=time.monotonic() + seconds_left,
        abort=abort,
        checkpoint=durable,
        previous_checkpoint=previous_checkpoint,
        project=project,
        secrets=secrets,
        mask=mask,
        inputs=inputs,
        no_wait=no_wait,
        processes=processes,
    )
    outcome = _call(impl, run, stop_grace, start or _thread(command.step_key))
    return _finished(command, outcome, mask, latest[0])


def _call(
    impl: Callable[[StepRun], StepOutcome], run: StepRun, stop_grace: float, start: Start
) -> StepOutcome:
    """Run the step in its own thread; enforce its timeout and a grace period to stop."""
    result: list[StepOutcome] = []
    done = threading.Event()

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
        result.append(outcome)
        done.set()

    start(target)
    while not done.wait(min(0.05, max(0.0, run.remaining()))):
        if run.abort.is_set():
            break
        if run.remaining() <= 0:
            run.timed_out.set()
            run.abort.set()
            break
    if not done.wait(stop_grace):
        run.log.warn(f"The step did not stop within {stop_grace:g}s; leaving it behind")
        return run.stopped_outcome()
    outcome = result[0]
    if run.timed_out.is_set() and outcome.status != m.SUCCESS:
        return StepOutcome(EXPIRED, outcome.outputs, "The step timed out.", "Timeout", outcome.checkpoint)
    if run.abort.is_set() and outcome.status == FAILED:
        return StepOutcome(ABORTED, outcome.outputs, "The step was aborted.", "Unknown", outcome.checkpoint)
    return outcome


def _finished(
    command: m.RunStep, outcome: StepOutcome, mask: Callable[[str], str], latest: dict[str, Any] | None
) -> m.StepFinished:
    """A step that ends without a checkpoint of its own keeps the latest one (even a step that
    never started: its last attempt's rollback data is all the rollback has)."""
    return m.StepFinished(
        command.id,
        outcome.status,
        masked(dict(outcome.outputs), mask),
        mask(outcome.error) if outcome.error else None,
        outcome.failure_type,
        outcome.checkpoint if outcome.checkpoint is not None else latest,
    )


def _thread(step_key: str) -> Start:
    def start(target: Callable[[], None]) -> None:
        # a thread of its own: steps wait for long
        threading.Thread(target=target, name=f"corral-step-{step_key}", daemon=True).start()

    return start


def spec_with_secrets(spec: dict[str, Any], secrets: SecretResolver | None) -> dict[str, Any]:
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


def secret_masker(secrets: SecretResolver | None) -> Callable[[str], str]:
    """Hides every secret value read so far (none without a resolver: no secret can be read)."""

    def mask(text: str) -> str:
        if secrets is None:
            return text
        return mask_text(text, secrets.masked_values())

    return mask
