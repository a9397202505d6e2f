"""Step implementations by `type`, and what each one receives and returns.

    def run(ctx: StepRun) -> StepOutcome: ...
    register("EcsRollingDeploy", run, spec=RollingDeploySpec)   # spec: its StepSpec model (step_specs.py)

A registered type is one this build can run; `corral validate`, `plan` and the start of `run`
refuse any other, and check each step's `spec` against its type's model before anything runs.

A step is the only place a pipeline touches the world, so it must be safe to run again: the
process may die half way and the step is then re-run with `ctx.previous_checkpoint`, the
last data it passed to `ctx.checkpoint(...)` (journaled at once), so it can look before it
creates. It should return promptly once `ctx.abort` is set (abort or timeout) and may raise
a CorralError (its message is the step's error) instead of returning a failed outcome.

The generic steps (ShellScript, Http, Wait, Verify) and the ECS steps register through
corral.wiring (the `corral.step_types` entry point), loaded when a step type is first looked up;
HarnessApproval is handled by the interpreter (it waits for a person, not for
code), so it has no implementation here.
"""

from __future__ import annotations

import importlib.metadata
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corral.step_log import StepLog

# re-exported (`X as X`): a step's author imports what a step returns from here
from .messages import ABORTED as ABORTED
from .messages import EXPIRED as EXPIRED
from .messages import FAILED as FAILED
from .messages import SUCCESS as SUCCESS
from .messages import PreparedTarget
from .messages import StepOutcome as StepOutcome
from .step_process import StepProcesses

if TYPE_CHECKING:
    from corral.config.project import Project
    from corral.config.secrets import SecretResolver

    from .messages import RunStep
    from .step_specs import StepSpec

NO_WAIT = "noWait"  # the execution's inputs hold it when it was started with --no-wait / noWait
OUTCOME_STATUSES = (SUCCESS, FAILED, ABORTED, EXPIRED)


@dataclass(frozen=True)
class StageTarget:
    """Where a Deployment stage deploys: ids of the Corral entities and the ECS cluster."""

    service: str | None
    environment: str
    infrastructure: str | None
    cluster: str | None = None
    region: str | None = None
    connector_ref: str | None = None
    endpoint_url: str | None = None
    service_name: str | None = None  # the ECS service name from the service definition
    # the service as the stage rendered it when it started (RenderedService.to_journal)
    rendered: Mapping[str, Any] | None = field(default=None, repr=False)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> StageTarget | None:
        if not data:
            return None
        return cls(
            service=data.get("service"),
            environment=str(data.get("environment", "")),
            infrastructure=data.get("infrastructure"),
            cluster=data.get("cluster"),
            region=data.get("region"),
            connector_ref=data.get("connectorRef"),
            endpoint_url=data.get("endpointUrl"),
            service_name=data.get("serviceName"),
            rendered=data.get("rendered"),
        )


@dataclass(frozen=True)
class PriorStep:
    """A step of the same stage that already ended (for rollback steps: what to undo)."""

    key: str
    identifier: str
    type: str
    phase: str
    status: str
    outputs: Mapping[str, Any]
    checkpoint: Mapping[str, Any] | None


