"""`pipeline:` and `inputSet:` documents, loosely typed.

The pipeline interpreter (a later part) reads these; here they are typed down to what the
project checks: identifiers, stage and step structure, references to services,
environments and infrastructures, and step `type` names. Step and stage `spec` stay open
mappings so every field of the Harness YAML loads.
"""

from __future__ import annotations

import difflib
from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from ..approvals import approval_spec_problem
from ..ecs_step_specs import custom_stage_problems, ecs_step_spec_problems, execution_problems
from ..provisioner_specs import PROVISIONER_STEP_TYPES, provisioner_spec_problem
from .common import Entity, Identifier, Model, field_error

STEP_TYPES = (
    # ECS
    "EcsRollingDeploy",
    "EcsRollingRollback",
    "EcsCanaryDeploy",
    "EcsCanaryDelete",
    "EcsBlueGreenCreateService",
    "EcsBlueGreenSwapTargetGroups",
    "EcsBlueGreenRollback",
    "EcsBlueGreenTrafficShift",
    "EcsBlueGreenTrafficShiftRollback",
    "StandAloneTrafficShiftRollback",
    "EcsRunTask",
    "EcsScale",
    "EcsServiceSetup",
    "EcsUpgradeContainer",
    "EcsBasicRollback",
    # ECS-native deployments (Corral's, in Harness's naming style)
    "EcsServiceDeploymentWait",
    "EcsServiceDeploymentContinue",
    "EcsServiceDeploymentRollback",
    "EcsServiceDeploymentStop",
    # generic
    "ShellScript",
    "Http",
    "HarnessApproval",
    "Wait",
    "Verify",
    "Barrier",
    # infrastructure provisioners (provisioner_specs.py)
    *PROVISIONER_STEP_TYPES,
)


class FailureStrategy(Model):
    model_config = ConfigDict(extra="allow")
    on_failure: dict[str, Any]


