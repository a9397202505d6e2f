"""Where step families meet the engine: the one place that registers every step type.

    register_step_types()   # generic steps (engine/builtin.py) and the ECS steps (ecs_step_types.py)

The engine knows no step family: it loads this through the `corral.step_types` entry point
(pyproject.toml) the first time it looks a step type up, so `import corral.engine` stays free of
ECS, AWS and botocore, and a plugin can add its own step types the same way. This package may
import both `engine/` and `ecs/`; neither of them imports it (the layer check in CI says so).

    ecs_steps.py    the ECS step types: Harness spec fields -> corral.ecs options, rendered target, clients
    cloudformation_steps.py  CreateStack, DeleteStack, RollbackStack -> corral.provisioners.cloudformation
    ecs_step_types.py  their names and spec models, registered without loading ecs_steps.py
    stage_targets.py  a Deployment stage's target when it starts: its service rendered once, the lock key
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corral.engine.steps import StepImpl, StepOutcome, StepRun


def register_step_types() -> None:
    from corral.engine.builtin import register_generic_steps
    from corral.engine.steps import register, register_stage_preparer

    from .ecs_step_types import register_ecs_step_types
    from .stage_targets import prepare_target

    register_generic_steps()
    register_stage_preparer(prepare_target)
    # each ECS type with its spec model; ecs_steps.py (and botocore) load when one first runs
    register_ecs_step_types()
    # checked field by field when the pipeline loads (config/provisioner_specs.py); the adapter
    # (and botocore) load when one first runs
    for type_name in CLOUDFORMATION_STEP_TYPES:
        register(type_name, _cloudformation(type_name))


CLOUDFORMATION_STEP_TYPES = ("CreateStack", "DeleteStack", "RollbackStack")


def _cloudformation(type_name: str) -> StepImpl:
    def run(step: StepRun) -> StepOutcome:
        from .cloudformation_steps import STEP_TYPES

        return STEP_TYPES[type_name](step)

    return run
