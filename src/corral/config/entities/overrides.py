"""Overrides: what an environment or infrastructure changes in the services deployed to it.

Two ways to write them, both Harness's:

- inline in the environment or infrastructure document (`overrides:`, `serviceOverrides:`),
  as Overrides V1 did (Corral also allows them in an infrastructure);
- as documents of their own (Overrides V2, the default for newer Harness accounts):
  `overrides:` with a `type` (ServiceOverrideRequestDTOV2 / NGServiceOverrideConfigV2 in
  harness-core: environmentRef, serviceRef, infraIdentifier, type, spec), and the older
  `serviceOverrides:` document (NGServiceOverrideInfoConfig: environmentRef, serviceRef,
  variables, manifests, configFiles), which Harness migrates to ENV_SERVICE_OVERRIDE.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from .common import Document, Model, Variable, field_error, strip_scope
from .service import ConfigFileEntry, ManifestEntry, manifest_count_problem

# lowest precedence first: Harness's ServiceOverridesType enum is declared "in reverse
# priority order for override", and the Overrides V2 page lists the priority from the top
# as Service & Infrastructure Specific, Infrastructure Specific, Service Specific, Global
# Environment (developer.harness.io .../x-platform-cd-features/overrides-v2, "Override priority")
OVERRIDE_TYPES = (
    "ENV_GLOBAL_OVERRIDE",
    "ENV_SERVICE_OVERRIDE",
    "INFRA_GLOBAL_OVERRIDE",
    "INFRA_SERVICE_OVERRIDE",
)
OverrideType = Literal[
    "ENV_GLOBAL_OVERRIDE", "ENV_SERVICE_OVERRIDE", "INFRA_GLOBAL_OVERRIDE", "INFRA_SERVICE_OVERRIDE"
]
# the names Harness's Overrides page gives the types, for messages
TYPE_NAMES = {
    "ENV_GLOBAL_OVERRIDE": "Global Environment",
    "ENV_SERVICE_OVERRIDE": "Service Specific",
    "INFRA_GLOBAL_OVERRIDE": "Infrastructure Specific",
    "INFRA_SERVICE_OVERRIDE": "Service & Infrastructure Specific",
}
# which references each type needs (True) or must not have (False)
_NEEDS = {
    "ENV_GLOBAL_OVERRIDE": (False, False),
    "ENV_SERVICE_OVERRIDE": (True, False),
    "INFRA_GLOBAL_OVERRIDE": (False, True),
    "INFRA_SERVICE_OVERRIDE": (True, True),
}


class Overrides(Model):
    """Variables, manifests and config files replacing the service's own (by name /
    identifier or kind)."""

    variables: list[Variable] = Field(default_factory=list)
    manifests: list[ManifestEntry] = Field(default_factory=list)
    config_files: list[ConfigFileEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_repeats(self) -> Overrides:
        problem = manifest_count_problem([entry.manifest for entry in self.manifests])
        if problem:
            raise field_error(*problem)
        _unique("variables", [v.name for v in self.variables], "name")
        _unique("configFiles", [c.config_file.identifier for c in self.config_files], "configFile.identifier")
        return self


def _unique(field: str, names: list[str], key: str) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise field_error(
                f"{field}[{index}].{key}", f"'{name}' is already overridden by {field}[{seen[name]}]"
            )
        seen[name] = index


class ServiceOverrides(Overrides):
    """Overrides for one service only (`serviceRef`), inline in an environment or infrastructure."""

    service_ref: str


class OverrideDocument(Document):
    """A top-level override document; `kind` is its YAML key (`overrides` or `serviceOverrides`).

    The name and identifier are optional: Harness derives the identifier from the references
    (environmentRef, environmentRef_serviceRef, environmentRef_infraIdentifier,
    environmentRef_serviceRef_infraIdentifier, dots replaced by underscores)."""

    environment_ref: str
    service_ref: str | None = None
    infra_identifier: str | None = None

    @property
    def kind(self) -> str:
        return next(iter(self.raw), "overrides")

    @property
    def override_type(self) -> str:
        raise NotImplementedError

    @property
    def overrides(self) -> Overrides:
        raise NotImplementedError

    @property
    def spec_path(self) -> tuple[str, ...]:
        """YAML path (from the kind key) of the variables, manifests and configFiles."""
        raise NotImplementedError

    @property
    def scope_rank(self) -> int:
        """Project (1) over organization (0), as Harness orders overrides of one type defined
        at several levels: a document naming only an orgIdentifier is the organization's;
        every other one belongs to the project (a Corral project is one scope)."""
        return 0 if self.org_identifier and not self.project_identifier else 1

    def target(self) -> tuple[str, str | None, str | None]:
        """(environment, service, infrastructure) this document applies to, scope prefixes dropped."""
        service = strip_scope(self.service_ref) if self.service_ref else None
        return strip_scope(self.environment_ref), service, self.infra_identifier

    def label(self) -> str:
        """How `corral render` names this document: its type and identifier."""
        return f"{self.override_type} {self.identifier}"

    def _default_identifier(self) -> None:
        if self.identifier is None:
            env, service, infra = self.target()
            parts = [env] + [p for p in (service, infra) if p]
            self.identifier = "_".join(parts).replace(".", "_")
        if self.name is None:
            self.name = self.identifier


class OverridesV2(OverrideDocument):
    """`overrides:` — one Overrides V2 entity (Global Environment, Service Specific,
    Infrastructure Specific or Service & Infrastructure Specific)."""

    type: OverrideType
    spec: Overrides = Field(default_factory=Overrides)

    @model_validator(mode="before")
    @classmethod
    def _no_cluster_types(cls, data: Any) -> Any:
        kind = data.get("type") if isinstance(data, dict) else None
        if isinstance(kind, str) and kind.startswith("CLUSTER_"):
            raise field_error(
                "type",
                f"{kind} overrides apply to GitOps clusters, which ECS deployments do not use; "
                f"expected one of {', '.join(OVERRIDE_TYPES)}",
            )
        return data

    @model_validator(mode="after")
    def _references_fit_the_type(self) -> OverridesV2:
        needs_service, needs_infra = _NEEDS[self.type]
        for field, needed, given in (
            ("serviceRef", needs_service, self.service_ref),
            ("infraIdentifier", needs_infra, self.infra_identifier),
        ):
            if needed and not given:
                raise field_error(field, f"required for type {self.type} ({TYPE_NAMES[self.type]})")
            if given and not needed:
                raise field_error(
                    field,
                    f"not allowed for type {self.type} ({TYPE_NAMES[self.type]}); remove it or change the type",
                )
        self._default_identifier()
        return self

    @property
    def override_type(self) -> str:
        return self.type

    @property
    def overrides(self) -> Overrides:
        return self.spec

    @property
    def spec_path(self) -> tuple[str, ...]:
        return ("overrides", "spec")


class ServiceOverridesDocument(OverrideDocument, Overrides):
    """`serviceOverrides:` — a service's overrides in one environment (Harness's
    environment-service override document; Overrides V2 calls it ENV_SERVICE_OVERRIDE)."""

    service_ref: str

    @model_validator(mode="after")
    def _identify(self) -> ServiceOverridesDocument:
        self._default_identifier()
        return self

    @property
    def override_type(self) -> str:
        return "ENV_SERVICE_OVERRIDE"

    @property
    def overrides(self) -> Overrides:
        return self

    @property
    def spec_path(self) -> tuple[str, ...]:
        return ("serviceOverrides",)
