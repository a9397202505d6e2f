"""A Deployment stage whose service ECS deploys with its own strategy (BLUE_GREEN, LINEAR,
CANARY) cannot use Harness's steps that make services of their own: Blue Green (Create
Service, Swap Target Groups, Traffic Shift), Canary Deploy and Basic (Service Setup, Upgrade
Container). Each would hand ECS's listener rules to a second service, or move counts and traffic
while ECS does. EcsRollingDeploy follows the native deployment instead (ecs/native/).

Checked by `corral validate` once every service is rendered on every infrastructure a stage
can deploy it to (validation.py): one problem per stage, at its first such step; the start of
`corral run` says the same of the stages it is about to run (engine/pipeline_checks.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from corral.errors import Problem

from .entities.pipeline import DeploymentStage, Pipeline, StepElement
from .problems import split_path
from .project import Project
from .targets import stage_targets

# the Harness steps that make a service of their own, and the deployment they belong to
OWN_SERVICE_STEPS = {
    "EcsBlueGreenCreateService": "Blue Green",
    "EcsBlueGreenSwapTargetGroups": "Blue Green",
    "EcsBlueGreenTrafficShift": "Blue Green",
    "EcsCanaryDeploy": "Canary",
    "EcsServiceSetup": "Basic",
    "EcsUpgradeContainer": "Basic",
}
Triple = tuple[str, str, str]  # (service, environment, infrastructure)


@dataclass(frozen=True)
class NativeService:
    """A rendered service definition that deploys with ECS's own strategy."""

    strategy: str
    source: str  # the service definition's file, as rendering names it


def native_stage_step_problems(project: Project, native: Mapping[Triple, NativeService]) -> list[Problem]:
    """Every Deployment stage that deploys a service in `native` with Harness's own-service steps."""
    problems = []
    for pipeline in project.pipelines.values():
        stages = pipeline.all_stages()
        by_id = {stage.identifier: stage for _, stage in stages}
        for path, stage in stages:
            if not isinstance(stage, DeploymentStage):
                continue
            found = sorted(t for t in stage_targets(project, stage, by_id) if t in native)
            steps = list(_own_service_steps(stage, path))
            if found and steps:
                problems.append(_problem(pipeline, stage, steps, found, native))
    return problems


def _own_service_steps(stage: DeploymentStage, path: str) -> Iterator[tuple[str, str]]:
    execution = stage.spec.execution
    yield from _walk(execution.steps, f"{path}.spec.execution.steps")
    yield from _walk(execution.rollback_steps, f"{path}.spec.execution.rollbackSteps")


def _walk(elements: list[StepElement], path: str) -> Iterator[tuple[str, str]]:
    """(path of the step's type, type) of every own-service step, in document order."""
    for index, element in enumerate(elements):
        at = f"{path}[{index}]"
        if element.step is not None and element.step.type in OWN_SERVICE_STEPS:
            yield f"{at}.step.type", element.step.type
        elif element.step_group is not None:
            yield from _walk(element.step_group.steps, f"{at}.stepGroup.steps")
            yield from _walk(element.step_group.rollback_steps, f"{at}.stepGroup.rollbackSteps")
        elif element.parallel is not None:
            yield from _walk(element.parallel, f"{at}.parallel")


def _problem(
    pipeline: Pipeline,
    stage: DeploymentStage,
    steps: list[tuple[str, str]],
    found: list[Triple],
    native: Mapping[Triple, NativeService],
) -> Problem:
    service, env, infra = found[0]
    on = f"infrastructure {env}/{infra}" + (f" and {len(found) - 1} more" if len(found) > 1 else "")
    path = steps[0][0]
    return Problem(
        pipeline.where(split_path(path)),
        path,
        own_service_steps_message(
            stage.identifier, service, native[found[0]], on, [kind for _, kind in steps]
        ),
    )


def own_service_steps_message(
    stage: str, service: str, native: NativeService, on: str, types: list[str]
) -> str:
    """Why the stage cannot deploy the service with those steps, and what to use instead."""
    types = list(dict.fromkeys(types))
    kinds = sorted({OWN_SERVICE_STEPS[kind] for kind in types})
    several = len(types) > 1
    return (
        f"stage '{stage}' deploys service '{service}' with ECS's {native.strategy} strategy "
        f"(deploymentConfiguration.strategy in {native.source}, on {on}), which moves traffic itself; "
        f"{_listed(types)} {'make' if several else 'makes'} services of {'their' if several else 'its'} own "
        f"(Harness's {_listed(kinds)} deployment{'s' if len(kinds) > 1 else ''}) and cannot deploy it. "
        "Use EcsRollingDeploy, which follows ECS's deployment, or set the strategy to ROLLING"
    )


def _listed(items: list[str]) -> str:
    """a; a and b; a, b and c."""
    return " and ".join(items) if len(items) < 3 else f"{', '.join(items[:-1])} and {items[-1]}"
