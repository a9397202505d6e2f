"""The ECS step types and their spec models: the fields `Spec` reads in ecs_steps.py, with their
types, checked by `validate`, `plan` and the start of `run` (engine/step_specs.py).

A step type added to ecs_steps.py's STEP_TYPES adds its model here, in `ECS_SPECS` (None: its
spec is checked by config/ecs_step_specs.py when the pipeline loads); tests/engine/
test_step_specs.py checks that the two name the same types.

`register_ecs_step_types()` (called by corral.wiring) registers every type in ECS_SPECS with its
model and an implementation that imports ecs_steps.py (which loads botocore) when a step of the
type first runs, so `corral validate` knows every step type without loading the AWS SDK;
`register_ecs_steps()` in ecs_steps.py registers the same types with the implementations.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, model_validator

from corral.ecs.native.judge import LIFECYCLE_STAGES, WAIT_UNTIL
from corral.engine.step_specs import StepSpec
from corral.engine.steps import register

if TYPE_CHECKING:
    from corral.engine.steps import StepImpl, StepOutcome, StepRun


class NoFields(StepSpec):
    """Rollback steps and Canary Delete: they read what the steps before them journaled."""


def wait_until_problem(value: object) -> str | None:
    """What is wrong with a `waitUntil` value (None: nothing)."""
    if value in WAIT_UNTIL:
        return None
    return f"expected SUCCESSFUL, PAUSED or a lifecycle stage of ECS ({', '.join(LIFECYCLE_STAGES)}), got {value!r}"


def _wait_until(value: str) -> str:
    problem = wait_until_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


# how far a step waits on a service deployment of a native strategy (Corral's field)
WaitUntil = Annotated[str, AfterValidator(_wait_until)]


class RollingDeploySpec(StepSpec):
    same_as_already_running_instances: bool = False
    force_new_deployment: bool = False
    skip_application_scaling: bool = False
    wait_until: WaitUntil | None = None


class CanaryDeploySpec(StepSpec):
    instances: int | None = None
    desired_count: int | None = None


class BlueGreenCreateServiceSpec(StepSpec):
    load_balancer: str
    prod_listener: str
    prod_listener_rule_arn: str | None = None
    stage_listener: str | None = None
    stage_listener_rule_arn: str | None = None
    same_as_already_running_instances: bool = False
    enable_auto_scaling_in_swap_step: bool = False
    update_green_service: bool = False
    is_traffic_shift: bool = False
    stage_target_group_arn: str | None = None

    @model_validator(mode="after")
    def _stage_listener(self) -> BlueGreenCreateServiceSpec:
        if not self.is_traffic_shift and not self.stage_listener:
            raise ValueError("@stageListener: is required (unless isTrafficShift is true)")
        return self


class SwapTargetGroupsSpec(StepSpec):
    do_not_downsize_old_service: bool = False
    downsize_old_service_delay_in_secs: int = 0


class TrafficShiftSpec(StepSpec):
    weight_percentage: int | None = None
    weights: list[int] | None = None
    pause_seconds: int = 0
    do_not_downsize_old_service: bool = False
    downsize_old_service_delay_in_secs: int = 0


class RunTaskSpec(StepSpec):
    task_definition: dict[str, Any] | None = None
    task_definition_arn: str | None = None
    run_task_request_definition: dict[str, Any] | None = None
    skip_steady_state_check: bool = False
    wait_for_exit: bool = False


ECS_SPECS: dict[str, type[StepSpec] | None] = {
    "EcsRollingDeploy": RollingDeploySpec,
    "EcsRollingRollback": NoFields,
    "EcsCanaryDeploy": CanaryDeploySpec,
    "EcsCanaryDelete": NoFields,
    "EcsBlueGreenCreateService": BlueGreenCreateServiceSpec,
    "EcsBlueGreenSwapTargetGroups": SwapTargetGroupsSpec,
    "EcsBlueGreenRollback": NoFields,
    # Harness's ecsTrafficShiftWrapper and Corral's earlier shape: config/traffic_shift_spec.py
    "EcsBlueGreenTrafficShift": None,
    "EcsBlueGreenTrafficShiftRollback": NoFields,
    "StandAloneTrafficShiftRollback": NoFields,
    "EcsRunTask": RunTaskSpec,
    # checked field by field when the pipeline loads (config/ecs_step_specs.py)
    "EcsScale": None,
    "EcsServiceSetup": None,
    "EcsUpgradeContainer": None,
    "EcsBasicRollback": None,
}


def register_ecs_step_types() -> None:
    for type_name, model in ECS_SPECS.items():
        register(type_name, _when_run(type_name), spec=model)


def _when_run(type_name: str) -> StepImpl:
    def run(ctx: StepRun) -> StepOutcome:
        from .ecs_steps import STEP_TYPES

        return STEP_TYPES[type_name](ctx)

    return run
