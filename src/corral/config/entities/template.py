"""`template:` documents: one version of a Step, StepGroup, Stage or Pipeline template.

Harness's shape (harness-schema v0/template/{step,stepgroup,stage,pipeline}/template.yaml):
`identifier`, `name`, `versionLabel`, `type` and `spec`, the node the template stands for
without its `name` and `identifier` (a step's `type`/`timeout`/`spec`, a stage's `type`/`spec`,
a step group's `stageType`/`steps`, a pipeline's `stages`/`variables`). Several documents may
share an identifier with different `versionLabel`s; which one is stable is not part of the YAML
in Harness (a setting of the template), so a Corral project says it in corral.yaml
(`project.templates.stable`). How uses are resolved: corral.config.templates.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from .common import Entity, field_error

TEMPLATE_TYPES = ("Step", "StepGroup", "Stage", "Pipeline")
# Harness template types for things Corral has no use for: refused by name
OTHER_TEMPLATE_TYPES = (
    "SecretManager",
    "MonitoredService",
    "ArtifactSource",
    "CustomDeployment",
    "Workspace",
    "Notification",
)


class Template(Entity):
    version_label: str = Field(pattern=r"^[0-9a-zA-Z][^\s/&]{0,127}$")
    type: str
    spec: dict[str, Any]
    icon: str | None = None
    # what a use may set beside the template (Harness's "allowed overrides"); read, not enforced
    allowed_overrides: list[str] | None = None
    variables: list[dict[str, Any]] | None = None

    @field_validator("version_label", mode="before")
    @classmethod
    def _label_as_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _known_type(self) -> Template:
        if self.type not in TEMPLATE_TYPES:
            other = (
                "a Harness template type Corral does not support" if self.type in OTHER_TEMPLATE_TYPES else ""
            )
            message = f"unknown template type '{self.type}'" if not other else f"'{self.type}' is {other}"
            raise field_error("type", f"{message}; expected one of {', '.join(TEMPLATE_TYPES)}")
        if self.variables:
            raise field_error(
                "variables",
                "template variables are not supported; declare variables in the stage or pipeline "
                "the template holds (spec.variables)",
            )
        return self
