"""What a service looks like on one infrastructure: variables, manifests and config files
after overrides.

Later levels win, each replacing what the ones before it set. The order is Harness's
Overrides V2 priority (developer.harness.io, continuous-delivery/x-platform-cd-features/
overrides-v2, "Override priority": Service & Infrastructure Specific over Infrastructure
Specific over Service Specific over Global Environment; project over organization):

    service
    <  ENV_GLOBAL_OVERRIDE     environment `overrides:`, then `overrides:` documents of that type
    <  ENV_SERVICE_OVERRIDE    environment `serviceOverrides:` for this service, then
                               `serviceOverrides:` documents and `overrides:` documents of that type
    <  INFRA_GLOBAL_OVERRIDE   infrastructure `overrides:`, then documents of that type
    <  INFRA_SERVICE_OVERRIDE  infrastructure `serviceOverrides:` for this service, then documents
    <  runtime                 (`--set serviceVariables.NAME=...`, runtime inputs)

Within one type, an organization's document comes before the project's. A variable replaces
the one with the same name; a config file the one with the same identifier (Harness:
"config files are completely overridden"); a manifest the one with the same identifier,
else the one of the same type for the kinds a service has once (task definition, service
definition, run task request); scalable targets and scaling policies with a new identifier
are added. Every value keeps the label of what set it, for `corral render`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .entities.common import Document, Variable
from .entities.environment import Environment
from .entities.infrastructure import InfrastructureDefinition
from .entities.overrides import OVERRIDE_TYPES, OverrideDocument, Overrides
from .entities.service import SINGLE_MANIFEST_TYPES, Manifest, Service


@dataclass(frozen=True)
class Placed:
    """A manifest, variable or config file, where it was written (entity and YAML path), and
    what set it (`service`, `ENV_GLOBAL_OVERRIDE dev`, `INFRA_SERVICE_OVERRIDE inline`, ...)."""

    item: Any
    owner: Document  # an entity or an override document
    path: tuple[str | int, ...]
    source: str = "service"


@dataclass
class EffectiveService:
    variables: dict[str, Placed] = field(default_factory=dict)
    manifests: list[Placed] = field(default_factory=list)
    config_files: dict[str, Placed] = field(default_factory=dict)
    runtime_variables: dict[str, Any] = field(default_factory=dict)

    def variable_values(self) -> dict[str, Any]:
        values = {name: placed.item.typed_value() for name, placed in self.variables.items()}
        values.update(self.runtime_variables)
        return values

    def set_by(self) -> dict[str, str]:
        """What set each variable, manifest and config file, and where: `serviceVariables.NAME`,
        `manifests.IDENTIFIER (TYPE)`, `configFiles.IDENTIFIER` -> `SOURCE (file:line)`."""

        def label(placed: Placed) -> str:
            return f"{placed.source} ({placed.owner.where(placed.path)})"

        out = {f"serviceVariables.{name}": label(placed) for name, placed in self.variables.items()}
        out.update({f"serviceVariables.{name}": "runtime (--set)" for name in self.runtime_variables})
        for placed in self.manifests:
            out[f"manifests.{placed.item.identifier} ({placed.item.type})"] = label(placed)
        out.update({f"configFiles.{name}": label(placed) for name, placed in self.config_files.items()})
        return out


def effective_service(
    service: Service,
    environment: Environment | None,
    infrastructure: InfrastructureDefinition | None,
    *,
    runtime_variables: Mapping[str, Any] | None = None,
    documents: Sequence[OverrideDocument] = (),
) -> EffectiveService:
    """`documents`: the override documents for this service and infrastructure
    (Project.overrides_for), lowest precedence first."""
    spec = service.service_definition.spec
    base = ("service", "serviceDefinition", "spec")
    result = EffectiveService()
    for index, variable in enumerate(spec.variables):
        result.variables[variable.name] = Placed(variable, service, (*base, "variables", index))
    for index, entry in enumerate(spec.manifests):
        result.manifests.append(Placed(entry.manifest, service, (*base, "manifests", index, "manifest")))
    for index, config in enumerate(spec.config_files):
        result.config_files[config.config_file.identifier] = Placed(
            config.config_file, service, (*base, "configFiles", index, "configFile")
        )
    for level in _levels(service.identifier, environment, infrastructure, documents):
        _apply(result, *level)
    result.runtime_variables = dict(runtime_variables or {})
    return result


Level = tuple[Document, tuple[str | int, ...], Overrides, str]


def _levels(
    service_id: str,
    environment: Environment | None,
    infrastructure: InfrastructureDefinition | None,
    documents: Sequence[OverrideDocument],
) -> list[Level]:
    """Every override set that applies, lowest precedence first."""
    by_type: dict[str, list[Level]] = {}
    for owner, kind, global_type, service_type in (
        (environment, "environment", "ENV_GLOBAL_OVERRIDE", "ENV_SERVICE_OVERRIDE"),
        (infrastructure, "infrastructureDefinition", "INFRA_GLOBAL_OVERRIDE", "INFRA_SERVICE_OVERRIDE"),
    ):
        if owner is None:
            continue
        if owner.overrides is not None:
            label = f"{global_type} inline in {kind} {owner.identifier}"
            by_type.setdefault(global_type, []).append((owner, (kind, "overrides"), owner.overrides, label))
        for index, item in enumerate(owner.service_overrides):
            if item.service_ref == service_id:
                path = (kind, "serviceOverrides", index)
                label = f"{service_type} inline in {kind} {owner.identifier}"
                by_type.setdefault(service_type, []).append((owner, path, item, label))
    for document in documents:
        level = (document, document.spec_path, document.overrides, document.label())
        by_type.setdefault(document.override_type, []).append(level)
    return [level for kind in OVERRIDE_TYPES for level in by_type.get(kind, [])]


def _apply(
    result: EffectiveService, owner: Document, path: tuple[str | int, ...], overrides: Overrides, source: str
) -> None:
    for index, variable in enumerate(overrides.variables):
        result.variables[variable.name] = Placed(variable, owner, (*path, "variables", index), source)
    for index, entry in enumerate(overrides.manifests):
        placed = Placed(entry.manifest, owner, (*path, "manifests", index, "manifest"), source)
        _replace_manifest(result, placed)
    for index, config in enumerate(overrides.config_files):
        result.config_files[config.config_file.identifier] = Placed(
            config.config_file, owner, (*path, "configFiles", index, "configFile"), source
        )


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
