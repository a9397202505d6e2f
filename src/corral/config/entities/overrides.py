"""Overrides an environment or an infrastructure applies to the services deployed to it."""

from __future__ import annotations

from pydantic import Field, model_validator

from .common import Model, Variable, field_error
from .service import ManifestEntry, manifest_count_problem


class Overrides(Model):
    """Variables and manifests replacing the service's own (by name / identifier or kind)."""

    variables: list[Variable] = Field(default_factory=list)
    manifests: list[ManifestEntry] = Field(default_factory=list)

    @model_validator(mode="after")
    def _no_repeats(self) -> Overrides:
        problem = manifest_count_problem([entry.manifest for entry in self.manifests])
        if problem:
            raise field_error(*problem)
        names: dict[str, int] = {}
        for index, variable in enumerate(self.variables):
            if variable.name in names:
                raise field_error(
                    f"variables[{index}].name",
                    f"'{variable.name}' is already overridden by variables[{names[variable.name]}]",
                )
            names[variable.name] = index
        return self


class ServiceOverrides(Overrides):
    """Overrides for one service only (`serviceRef`)."""

    service_ref: str
