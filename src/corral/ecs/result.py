"""What every ECS step returns: its outputs (the reference's names, camelCase) and its rollback data.

    result = rolling_deploy(ctx, target, RollingDeployOptions())
    result.outputs["taskDefinitionArn"]      # <+execution.steps.STEP_ID.output.taskDefinitionArn>
    rolling_rollback(ctx, target, result.rollback_data)

Both are plain JSON-serializable data so the engine can journal them; `rollback_data` is the same
dict the step passed to `StepContext.checkpoint` before its first change to AWS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class StepResult:
    outputs: dict[str, Any] = field(default_factory=dict)
    rollback_data: dict[str, Any] = field(default_factory=dict)
