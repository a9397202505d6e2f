"""The spec models of the ECS step types (engine/ecs_steps.py registers each with its
implementation): the fields `Spec` reads there, with their types, checked before a run starts.

A step type added to ecs_steps.py adds its model here and to `ECS_SPECS`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from .step_specs import StepSpec


class NoFields(StepSpec):
    """Rollback steps and Canary Delete: they read what the steps before them journaled."""


class RollingDeploySpec(StepSpec):
    same_as_already_running_instances: bool = False
    force_new_deployment: bool = False


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


class ScaleSpec(StepSpec):
    instances: int
    instance_unit: Literal["Count", "Percentage"] = "Count"
    skip_steady_state_check: bool = False
    service_name: str | None = None


ECS_SPECS: dict[str, type[StepSpec]] = {
    "EcsRollingDeploy": RollingDeploySpec,
    "EcsRollingRollback": NoFields,
    "EcsCanaryDeploy": CanaryDeploySpec,
    "EcsCanaryDelete": NoFields,
    "EcsBlueGreenCreateService": BlueGreenCreateServiceSpec,
    "EcsBlueGreenSwapTargetGroups": SwapTargetGroupsSpec,
    "EcsBlueGreenRollback": NoFields,
    "EcsBlueGreenTrafficShift": TrafficShiftSpec,
    "EcsBlueGreenTrafficShiftRollback": NoFields,
    "EcsRunTask": RunTaskSpec,
    "EcsScale": ScaleSpec,
}
