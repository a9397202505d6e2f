"""Where step families meet the engine: the one place that registers every step type.

    register_step_types()   # generic steps (engine/builtin.py) and the ECS steps (ecs_step_types.py)

The engine knows no step family: it loads this through the `corral.step_types` entry point
(pyproject.toml) the first time it looks a step type up, so `import corral.engine` stays free of
ECS, AWS and botocore, and a plugin can add its own step types the same way. This package may
import both `engine/` and `ecs/`; neither of them imports it (the layer check in CI says so).

    ecs_steps.py    the ECS step types: Harness spec fields -> corral.ecs options, rendered target, clients
    ecs_step_types.py  their names and spec models, registered without loading ecs_steps.py
"""

from __future__ import annotations


def register_step_types() -> None:
    from corral.engine.builtin import register_generic_steps

    from .ecs_step_types import register_ecs_step_types

    register_generic_steps()
    # each ECS type with its spec model; ecs_steps.py (and botocore) load when one first runs
    register_ecs_step_types()
