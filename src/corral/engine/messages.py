"""What flows in and out of the interpreter: commands, events and state updates.

    commands  what the interpreter asks its executor to do (run a step, wait for an approval,
              sleep, take a lock); each has a deterministic `id`
    events    what happened (a step finished, an approval was decided, a person asked to abort);
              the journal holds them in order, and replaying them rebuilds the interpreter
    updates   statuses for people (stage, step, pipeline), made again on every replay

All are plain dataclasses of JSON values: `to_json` / `event_from_json` convert events for
the journal (and for a Temporal workflow's history).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Required, TypedDict

from corral.step_outcome import Status, StepOutcome

__all__ = ["Status", "StepOutcome"]  # the engine's names for them; the rest below

# -- statuses, in Harness's words (corral/step_outcome.py) -----------------------------

RUNNING = Status.RUNNING
SUCCESS = Status.SUCCESS
FAILED = Status.FAILED
ABORTED = Status.ABORTED
EXPIRED = Status.EXPIRED
SKIPPED = Status.SKIPPED
IGNORE_FAILED = Status.IGNORE_FAILED
APPROVAL_REJECTED = Status.APPROVAL_REJECTED
APPROVAL_WAITING = Status.APPROVAL_WAITING
INTERVENTION_WAITING = Status.INTERVENTION_WAITING
RETRYING = Status.RETRYING
WAITING = Status.WAITING
QUEUED = Status.QUEUED
FINISHED = frozenset({SUCCESS, FAILED, ABORTED, EXPIRED, SKIPPED, IGNORE_FAILED, APPROVAL_REJECTED})

EXECUTION = "execution"
ROLLBACK = "rollback"


# -- a Deployment stage's target ---------------------------------------------------------


class StageLock(TypedDict):
    """The lock a stage takes on its ECS service: one deployment at a time per service."""

    key: str  # account|region|cluster|service
    description: dict[str, Any]  # account, region, cluster, service: for people


class PreparedTarget(TypedDict, total=False):
    """A Deployment stage's target as the stage preparer made it (corral.wiring.stage_targets):
    journaled with the stage and given to each of its steps (steps.StageTarget reads it). The
    ECS keys are there when the stage deploys a service to an infrastructure."""

    service: Required[str | None]
    environment: Required[str]
    infrastructure: Required[str | None]
    values: Required[dict[str, Any]]  # what <+env.*>, <+infra.*>, <+service.*>, ... read
    runtimeValues: Required[list[str]]  # the values that came from run-time inputs
    cluster: str | None
    region: str | None
    connectorRef: str | None
    endpointUrl: str | None
    rendered: dict[str, Any]  # the stage's service as rendered (RenderedService.to_journal)
    serviceName: str | None
    image: str | None
    lock: StageLock


# -- commands ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStep:
    id: str
    step_key: str
    stage_key: str
    identifier: str
    name: str
    type: str
    spec: dict[str, Any]
    timeout: float
    attempt: int
    phase: str
    target: PreparedTarget | None
    values: dict[str, Any] = field(repr=False)
    prior_steps: tuple[dict[str, Any], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class PrepareStage:
    """Resolve a stage's service, environment and infrastructure (render the service)."""

    id: str
    stage_key: str
    service: str | None
    environment: str
    infrastructure: str | None
    # each provisioner's outputs, by its identifier: the infrastructure's <+provisioner.*>
    provisioners: dict[str, Any] = field(default_factory=dict, repr=False)
    # the stage's fixed stage inputs (config/stage_inputs.py), expressions rendered
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AcquireLock:
    id: str
    stage_key: str
    key: str
    description: dict[str, Any]


@dataclass(frozen=True)
class ReleaseLock:
    id: str
    stage_key: str
    key: str


@dataclass(frozen=True)
class AwaitApproval:
    id: str
    step_key: str
    stage_key: str
    message: str
    approvers: dict[str, Any]
    inputs: tuple[dict[str, Any], ...]
    timeout: float


