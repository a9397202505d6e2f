"""Which secrets a run may read: those its pipeline snapshot, its stages' services,
environments and infrastructure definitions, and the connectors these use name.

A secret is named by `<+secrets.getValue("id")>` with a literal identifier, by a variable of
type Secret, or by a connector's `...Ref`. A stage's manifests add the secrets they name once
fetched (manifests/service_rendering.py widens the resolver). Anything else, such as an identifier computed
at run time, is out of scope, so a step cannot reach a secret its pipeline does not use.
On a delegate, which has a step's spec but not the pipeline, the scope is what that spec names.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from corral.config.entities.common import IDENTIFIER_RE, Entity, strip_scope
from corral.config.entities.connector import connector_secret_refs
from corral.config.project import Project
from corral.config.secrets import referenced_ids

from .plan import build_plan


def run_secret_scope(project: Project, pipeline: Mapping[str, Any], *, file: str = "") -> set[str]:
    """The identifiers of the secrets a run of this (filled) pipeline may read."""
    found: set[str] = set()
    connectors: set[str] = set()
    _scan(pipeline, found, connectors)
    for entity in _targets(project, pipeline, file):
        _scan(entity.raw, found, connectors)
    return found | _connector_secrets(project, connectors)


def step_secret_scope(
    project: Project, spec: Mapping[str, Any], target: Mapping[str, Any] | None
) -> set[str]:
    """The secrets a step may read where only the step is known (a delegate): those its spec
    names (the pipeline's references are written into it by then), those of its stage's
    service, environment and infrastructure (target, as the stage prepared it), and the
    secrets of the connectors these name."""
    found: set[str] = set()
    connectors: set[str] = set()
    _scan(spec, found, connectors)
    if target:
        environment = str(target.get("environment") or "")
        entities = [
            project.services.get(str(target.get("service") or "")),
            project.environments.get(environment),
            project.infrastructures.get((environment, str(target.get("infrastructure") or ""))),
        ]
        for entity in entities:
            if entity is not None:
                _scan(entity.raw, found, connectors)
    return found | _connector_secrets(project, connectors)


def _connector_secrets(project: Project, connectors: set[str]) -> set[str]:
    found: set[str] = set()
    for ref in connectors:
        connector = project.connector(ref)
        if connector is not None:
            found.update(strip_scope(secret) for _, secret in connector_secret_refs(connector))
    return found


def _targets(project: Project, pipeline: Mapping[str, Any], file: str) -> Iterator[Entity]:
    """The services, environments and infrastructure definitions the stages deploy to; every
    one of a kind when a stage names it with an expression (known only during the run)."""
    plan = build_plan(pipeline, file=file)
    for stage in plan.all_stages:
        target = stage.target
        if target is None:
            continue
        yield from _named(project.services, target.service)
        yield from _named(project.environments, target.environment)
        infrastructures: Iterable[Entity]
        if target.infrastructure is None or "<+" in target.environment:
            infrastructures = project.infrastructures.values()
        else:
            infrastructures = (
                infra
                for (env, infra_id), infra in project.infrastructures.items()
                if env == strip_scope(target.environment) and _matches(infra_id, target.infrastructure)
            )
        yield from infrastructures


def _named(entities: Mapping[str, Entity], ref: str | None) -> Iterator[Entity]:
    if ref is None:
        return
    if "<+" in ref:
        yield from entities.values()
    elif (entity := entities.get(strip_scope(ref))) is not None:
        yield entity


def _matches(identifier: str, ref: str) -> bool:
    return "<+" in ref or identifier == strip_scope(ref)


def _scan(value: Any, found: set[str], connectors: set[str]) -> None:
    if isinstance(value, str):
        found.update(referenced_ids(value))
    elif isinstance(value, Mapping):
        secret = value.get("value")
        if (
            value.get("type") == "Secret"
            and isinstance(secret, str)
            and IDENTIFIER_RE.match(strip_scope(secret))
        ):
            found.add(strip_scope(secret))
        files = value.get("secretFiles")  # a config file store's secret files name secrets too
        if isinstance(files, list):
            found.update(
                strip_scope(f) for f in files if isinstance(f, str) and IDENTIFIER_RE.match(strip_scope(f))
            )
        ref = value.get("connectorRef")
        if isinstance(ref, str) and "<+" not in ref:
            connectors.add(strip_scope(ref))
        for item in value.values():
            _scan(item, found, connectors)
    elif isinstance(value, list | tuple):
        for item in value:
            _scan(item, found, connectors)
