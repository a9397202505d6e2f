"""What a service looks like on one infrastructure: variables and manifests after overrides.

Later levels win, each level replacing what the one before it set:

    service  <  environment (overrides, then serviceOverrides for this service)
             <  infrastructure (overrides, then serviceOverrides for this service)
             <  runtime (`--set serviceVariables.NAME=...`, runtime inputs)

A variable replaces the one with the same name. A manifest replaces the one with the same
identifier, else the one of the same type for the kinds a service has once (task
definition, service definition, run task request); scalable targets and scaling policies
with a new identifier are added.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .entities.common import Entity, Variable
from .entities.environment import Environment
from .entities.infrastructure import InfrastructureDefinition
from .entities.overrides import Overrides
from .entities.service import SINGLE_MANIFEST_TYPES, Manifest, Service


@dataclass(frozen=True)
class Placed:
    """A manifest or variable and where it was written (entity and YAML path), for messages."""

    item: Any
    owner: Entity
    path: tuple[str | int, ...]


@dataclass
class EffectiveService:
    variables: dict[str, Placed] = field(default_factory=dict)
    manifests: list[Placed] = field(default_factory=list)
    runtime_variables: dict[str, Any] = field(default_factory=dict)

    def variable_values(self) -> dict[str, Any]:
        values = {name: placed.item.typed_value() for name, placed in self.variables.items()}
        values.update(self.runtime_variables)
        return values


def effective_service(
    service: Service,
    environment: Environment | None,
    infrastructure: InfrastructureDefinition | None,
    *,
    runtime_variables: Mapping[str, Any] | None = None,
) -> EffectiveService:
    spec = service.service_definition.spec
    base = ("service", "serviceDefinition", "spec")
    result = EffectiveService()
    for index, variable in enumerate(spec.variables):
        result.variables[variable.name] = Placed(variable, service, (*base, "variables", index))
    for index, entry in enumerate(spec.manifests):
        result.manifests.append(Placed(entry.manifest, service, (*base, "manifests", index, "manifest")))
    if environment is not None:
        _apply_level(result, environment, "environment", service.identifier)
    if infrastructure is not None:
        _apply_level(result, infrastructure, "infrastructureDefinition", service.identifier)
    result.runtime_variables = dict(runtime_variables or {})
    return result


def _apply_level(
    result: EffectiveService, owner: Environment | InfrastructureDefinition, kind: str, service_id: str
) -> None:
    if owner.overrides is not None:
        _apply(result, owner, (kind, "overrides"), owner.overrides)
    for index, item in enumerate(owner.service_overrides):
        if item.service_ref == service_id:
            _apply(result, owner, (kind, "serviceOverrides", index), item)


def _apply(
    result: EffectiveService, owner: Entity, path: tuple[str | int, ...], overrides: Overrides
) -> None:
    for index, variable in enumerate(overrides.variables):
        result.variables[variable.name] = Placed(variable, owner, (*path, "variables", index))
    for index, entry in enumerate(overrides.manifests):
        _replace_manifest(result, Placed(entry.manifest, owner, (*path, "manifests", index, "manifest")))


def _replace_manifest(result: EffectiveService, new: Placed) -> None:
    manifest: Manifest = new.item
    for position, placed in enumerate(result.manifests):
        if placed.item.identifier == manifest.identifier:
            result.manifests[position] = new
            return
    if manifest.type in SINGLE_MANIFEST_TYPES:
        for position, placed in enumerate(result.manifests):
            if placed.item.type == manifest.type:
                result.manifests[position] = new
                return
    result.manifests.append(new)


def variable_list(variables: list[Variable]) -> dict[str, Any]:
    return {variable.name: variable.typed_value() for variable in variables}