@dataclass(frozen=True)
class AwaitIntervention:
    id: str
    step_key: str
    stage_key: str
    error: str
    timeout: float
    actions: tuple[str, ...]


@dataclass(frozen=True)
class Sleep:
    id: str
    step_key: str
    seconds: float


@dataclass(frozen=True)
class Cancel:
    """Stop a pending command (abort); its result still comes back, marked as aborted."""

    id: str


Command = (
    RunStep | PrepareStage | AcquireLock | ReleaseLock | AwaitApproval | AwaitIntervention | Sleep | Cancel
)


# -- events -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepFinished:
    command_id: str
    status: str  # Success | Failed | Aborted | Expired
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    failure_type: str = "Unknown"
    checkpoint: dict[str, Any] | None = None


@dataclass(frozen=True)
class StagePrepared:
    command_id: str
    ok: bool
    target: PreparedTarget | None = None
    error: str | None = None


@dataclass(frozen=True)
class LockAcquired:
    command_id: str
    ok: bool
    error: str | None = None


@dataclass(frozen=True)
class LockReleased:
    command_id: str


@dataclass(frozen=True)
class TimerFired:
    command_id: str
    cancelled: bool = False


@dataclass(frozen=True)
class ApprovalDecided:
    command_id: str
    status: str  # Approved | Rejected | Expired | Aborted
    comment: str | None = None
    by: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)
    activities: list[dict[str, Any]] = field(default_factory=list)  # each vote: user, action, ...


@dataclass(frozen=True)
class InterventionDecided:
    command_id: str
    action: str | None  # one of the offered actions; None when it timed out
    cancelled: bool = False
    by: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class AbortRequested:
    by: str | None = None
    reason: str | None = None


Event = (
    StepFinished
    | StagePrepared
    | LockAcquired
    | LockReleased
    | TimerFired
    | ApprovalDecided
    | InterventionDecided
    | AbortRequested
)
EVENT_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        StepFinished,
        StagePrepared,
        LockAcquired,
        LockReleased,
        TimerFired,
        ApprovalDecided,
        InterventionDecided,
        AbortRequested,
    )
}


def to_json(message: Any) -> dict[str, Any]:
    return {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}


def event_from_json(kind: str, data: dict[str, Any]) -> Event:
    cls = EVENT_TYPES[kind]
    names = {f.name for f in dataclasses.fields(cls)}
    event: Event = cls(**{k: v for k, v in data.items() if k in names})
    return event


# -- updates ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StepUpdate:
    key: str
    position: int
    stage_key: str
    identifier: str
    name: str
    type: str  # the step type, or StepGroup
    phase: str
    status: str
    attempt: int = 1
    outputs: dict[str, Any] | None = None
    error: str | None = None
    failure_type: str | None = None


@dataclass(frozen=True)
class StageUpdate:
    key: str
    position: int
    identifier: str
    name: str
    status: str
    error: str | None = None
    rolled_back: bool = False


@dataclass(frozen=True)
class PipelineUpdate:
    status: str
    error: str | None = None


Update = StepUpdate | StageUpdate | PipelineUpdate


def person_requests(commands: Iterable[Any]) -> list[dict[str, Any]]:
    """The approval / intervention requests that wait commands open (store.open_request's fields).

    Executors write them with the step's waiting status, in one transaction: whoever sees the
    step waiting can decide at once.
    """
    requests: list[dict[str, Any]] = []
    for command in commands:
        if isinstance(command, AwaitApproval):
            requests.append(
                {
                    "command_id": command.id,
                    "step_key": command.step_key,
                    "kind": "approval",
                    "message": command.message,
                    "approvers": command.approvers,
                    "inputs": list(command.inputs),
                }
            )
        elif isinstance(command, AwaitIntervention):
            requests.append(
                {
                    "command_id": command.id,
                    "step_key": command.step_key,
                    "kind": "intervention",
                    "message": command.error,
                    "approvers": None,
                    "inputs": list(command.actions),
                }
            )
    return requests