@dataclass
class StepRun:
    """Everything a step gets. `spec` has every expression rendered, secrets included."""

    execution_id: str
    stage: str
    identifier: str
    name: str
    type: str
    key: str
    attempt: int
    phase: str  # execution | rollback
    spec: dict[str, Any]
    target: StageTarget | None
    log: StepLog
    deadline: float  # time.monotonic() value
    abort: threading.Event
    checkpoint: Callable[[dict[str, Any]], None]
    previous_checkpoint: dict[str, Any] | None = None
    prior_steps: Sequence[PriorStep] = ()
    values: Mapping[str, Any] = field(default_factory=dict, repr=False)  # what expressions saw
    project: Project | None = None
    secrets: SecretResolver | None = None
    mask: Callable[[str], str] = lambda text: text
    timed_out: threading.Event = field(default_factory=threading.Event)
    # the run's inputs for the stages' services and its --set values: a step that renders the
    # stage's service (the ECS steps) renders it as the stage was prepared
    service_inputs: Mapping[str, Any] = field(default_factory=dict, repr=False)
    sets: Mapping[str, Any] = field(default_factory=dict, repr=False)
    # `corral run --no-wait` (or the API's noWait): a step whose ECS service another deployment
    # holds fails at once instead of waiting
    no_wait: bool = False
    # how a step that runs code the project supplies runs it (this process's user, isolated, refused)
    processes: StepProcesses = field(default_factory=StepProcesses)

    @classmethod
    def for_command(
        cls,
        command: RunStep,
        *,
        execution_id: str,
        spec: dict[str, Any],
        log: StepLog,
        deadline: float,
        abort: threading.Event,
        checkpoint: Callable[[dict[str, Any]], None],
        previous_checkpoint: dict[str, Any] | None,
        project: Project | None,
        secrets: SecretResolver | None,
        mask: Callable[[str], str],
        inputs: Mapping[str, Any],
        no_wait: bool = False,
        processes: StepProcesses | None = None,
    ) -> StepRun:
        """The run of an interpreter's RunStep command, in the embedded executor or on a delegate."""
        return cls(
            execution_id=execution_id,
            stage=command.stage_key,
            identifier=command.identifier,
            name=command.name,
            type=command.type,
            key=command.step_key,
            attempt=command.attempt,
            phase=command.phase,
            spec=spec,
            target=StageTarget.from_dict(command.target),
            log=log,
            deadline=deadline,
            abort=abort,
            checkpoint=checkpoint,
            previous_checkpoint=previous_checkpoint,
            prior_steps=[PriorStep(**p) for p in command.prior_steps],
            values=command.values,
            project=project,
            secrets=secrets,
            mask=mask,
            service_inputs=inputs.get("service") or {},
            sets=inputs.get("sets") or {},
            no_wait=no_wait or bool(inputs.get(NO_WAIT)),
            processes=processes or StepProcesses(),
        )

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def stopped(self) -> bool:
        """True once the step should stop (aborted or out of time)."""
        return self.abort.is_set() or self.remaining() <= 0

    def stopped_outcome(self) -> StepOutcome:
        """The outcome of a step that stopped because it was told to."""
        if self.timed_out.is_set() or self.remaining() <= 0:
            return StepOutcome(EXPIRED, error="The step timed out.", failure_type="Timeout")
        return StepOutcome(ABORTED, error="The step was aborted.")

    def prior(self, *, type: str | None = None, identifier: str | None = None) -> PriorStep | None:
        """The latest earlier step of this stage with that type or identifier."""
        for step in reversed(self.prior_steps):
            if (type is None or step.type == type) and (identifier is None or step.identifier == identifier):
                return step
        return None


StepImpl = Callable[[StepRun], StepOutcome]

_REGISTRY: dict[str, StepImpl] = {}
_SPECS: dict[str, type[StepSpec] | None] = {"HarnessApproval": None}  # checked when the pipeline loads
_LOCK = threading.RLock()
_loaded = False
# step families register themselves through this entry point group (corral.wiring for the
# built-in ones): the engine names no family, and importing it loads none
ENTRY_POINTS = "corral.step_types"


def _load_step_types() -> None:
    """Once, before the registry is first used: every `corral.step_types` entry point's function."""
    global _loaded
    with _LOCK:
        if _loaded:
            return
        _loaded = True
        for entry in sorted(importlib.metadata.entry_points(group=ENTRY_POINTS), key=lambda e: e.name):
            entry.load()()


# Prepares a Deployment stage's target (render its service, the lock key); the step families'
# wiring registers it (corral.wiring.stage_targets.prepare_target), as it registers step types
StagePreparer = Callable[..., PreparedTarget]
_stage_preparer: list[StagePreparer] = []


def register_stage_preparer(preparer: StagePreparer) -> None:
    _load_step_types()
    with _LOCK:
        _stage_preparer[:] = [preparer]


def stage_preparer() -> StagePreparer:
    """What prepares a stage's target: `preparer(project, PrepareStage, inputs=, sets=, secrets=)`."""
    _load_step_types()
    if not _stage_preparer:
        raise RuntimeError("no stage preparer is registered (corral.wiring was not loaded)")
    return _stage_preparer[0]


def register(type_name: str, impl: StepImpl, *, spec: type[StepSpec] | None = None) -> None:
    """Make `impl` run every step of `type_name` (a later registration replaces an earlier one).
    spec: the model its `spec:` is checked against before a run starts (engine/step_specs.py);
    without one, only the step type is checked before the run."""
    _load_step_types()
    with _LOCK:
        _REGISTRY[type_name] = impl
        _SPECS[type_name] = spec


def unregister(type_name: str) -> None:
    _load_step_types()
    with _LOCK:
        _REGISTRY.pop(type_name, None)
        _SPECS.pop(type_name, None)


def spec_models() -> dict[str, type[StepSpec] | None]:
    """The spec model of every step type that can run (None: not checked before the run)."""
    _load_step_types()
    with _LOCK:
        return dict(_SPECS)


def implementation(type_name: str) -> StepImpl | None:
    _load_step_types()
    return _REGISTRY.get(type_name)


def registered_types() -> list[str]:
    """Every step type that can run, the interpreter's own (HarnessApproval) included."""
    _load_step_types()
    return sorted({*_REGISTRY, "HarnessApproval"})
