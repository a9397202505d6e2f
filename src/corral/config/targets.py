"""Which infrastructures a service can be deployed to, as the project's pipelines say.

A Deployment stage pairs services with environments and infrastructures. A fixed
`serviceRef` names one service; a runtime input with allowed values names those; any other
runtime input or expression means any service. The same goes for `environmentRef`, and
`infrastructureDefinitions` (a list of identifiers; absent, `deployToAll` or an input
means every infrastructure of the environment). A service no stage can deploy can go
anywhere: it is checked against every infrastructure.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from corral.errors import ExpressionError
from corral.expressions import find_inputs

from .entities.common import is_expression
from .entities.pipeline import DeploymentStage

if TYPE_CHECKING:
    from .project import Project

Target = tuple[str, str]  # (environment identifier, infrastructure identifier)


def deployment_targets(project: Project) -> dict[str, list[Target]]:
    """For each service, the (environment, infrastructure) pairs it can be deployed to."""
    everywhere = sorted(key for key in project.infrastructures if key[0] in project.environments)
    named: dict[str, set[Target]] = {}
    for pipeline in project.pipelines.values():
        stages = dict(pipeline.all_stages())
        by_id = {stage.identifier: stage for stage in stages.values()}
        for stage in stages.values():
            if not isinstance(stage, DeploymentStage) or stage.spec.environment is None:
                continue
            services = _services(project, stage, by_id)
            pairs = _pairs(project, stage)
            for service in services:
                named.setdefault(service, set()).update(pairs)
    return {
        service: sorted(named[service]) if named.get(service) else everywhere for service in project.services
    }


def stage_targets(
    project: Project, stage: DeploymentStage, by_id: Mapping[str, object]
) -> set[tuple[str, str, str]]:
    """The (service, environment, infrastructure) triples a Deployment stage can deploy;
    `by_id`: the pipeline's stages by identifier (for `useFromStage`)."""
    if stage.spec.environment is None:
        return set()
    pairs = _pairs(project, stage)
    return {(service, env, infra) for service in _services(project, stage, by_id) for env, infra in pairs}


def picks_any_service(stage: DeploymentStage, by_id: Mapping[str, object]) -> bool:
    """The stage's service is an expression with no allowed values: it may be any service."""
    config = stage.spec.service
    if config is None:
        return False
    if config.use_from_stage:
        source = by_id.get(config.use_from_stage.get("stage", ""))
        return picks_any_service(source, {}) if isinstance(source, DeploymentStage) else False
    ref = config.service_ref
    if ref is None or not is_expression(ref):
        return False
    try:
        specs = find_inputs(ref)
    except ExpressionError:
        return True
    return not (specs and specs[0].allowed_values)


def _services(project: Project, stage: DeploymentStage, by_id: Mapping[str, object]) -> set[str]:
    config = stage.spec.service
    if config is None:
        return set()
    if config.use_from_stage:
        source = by_id.get(config.use_from_stage.get("stage", ""))
        return _services(project, source, {}) if isinstance(source, DeploymentStage) else set()
    return _choices(config.service_ref, set(project.services))


def _pairs(project: Project, stage: DeploymentStage) -> set[Target]:
    environment = stage.spec.environment
    assert environment is not None
    pairs: set[Target] = set()
    for env in _choices(environment.environment_ref, set(project.environments)):
        infras = {infra.identifier for infra in project.infrastructures_of(env)}
        listed = environment.infrastructure_definitions
        if isinstance(listed, list) and listed and not environment.deploy_to_all:
            chosen: set[str] = set()
            for item in listed:
                chosen |= _choices(item.identifier, infras)
            infras &= chosen
        pairs |= {(env, infra) for infra in infras}
    return pairs


def _choices(ref: str | None, every: set[str]) -> set[str]:
    """The identifiers a reference can take: itself, an input's allowed values, or every one."""
    if ref is None:
        return set()
    if not is_expression(ref):
        return {ref} & every
    try:
        specs = find_inputs(ref)
    except ExpressionError:
        return every
    if specs and specs[0].allowed_values:
        return set(specs[0].allowed_values) & every
    return every