class Step(Model):
    identifier: Identifier
    name: str
    type: str
    timeout: str | None = None
    description: str | None = None
    spec: dict[str, Any] = Field(default_factory=dict)
    failure_strategies: list[FailureStrategy] | str | None = None
    when: dict[str, Any] | None = None
    strategy: dict[str, Any] | None = None
    enforce: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _known_type(self) -> Step:
        problem = provisioner_spec_problem(self.type, self.spec)
        if problem is not None:
            raise field_error(*problem)
        if self.type not in STEP_TYPES:
            close = difflib.get_close_matches(self.type, STEP_TYPES, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"expected one of {', '.join(STEP_TYPES)}"
            raise field_error("type", f"unknown step type '{self.type}'; {hint}")
        if self.type == "HarnessApproval":
            problem = approval_spec_problem(self.spec)
            if problem is not None:
                raise field_error(*problem)
        for problem in ecs_step_spec_problems(self.type, self.spec)[:1]:
            raise field_error(*problem)
        return self


class StepGroup(Model):
    identifier: Identifier
    name: str
    steps: list[StepElement] = Field(min_length=1)
    rollback_steps: list[StepElement] = Field(default_factory=list)
    failure_strategies: list[FailureStrategy] | str | None = None
    when: dict[str, Any] | None = None
    strategy: dict[str, Any] | None = None
    delegate_selectors: list[str] | str | None = None
    timeout: str | None = None


class StepElement(Model):
    """One list item: `- step:`, `- stepGroup:` or `- parallel: [...]`."""

    step: Step | None = None
    step_group: StepGroup | None = None
    parallel: list[StepElement] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> StepElement:
        if sum(x is not None for x in (self.step, self.step_group, self.parallel)) != 1:
            raise ValueError("expected exactly one of step, stepGroup or parallel")
        return self


class Execution(Model):
    steps: list[StepElement] = Field(min_length=1)
    rollback_steps: list[StepElement] = Field(default_factory=list)

    @model_validator(mode="after")
    def _ecs_scale_counts(self) -> Execution:
        problems = execution_problems(self)
        if problems:
            raise field_error(*problems[0])
        return self


class ServiceConfig(Model):
    service_ref: str | None = None
    service_inputs: dict[str, Any] | str | None = None
    use_from_stage: dict[str, str] | None = None


class InfrastructureRef(Model):
    identifier: str
    inputs: dict[str, Any] | str | None = None


class ProvisionerConfig(Model):
    """`environment.provisioner`: steps that run before the deployment (their outputs are the
    infrastructure definition's `<+provisioner.*>`), and the steps that undo them on failure."""

    steps: list[StepElement] = Field(min_length=1)
    rollback_steps: list[StepElement] = Field(default_factory=list)


class EnvironmentConfig(Model):
    environment_ref: str
    deploy_to_all: bool | None = None
    infrastructure_definitions: list[InfrastructureRef] | str | None = None
    environment_inputs: dict[str, Any] | str | None = None
    service_override_inputs: dict[str, Any] | str | None = None
    provisioner: ProvisionerConfig | None = None


class DeploymentStageSpec(Model):
    deployment_type: Literal["ECS"] = "ECS"
    service: ServiceConfig | None = None
    environment: EnvironmentConfig | None = None
    execution: Execution
    variables: list[dict[str, Any]] | None = None


class _StageBase(Model):
    identifier: Identifier
    name: str
    description: str | None = None
    failure_strategies: list[FailureStrategy] | str | None = None
    when: dict[str, Any] | None = None
    tags: dict[str, str | None] | None = None
    variables: list[dict[str, Any]] | None = None
    delegate_selectors: list[str] | str | None = None
    strategy: dict[str, Any] | None = None
    timeout: str | None = None


class DeploymentStage(_StageBase):
    type: Literal["Deployment"]
    spec: DeploymentStageSpec


class CustomStageSpec(Model):
    execution: Execution
    environment: EnvironmentConfig | None = None

    @model_validator(mode="after")
    def _ecs_scale_targets(self) -> CustomStageSpec:
        problems = custom_stage_problems(self.execution, has_infrastructure=self.environment is not None)
        if problems:
            raise field_error(*problems[0])
        return self


class CustomStage(_StageBase):
    type: Literal["Custom"]
    spec: CustomStageSpec


class ApprovalStage(_StageBase):
    type: Literal["Approval"]
    spec: dict[str, Any] = Field(default_factory=dict)


Stage = Annotated[DeploymentStage | CustomStage | ApprovalStage, Field(discriminator="type")]
AnyStage = DeploymentStage | CustomStage | ApprovalStage


class StageElement(Model):
    """One list item: `- stage:` or `- parallel: [...]`."""

    stage: Stage | None = None
    parallel: list[StageElement] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _exactly_one(self) -> StageElement:
        if (self.stage is None) == (self.parallel is None):
            raise ValueError("expected exactly one of stage or parallel")
        return self


class Pipeline(Entity):
    stages: list[StageElement] = Field(min_length=1)
    variables: list[dict[str, Any]] | None = None
    properties: dict[str, Any] | None = None
    allow_stage_executions: bool | None = None
    delegate_selectors: list[str] | str | None = None
    notification_rules: list[dict[str, Any]] | None = None
    timeout: str | None = None
    flow_control: dict[str, Any] | None = None

    def all_stages(self) -> list[tuple[str, AnyStage]]:
        """(YAML path, stage) for every stage, parallel ones included."""
        return list(_walk_stages(self.stages, "pipeline.stages"))


def _walk_stages(elements: list[StageElement], path: str) -> Any:
    for index, element in enumerate(elements):
        if element.stage is not None:
            yield f"{path}[{index}].stage", element.stage
        elif element.parallel is not None:
            yield from _walk_stages(element.parallel, f"{path}[{index}].parallel")


class InputSetPipeline(Model):
    """The pipeline fragment an input set fills in; matched to the pipeline by identifier."""

    model_config = ConfigDict(extra="allow")
    identifier: str


class InputSet(Entity):
    pipeline: InputSetPipeline
