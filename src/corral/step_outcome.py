"""How a step ended, and the statuses of pipelines, stages and steps: one type each, shared by
the engine (its steps, its interpreter, its journal) and the step families (ecs/ returns a
StepOutcome from every step: its outputs, and as `checkpoint` its rollback data), which import
nothing of each other.

    outcome = rolling_deploy(ctx, target, RollingDeployOptions())
    outcome.outputs["taskDefinitionArn"]      # <+execution.steps.STEP_ID.output.taskDefinitionArn>
    rolling_rollback(ctx, target, outcome.checkpoint)

Outputs and checkpoint are plain JSON-serializable data so the engine can journal them; an ECS
step's checkpoint is the same dict it passed to `StepContext.checkpoint` before its first change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A pipeline's, stage's or step's status. A StrEnum: the journal, the store, the API and
    Temporal's payloads carry the plain word, and a word read back compares equal."""

    RUNNING = "Running"
    SUCCESS = "Success"
    FAILED = "Failed"
    ABORTED = "Aborted"
    EXPIRED = "Expired"
    SKIPPED = "Skipped"
    IGNORE_FAILED = "IgnoreFailed"
    APPROVAL_REJECTED = "ApprovalRejected"
    APPROVAL_WAITING = "ApprovalWaiting"
    INTERVENTION_WAITING = "InterventionWaiting"
    RETRYING = "Retrying"
    WAITING = "Waiting"  # for a lock on the ECS service
    QUEUED = "Queued"


@dataclass
class StepOutcome:
    """How a step ended. `outputs` are what `<+execution.steps.ID.output.NAME>` reads;
    `failure_type` is matched against failure strategies' `errors` (Unknown, Timeout,
    Verification, Connectivity, Authentication, Authorization, ...)."""

    status: str = Status.SUCCESS
    outputs: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    failure_type: str = "Unknown"
    checkpoint: dict[str, Any] | None = None

    @classmethod
    def failed(
        cls, error: str, *, failure_type: str = "Unknown", outputs: dict[str, Any] | None = None
    ) -> StepOutcome:
        return cls(Status.FAILED, dict(outputs or {}), error, failure_type)
