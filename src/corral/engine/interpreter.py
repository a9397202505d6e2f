"""The pipeline interpreter: a deterministic state machine over a pipeline snapshot.

    interpreter = Interpreter(plan, RunInfo(execution_id, sequence_id=7, start_ts=...))
    commands = interpreter.start()               # e.g. [PrepareStage(...)]
    commands = interpreter.feed(StagePrepared(...))
    ...                                          # until interpreter.finished
    interpreter.take_updates()                   # statuses for people, in order

It does no I/O, reads no clock and starts no thread: everything it knows arrives as an event,
and everything it wants done leaves as a command with a deterministic id. Feeding the same
events in the same order always gives the same commands, so an execution is resumed by
replaying its journal into a fresh interpreter and running the commands still pending; the
same class can drive a Temporal workflow (commands become activities, timers and signals).

Inside, each stage, step group, parallel block and step is a generator that yields commands
(or `_Fork`s of child generators, for parallel branches) and receives their events; a small
scheduler resumes the generator waiting for each event.

Behaviour, as in Harness:
- stages run in order (`parallel:` stages together); a stage runs when its `when` holds
  (default: the pipeline has not failed so far);
- steps and step groups run in order (`parallel:` together) when their `when` holds
  (default `stageStatus: Success`); once a step fails with a rollback action the stage is
  failing: only the parts left with `stageStatus: Failure` or `All` still run (failure
  handlers), then the rollback. An ignored failure does not make the stage fail;
- a failed step takes the failure strategy nearest to it that names its error type
  (step, enclosing groups inward-out, stage, pipeline; default StageRollback);
- rollback runs the `rollbackSteps` of the step groups that started, latest first, then the
  stage's own `rollbackSteps`: phases P1, P2 roll back as R2, R1;
- an abort requested by a person cancels what runs or waits and rolls back the running
  stages; the failure action `Abort` stops without rollback.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass, field
from typing import Any

from corral.errors import ExpressionError

from . import messages as m
from .conditions import evaluate_condition
from .looping import Iteration, loop_values
from .messages import StepOutcome
from .plan import (
    DEFAULT_STRATEGY,
    INTERVENTION_ACTIONS,
    PROVISIONER,
    Action,
    Element,
    FailureStrategy,
    GroupNode,
    ParallelNode,
    ParallelStages,
    PipelinePlan,
    StageElement,
    StageNode,
    StepNode,
    When,
)
from .runtime_values import (
    mark_stage_inputs,
    render_for_step,
    render_step_spec,
    stage_entry,
    variable_values,
)

APPROVAL_TYPE = "HarnessApproval"
EXECUTION_SECTION = "execution"  # <+stage.spec.execution.steps.ID>
PROVISIONER_SECTION = PROVISIONER  # <+stage.spec.provisioner.steps.ID>
DEFAULT_APPROVAL_TIMEOUT = 86400.0

# How a part of the pipeline ended, as far as what comes after it is concerned.
# None: carry on. The others stop the stage; the strongest wins when branches disagree.
STAGE_ROLLBACK = "StageRollback"
PIPELINE_ROLLBACK = "PipelineRollback"
ABORT = "Abort"  # the failure action: stop, no rollback
USER_ABORT = "UserAbort"  # a person asked: stop, roll back the running stages
_STRENGTH = {None: 0, STAGE_ROLLBACK: 1, PIPELINE_ROLLBACK: 2, ABORT: 3, USER_ABORT: 4}


def _strongest(signals: list[str | None]) -> str | None:
    return max(signals, key=lambda s: _STRENGTH[s], default=None)


def _runs_when_failing(element: Element) -> bool:
    if isinstance(element, ParallelNode):
        return any(_runs_when_failing(branch) for branch in element.branches)
    return element.when is not None and element.when.status in ("Failure", "All")


@dataclass(frozen=True)
class RunInfo:
    """Facts about the execution that come from outside the interpreter."""

    execution_id: str
    sequence_id: int
    start_ts: int  # milliseconds since the epoch
    triggered_by: str | None = None
    # <+account.*>, <+org.*>, <+project.*>: taken from corral.yaml when the execution was made
    scope: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Fork:
    branches: tuple[Generator[Any, Any, Any], ...]
    limit: int = 0  # a looping strategy's maxConcurrency: the rest wait for a branch to end


@dataclass
class _Task:
    gen: Generator[Any, Any, Any]
    parent: _Task | None = None
    index: int = 0
    waiting: int = 0
    results: list[Any] = field(default_factory=list)
    queued: list[tuple[int, Generator[Any, Any, Any]]] = field(default_factory=list)


@dataclass
class _StageRun:
    node: StageNode
    position: int
    status: str = m.RUNNING
    failed: bool = False  # a step failed, even if its failure was ignored
    stopping: str | None = None  # a step decided to stop the stage: only failure handlers still start
    target: m.PreparedTarget | None = None
    lock: dict[str, Any] | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> state, in start order
    started_groups: set[str] = field(default_factory=set)
    ran_steps: bool = False
    provisioned: bool = False  # a step of `environment.provisioner` ran
    section: str = EXECUTION_SECTION  # what the steps starting now belong to
    rolled_back: bool = False
    error: str | None = None
    version: int = 0  # changes whenever something expressions read about the stage changes
    entry: dict[str, Any] | None = None
    entry_version: int = -1


class Interpreter:
    def __init__(self, plan: PipelinePlan, run: RunInfo) -> None:
        self.plan = plan
        self.run = run
        self.finished = False
        self.status = m.QUEUED
        self.error: str | None = None
        self.aborting = False
        self.abort_by: str | None = None
        self._pending: dict[str, tuple[_Task, m.Command, bool]] = {}  # id -> (task, command, cancellable)
        self._commands: list[m.Command] = []
        self._updates: list[m.Update] = []
        self._positions: dict[str, int] = {}
        self._stages: dict[str, _StageRun] = {}
        self._pipeline_variables: dict[str, Any] = {}
        self._pipeline_failed = False
        self._stop_all: str | None = None
        self._started = False
        self._cancelled: set[str] = set()

    # -- the outside ---------------------------------------------------------------------

    def start(self) -> list[m.Command]:
        if self._started:
            raise RuntimeError("the interpreter was already started")
        self._started = True
        self._advance(_Task(self._pipeline()), None)
        return self._take_commands()

    def feed(self, event: m.Event) -> list[m.Command]:
        """The commands that follow from one event."""
        if isinstance(event, m.AbortRequested):
            self._abort(event)
            return self._take_commands()
        entry = self._pending.pop(event.command_id, None)
        if entry is None:
            return []  # a late answer to something already settled (e.g. a second approval)
        self._advance(entry[0], event)
        return self._take_commands()

    def pending(self) -> list[m.Command]:
        """Commands issued and not yet answered, in the order they were issued."""
        return [command for _, command, _ in self._pending.values()]

    def pending_cancels(self) -> list[m.Cancel]:
        """Cancels already issued for commands still pending (after a replay, they must be
        issued again: the process that got them died)."""
        return [m.Cancel(command_id) for command_id in self._pending if command_id in self._cancelled]

    def _cancel(self, command_id: str) -> None:
        self._cancelled.add(command_id)
        self._commands.append(m.Cancel(command_id))

    def take_updates(self) -> list[m.Update]:
        updates, self._updates = self._updates, []
        return updates

    def _take_commands(self) -> list[m.Command]:
        commands, self._commands = self._commands, []
        return commands

    def _abort(self, event: m.AbortRequested) -> None:
        if self.aborting or self.finished:
            return
        self.aborting = True
        self.abort_by = event.by
        for command_id, (_, _, cancellable) in list(self._pending.items()):
            if cancellable:
                self._cancel(command_id)

    # -- the scheduler -------------------------------------------------------------------

    def _advance(self, task: _Task, value: Any) -> None:
        while True:
            try:
                yielded = task.gen.send(value)
            except StopIteration as stop:
                self._finish(task, stop.value)
                return
            if isinstance(yielded, _Fork):
                if not yielded.branches:
                    value = []
                    continue
                task.waiting = len(yielded.branches)
                task.results = [None] * len(yielded.branches)
                branches = list(enumerate(yielded.branches))
                if yielded.limit:
                    branches, task.queued = branches[: yielded.limit], branches[yielded.limit :]
                for index, branch in branches:
                    self._advance(_Task(branch, task, index), None)
                return
            command, cancellable = yielded
            self._pending[command.id] = (task, command, cancellable)
            self._commands.append(command)
            if cancellable and self.aborting:  # issued after the abort: cancel it at once
                self._cancel(command.id)
            return

    def _finish(self, task: _Task, result: Any) -> None:
        parent = task.parent
        if parent is None:
            return
        parent.results[task.index] = result
        parent.waiting -= 1
        if parent.queued:  # a branch ended: the next waiting one starts
            index, branch = parent.queued.pop(0)
            self._advance(_Task(branch, parent, index), None)
        elif parent.waiting == 0:
            self._advance(parent, parent.results)

    def _position(self, key: str) -> int:
        return self._positions.setdefault(key, len(self._positions))

    # -- pipeline ------------------------------------------------------------------------

    def _pipeline(self) -> Generator[Any, Any, None]:
        self._set_pipeline(m.RUNNING)
        try:
            self._pipeline_variables = variable_values(
                self.plan.variables, self._values(None), "pipeline.variables"
            )
        except ExpressionError as error:
            self._set_pipeline(m.FAILED, str(error))
            return
        completed: list[_StageRun] = []
        for element in self.plan.stages:
            if self._stop_all:
                break
            signal = yield from self._stage_element(element)
            completed += [run for run in self._runs_of(element) if run.status == m.SUCCESS]
            if signal == PIPELINE_ROLLBACK:
                for run in reversed(completed):
                    yield from self._rollback_completed(run)
                self._stop_all = signal
            elif signal in (ABORT, USER_ABORT):
                self._stop_all = signal
        if self.aborting or self._stop_all in (ABORT, USER_ABORT):
            self._set_pipeline(m.ABORTED, self.error or "The pipeline was aborted.")
        elif self._pipeline_failed:
            failed = [r for r in self._stages.values() if r.status in (m.FAILED, m.EXPIRED)]
            self._set_pipeline(m.FAILED, failed[0].error if failed else self.error)
        else:
            self._set_pipeline(m.SUCCESS)

    def _runs_of(self, element: StageElement) -> list[_StageRun]:
        nodes = element.stages if isinstance(element, ParallelStages) else (element,)
        return [self._stages[n.key] for n in nodes if n.key in self._stages]

    def _stage_element(self, element: StageElement) -> Generator[Any, Any, str | None]:
        if isinstance(element, ParallelStages):
            signals = yield _Fork(
                tuple(self._stage(stage) for stage in element.stages), element.max_concurrency
            )
            return _strongest(list(signals))
        signal = yield from self._stage(element)
        return signal

    def _set_pipeline(self, status: m.Status, error: str | None = None) -> None:
        self.status = status
        self.error = error
        if status not in (m.RUNNING, m.QUEUED):
            self.finished = True
        self._updates.append(m.PipelineUpdate(status, error))

    # -- stages --------------------------------------------------------------------------

    def _stage(self, node: StageNode) -> Generator[Any, Any, str | None]:
        run = _StageRun(node, self._position(node.key))
        self._stages[node.key] = run
        pipeline_status = "Failure" if self._pipeline_failed else "Success"
        if self.aborting:
            return USER_ABORT
        try:
            runs = self._when(node.when, pipeline_status, lambda: self._values(run))
        except ExpressionError as error:
            self._set_stage(run, m.FAILED, f"when.condition: {error}")
            self._pipeline_failed = True
            return STAGE_ROLLBACK
        if not runs:
            self._set_stage(run, m.SKIPPED)
            return None
        self._set_stage(run, m.RUNNING)
        try:
            run.variables = variable_values(node.variables, self._values(run), f"{node.path}.variables")
            run.version += 1
        except ExpressionError as error:
            return self._stage_failed(run, str(error))
        signal = None
        if node.provisioner_steps:
            signal = yield from self._provision(run)
        if node.target is not None and signal is None:
            try:  # the stage inputs it fixes may read pipeline and stage variables
                fixed = render_for_step(dict(node.target.inputs), self._values(run), path=f"{node.path}.spec")
            except ExpressionError as error:
                yield from self._rollback_stage(run)  # what the provisioner made, if it ran
                return self._stage_failed(run, str(error))
            prepared = yield (
                m.PrepareStage(
                    f"{node.key}/prepare",
                    node.key,
                    node.target.service,
                    node.target.environment,
                    node.target.infrastructure,
                    self._provisioner_outputs(run),
                    fixed,
                ),
                False,
            )
            if not prepared.ok:
                yield from self._rollback_stage(run)  # what the provisioner made, if it ran
                return self._stage_failed(run, prepared.error or "the stage's service could not be prepared")
            run.target = prepared.target
            lock = (prepared.target or {}).get("lock")
            if lock and not self.aborting:
                self._set_stage(run, m.WAITING)
                taken = yield (
                    m.AcquireLock(f"{node.key}/lock", node.key, lock["key"], lock["description"]),
                    True,
                )
                if not taken.ok:
                    yield from self._rollback_stage(run)
                    if self.aborting:
                        self._set_stage(
                            run, m.ABORTED, "The pipeline was aborted while waiting for the service."
                        )
                        return USER_ABORT
                    return self._stage_failed(run, taken.error or "the service is locked")
                run.lock = lock
                self._set_stage(run, m.RUNNING)
        if signal is None:
            signal = yield from self._elements(run, node.steps, (), m.EXECUTION)
        signal = _strongest([signal, run.stopping])
        if self.aborting and signal is None:
            signal = USER_ABORT
        if signal in (STAGE_ROLLBACK, PIPELINE_ROLLBACK, USER_ABORT):
            yield from self._rollback_stage(run)
        if run.lock is not None:
            yield (m.ReleaseLock(f"{node.key}/unlock", node.key, run.lock["key"]), False)
        if signal is None:
            self._set_stage(run, m.SUCCESS)
        elif signal in (ABORT, USER_ABORT):
            self._set_stage(run, m.ABORTED, run.error or "The pipeline was aborted.")
        else:
            self._pipeline_failed = True
            self._set_stage(run, m.FAILED, run.error)
        return signal

    def _provision(self, run: _StageRun) -> Generator[Any, Any, str | None]:
        """`environment.provisioner.steps`, before the target is prepared (it reads their outputs)."""
        run.section = PROVISIONER_SECTION
        signal = yield from self._elements(run, run.node.provisioner_steps, (), m.EXECUTION)
        run.section = EXECUTION_SECTION
        run.provisioned, run.ran_steps = run.ran_steps, False
        signal = _strongest([signal, run.stopping])
        return USER_ABORT if self.aborting and signal is None else signal

    def _provisioner_outputs(self, run: _StageRun) -> dict[str, Any]:
        """What each provisioner of the stage gave, by step identifier and, for a CloudFormation
        step, by the Provisioner Identifier it journaled: what `<+provisioner.*>` reads."""
        out: dict[str, Any] = {}
        for state in run.steps.values():
            if state["section"] != PROVISIONER_SECTION or state["status"] != m.SUCCESS:
                continue
            if state["phase"] != m.EXECUTION:
                continue
            out[state["identifier"]] = dict(state["outputs"])
            named = (state["checkpoint"] or {}).get("provisionerIdentifier")
            if named:
                out[str(named)] = dict(state["outputs"])
        return out

    def _stage_failed(self, run: _StageRun, error: str) -> str:
        self._pipeline_failed = True
        self._set_stage(run, m.FAILED, error)
        return STAGE_ROLLBACK

    def _set_stage(self, run: _StageRun, status: str, error: str | None = None) -> None:
        run.version += 1
        run.status = status
        if error is not None:
            run.error = error
        node = run.node
        self._updates.append(
            m.StageUpdate(
                node.key, run.position, node.identifier, node.name, status, run.error, run.rolled_back
            )
        )

    # -- rollback ------------------------------------------------------------------------

    def _rollback_stage(self, run: _StageRun) -> Generator[Any, Any, None]:
        """The deployment's rollback, then the provisioner's (as Harness orders them)."""
        if run.rolled_back or not (run.ran_steps or run.provisioned):
            return
        run.rolled_back = True
        if run.ran_steps:
            yield from self._rollback_elements(run, run.node.steps)
            yield from self._elements(run, run.node.rollback_steps, (), m.ROLLBACK)
        if run.provisioned:
            run.section = PROVISIONER_SECTION
            yield from self._rollback_elements(run, run.node.provisioner_steps)
            yield from self._elements(run, run.node.provisioner_rollback_steps, (), m.ROLLBACK)
            run.section = EXECUTION_SECTION

    def _rollback_completed(self, run: _StageRun) -> Generator[Any, Any, None]:
        """PipelineRollback of a stage that had succeeded: take its lock again, roll it back."""
        if not (run.ran_steps or run.provisioned):
            return
        lock = run.target.get("lock") if run.target else None
        if lock:
            taken = yield (
                m.AcquireLock(
                    f"{run.node.key}/rollback/lock", run.node.key, lock["key"], lock["description"]
                ),
                False,
            )
            lock = lock if taken.ok else None
        yield from self._rollback_stage(run)
        self._set_stage(run, m.FAILED, f"rolled back: stage {self._failed_stage_name()} failed")
        if lock:
            yield (m.ReleaseLock(f"{run.node.key}/rollback/unlock", run.node.key, lock["key"]), False)

    def _failed_stage_name(self) -> str:
        failed = [r.node.identifier for r in self._stages.values() if r.status == m.FAILED]
        return failed[-1] if failed else "?"

    def _rollback_elements(self, run: _StageRun, elements: tuple[Element, ...]) -> Generator[Any, Any, None]:
        for element in reversed(elements):
            if isinstance(element, GroupNode) and element.key in run.started_groups:
                yield from self._rollback_elements(run, element.steps)
                yield from self._elements(run, element.rollback_steps, (), m.ROLLBACK)
            elif isinstance(element, ParallelNode) and element.loop and element.max_concurrency == 1:
                yield from self._rollback_elements(run, element.branches)  # ran in turn: undone in turn
            elif isinstance(element, ParallelNode):
                branches = tuple(self._rollback_elements(run, (b,)) for b in element.branches)
                yield _Fork(branches, element.max_concurrency)

    # -- elements ------------------------------------------------------------------------

    def _elements(
        self,
        run: _StageRun,
        elements: tuple[Element, ...],
        chain: tuple[tuple[FailureStrategy, ...], ...],
        phase: str,
    ) -> Generator[Any, Any, str | None]:
        signal = None
        for element in elements:
            if phase == m.EXECUTION:
                if self.aborting or run.stopping in (ABORT, USER_ABORT):
                    return _strongest([signal, run.stopping or USER_ABORT])
                if run.stopping and not _runs_when_failing(element):
                    continue  # the stage is failing: only `when: stageStatus: Failure|All` parts run
            result = yield from self._element(run, element, chain, phase)
            if result is not None:
                run.stopping = _strongest([run.stopping, result])
                signal = _strongest([signal, result])
        return signal

    def _element(
        self,
        run: _StageRun,
        element: Element,
        chain: tuple[tuple[FailureStrategy, ...], ...],
        phase: str,
    ) -> Generator[Any, Any, str | None]:
        if isinstance(element, ParallelNode) and element.loop:
            # iterations: one that starts after another failed sees the stage stopping, as the
            # next element of a sequence would
            iterations = tuple(self._elements(run, (b,), chain, phase) for b in element.branches)
            signals = yield _Fork(iterations, element.max_concurrency)
            return _strongest(list(signals))
        if isinstance(element, ParallelNode):
            signals = yield _Fork(tuple(self._element(run, b, chain, phase) for b in element.branches))
            return _strongest(list(signals))
        if isinstance(element, GroupNode):
            signal = yield from self._group(run, element, chain, phase)
            return signal
        signal = yield from self._step(run, element, chain, phase)
        return signal

    def _group(
        self,
        run: _StageRun,
        node: GroupNode,
        chain: tuple[tuple[FailureStrategy, ...], ...],
        phase: str,
    ) -> Generator[Any, Any, str | None]:
        status = "Failure" if run.stopping or phase == m.ROLLBACK else "Success"
        when = node.when if node.when is not None or phase == m.EXECUTION else When(status="All")
        try:
            runs = self._when(when, status, lambda: self._values(run, loops=node.loops))
        except ExpressionError as error:
            self._group_update(run, node, phase, m.FAILED, f"when.condition: {error}")
            return None if phase == m.ROLLBACK else self._resolve_without_step(run, node, chain)
        if not runs:
            self._group_update(run, node, phase, m.SKIPPED)
            return None
        if phase == m.EXECUTION:
            run.started_groups.add(node.key)
        self._group_update(run, node, phase, m.RUNNING)
        signal = yield from self._elements(run, node.steps, (node.strategies, *chain), phase)
        failed = any(
            s["status"] in (m.FAILED, m.EXPIRED, m.ABORTED, m.APPROVAL_REJECTED, m.IGNORE_FAILED)
            for k, s in run.steps.items()
            if k.startswith(node.key + "/")
        )
        status = m.ABORTED if signal in (ABORT, USER_ABORT) else m.FAILED if (signal or failed) else m.SUCCESS
        self._group_update(run, node, phase, status)
        return signal

    def _resolve_without_step(
        self, run: _StageRun, node: GroupNode, chain: tuple[tuple[FailureStrategy, ...], ...]
    ) -> str | None:
        action = self._strategy(node.strategies, chain, run, "Unknown")
        run.failed = True
        return action.type if action.type in (STAGE_ROLLBACK, PIPELINE_ROLLBACK, ABORT) else None

    def _group_update(
        self, run: _StageRun, node: GroupNode, phase: str, status: str, error: str | None = None
    ) -> None:
        self._updates.append(
            m.StepUpdate(
                node.key,
                self._position(node.key),
                run.node.key,
                node.identifier,
                node.name,
                "StepGroup",
                phase,
                status,
                error=error,
            )
        )

    # -- steps ---------------------------------------------------------------------------

    def _step(
        self,
        run: _StageRun,
        node: StepNode,
        chain: tuple[tuple[FailureStrategy, ...], ...],
        phase: str,
    ) -> Generator[Any, Any, str | None]:
        state = self._step_state(run, node, phase)
        status = "Failure" if run.stopping or phase == m.ROLLBACK else "Success"
        when = node.when if node.when is not None or phase == m.EXECUTION else When(status="All")
        outcome: StepOutcome | None = None
        try:
            if not self._when(when, status, lambda: self._values(run, node, 1)):
                self._set_step(run, node, state, m.SKIPPED)
                return None
        except ExpressionError as error:
            outcome = StepOutcome(m.FAILED, error=f"when.condition: {error}")
        run.ran_steps = True
        attempt = 1
        retries = 0
        while True:
            if outcome is None:
                outcome = yield from self._attempt(run, node, state, attempt, phase)
            if outcome.status == m.SUCCESS:
                self._set_step(run, node, state, m.SUCCESS, outcome)
                return None
            if phase == m.EXECUTION and self.aborting:
                self._set_step(run, node, state, m.ABORTED, outcome)
                run.error = run.error or "The pipeline was aborted."
                return USER_ABORT
            if phase == m.ROLLBACK:
                action = self._strategy(node.strategies, (), None, outcome.failure_type, rollback=True)
            else:
                action = self._strategy(node.strategies, chain, run, outcome.failure_type)
            while True:  # an action may lead to another (a retry's onRetryFailure, a timeout's onTimeout)
                if action.type == "Retry":
                    if retries < action.retry_count:
                        break
                    action = action.on_retry_failure or DEFAULT_STRATEGY.action
                    continue
                if action.type == "ManualIntervention":
                    self._set_step(run, node, state, m.INTERVENTION_WAITING, outcome)
                    decided = yield (
                        m.AwaitIntervention(
                            f"{node.key}/intervention#{attempt}",
                            node.key,
                            run.node.key,
                            outcome.error or "",
                            action.timeout or DEFAULT_APPROVAL_TIMEOUT,
                            INTERVENTION_ACTIONS,
                        ),
                        phase == m.EXECUTION,
                    )
                    if decided.cancelled:
                        self._set_step(run, node, state, m.ABORTED, outcome)
                        return USER_ABORT
                    if decided.action is None:
                        action = action.on_timeout or DEFAULT_STRATEGY.action
                        continue
                    action = (
                        Action("Retry", retry_count=retries + 1)
                        if decided.action == "Retry"
                        else Action(decided.action)
                    )
                    continue
                break
            if action.type == "Retry":
                retries += 1
                interval = (
                    action.retry_intervals[min(retries - 1, len(action.retry_intervals) - 1)]
                    if action.retry_intervals
                    else 0.0
                )
                self._set_step(run, node, state, m.RETRYING, outcome)
                if interval > 0:
                    fired = yield (
                        m.Sleep(f"{node.key}/retry#{attempt}", node.key, interval),
                        phase == m.EXECUTION,
                    )
                    if fired.cancelled:
                        self._set_step(run, node, state, m.ABORTED, outcome)
                        return USER_ABORT
                attempt += 1
                outcome = None
                continue
            final = (
                outcome.status if outcome.status in (m.EXPIRED, m.ABORTED, m.APPROVAL_REJECTED) else m.FAILED
            )
            if action.type == "Ignore":
                run.failed = True
                self._set_step(run, node, state, m.IGNORE_FAILED, outcome)
                return None
            if action.type == "MarkAsSuccess":
                self._set_step(run, node, state, m.SUCCESS, outcome)
                return None
            self._set_step(run, node, state, final, outcome)
            if phase == m.ROLLBACK:
                return None  # a failed rollback step is reported; the other rollback steps still run
            run.error = run.error or f"{node.name}: {outcome.error or final}"
            return action.type

    def _attempt(
        self, run: _StageRun, node: StepNode, state: dict[str, Any], attempt: int, phase: str
    ) -> Generator[Any, Any, StepOutcome]:
        state["attempt"] = attempt
        values = self._values(run, node, attempt)
        try:
            spec = render_step_spec(node.type, dict(node.spec), values, path=f"{node.path}.spec")
        except ExpressionError as error:
            return StepOutcome(m.FAILED, error=str(error))
        command_id = f"{node.key}#{attempt}"
        if node.type == APPROVAL_TYPE:
            self._set_step(run, node, state, m.APPROVAL_WAITING)
            decided = yield (
                m.AwaitApproval(
                    command_id,
                    node.key,
                    run.node.key,
                    str(spec.get("approvalMessage") or f"Approve {node.name}?"),
                    dict(spec.get("approvers") or {}),
                    tuple(spec.get("approverInputs") or ()),
                    node.timeout,
                ),
                phase == m.EXECUTION,
            )
            return _approval_outcome(decided)
        self._set_step(run, node, state, m.RUNNING)
        finished = yield (
            m.RunStep(
                id=command_id,
                step_key=node.key,
                stage_key=run.node.key,
                identifier=node.identifier,
                name=node.name,
                type=node.type,
                spec=spec,
                timeout=node.timeout,
                attempt=attempt,
                phase=phase,
                target=run.target,
                values=values,
                prior_steps=tuple(self._prior_steps(run)),
            ),
            phase == m.EXECUTION,
        )
        return StepOutcome(
            finished.status,
            dict(finished.outputs),
            finished.error,
            finished.failure_type,
            finished.checkpoint,
        )

    def _prior_steps(self, run: _StageRun) -> list[dict[str, Any]]:
        return [
            {k: s[k] for k in ("key", "identifier", "type", "phase", "status", "outputs", "checkpoint")}
            for s in run.steps.values()
            if s["status"] not in (m.RUNNING, m.SKIPPED, m.APPROVAL_WAITING)
        ]

    def _step_state(self, run: _StageRun, node: StepNode, phase: str) -> dict[str, Any]:
        parts = node.key.split("/")[1:-1]
        if run.section == PROVISIONER_SECTION:
            parts = parts[1:]  # `deploy/provisioner/ID`: reached as <+stage.spec.provisioner.steps.ID>
        groups = [g for g in parts if g != "rollback"]
        state = {
            "key": node.key,
            "identifier": node.identifier,
            "name": node.name,
            "type": node.type,
            "phase": phase,
            "status": m.QUEUED,
            "attempt": 1,
            "outputs": {},
            "checkpoint": None,
            "groups": [g for g in groups if not g.startswith("parallel")],
            "section": run.section,
            "entry": None,
        }
        run.steps[node.key] = state
        return state

    def _set_step(
        self,
        run: _StageRun,
        node: StepNode,
        state: dict[str, Any],
        status: str,
        outcome: StepOutcome | None = None,
    ) -> None:
        state["status"] = status
        state["entry"] = None
        run.version += 1
        error = failure_type = None
        if outcome is not None:
            state["outputs"] = outcome.outputs
            if outcome.checkpoint is not None:
                state["checkpoint"] = outcome.checkpoint
            if outcome.status != m.SUCCESS:
                error, failure_type = outcome.error, outcome.failure_type
        self._updates.append(
            m.StepUpdate(
                node.key,
                self._position(node.key),
                run.node.key,
                node.identifier,
                node.name,
                node.type,
                state["phase"],
                status,
                state["attempt"],
                outcome.outputs if outcome is not None else None,
                error,
                failure_type,
            )
        )

    # -- decisions -----------------------------------------------------------------------

    def _when(self, when: When | None, status: str, values: Callable[[], Mapping[str, Any]]) -> bool:
        when = when or When()
        if when.status != "All" and when.status != status:
            return False
        if when.condition is None:
            return True
        return evaluate_condition(when.condition, values())

    def _strategy(
        self,
        own: tuple[FailureStrategy, ...],
        chain: tuple[tuple[FailureStrategy, ...], ...],
        run: _StageRun | None,
        failure_type: str,
        *,
        rollback: bool = False,
    ) -> Action:
        """The action of the nearest failure strategy naming this error type."""
        levels = [own, *chain]
        if run is not None:
            levels += [run.node.strategies, self.plan.strategies]
        for level in levels:
            for strategy in level:
                if strategy.matches(failure_type):
                    if rollback and strategy.action.type not in ("Retry", "Ignore", "MarkAsSuccess"):
                        continue
                    return strategy.action
        return Action("Fail") if rollback else DEFAULT_STRATEGY.action

    # -- what expressions see ------------------------------------------------------------

    def _values(
        self,
        run: _StageRun | None,
        node: StepNode | None = None,
        attempt: int = 1,
        loops: tuple[Iteration, ...] | None = None,
    ) -> dict[str, Any]:
        stages = {r.node.identifier: self._stage_entry(r) for r in self._stages.values()}
        values: dict[str, Any] = {
            **self.run.scope,
            "pipeline": {
                "identifier": self.plan.identifier,
                "name": self.plan.name,
                "executionId": self.run.execution_id,
                "sequenceId": self.run.sequence_id,
                "startTs": self.run.start_ts,
                "triggeredBy": {"name": self.run.triggered_by or "", "email": ""},
                "executionMode": "NORMAL",
                "description": self.plan.description,
                "tags": dict(self.plan.tags),
                "variables": self._pipeline_variables,
                "stages": stages,
            },
        }
        if run is not None:
            stage = stages[run.node.identifier]
            values["stage"] = stage
            values["execution"] = stage["spec"]["execution"]
            values["steps"] = stage["spec"]["execution"]["steps"]
            if run.target is not None:
                target_values = run.target.get("values") or {}
                values.update(mark_stage_inputs(target_values, run.target.get("runtimeValues") or ()))
        if node is not None:
            values["step"] = {
                "identifier": node.identifier,
                "name": node.name,
                "type": node.type,
                "retryCount": attempt - 1,
            }
        if loops is None:
            loops = node.loops if node is not None else run.node.loops if run is not None else ()
        if loops:  # <+matrix.*>, <+repeat.item>, <+strategy.*> of the iterations it runs in
            values.update(loop_values(loops))
            if "step" in values:
                values["step"]["identifierPostFix"] = loops[-1].postfix
        if run is not None and run.node.loops:  # <+stage.matrix.KEY>: the stage's own iteration
            own = run.node.loops[-1]
            values["stage"] = {
                **values["stage"],
                "matrix": dict(own.matrix),
                "identifierPostFix": own.postfix,
            }
        return values

    def _stage_entry(self, run: _StageRun) -> dict[str, Any]:
        """What `<+pipeline.stages.ID>` reads; rebuilt only after the stage changed (each
        step's own entry is kept until that step changes), so a long stage stays cheap."""
        if run.entry is None or run.entry_version != run.version:
            run.entry = stage_entry(
                {
                    "identifier": run.node.identifier,
                    "name": run.node.name,
                    "type": run.node.type,
                    "description": run.node.description,
                    "tags": dict(run.node.tags),
                    "status": run.status,
                    "variables": run.variables,
                    "steps": run.steps.values(),
                }
            )
            run.entry_version = run.version
        return run.entry


def _approval_outcome(decided: m.ApprovalDecided) -> StepOutcome:
    outputs = {
        "approvalStatus": decided.status,
        "comment": decided.comment or "",
        "approvedBy": decided.by or "",
        "approverInputs": dict(decided.inputs),
        "approvalActivities": list(decided.activities),
    }
    if decided.status == "Approved":
        return StepOutcome(m.SUCCESS, outputs)
    if decided.status == "Rejected":
        message = f"Rejected by {decided.by or 'an approver'}" + (
            f": {decided.comment}" if decided.comment else ""
        )
        return StepOutcome(m.APPROVAL_REJECTED, outputs, message, "ApprovalRejection")
    if decided.status == "Expired":
        return StepOutcome(m.EXPIRED, outputs, "Nobody approved before the step timed out.", "Timeout")
    return StepOutcome(m.ABORTED, outputs, "The pipeline was aborted while waiting for approval.", "Unknown")
