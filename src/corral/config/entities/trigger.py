"""`trigger:` documents: run a pipeline when a new tag of an image appears (server mode).

    trigger:
      name: New web image
      identifier: on_web
      pipelineIdentifier: release
      source:                       # Harness shape; or serviceRef (+ artifactRef) instead
        type: Artifact
        spec:
          type: DockerRegistry      # or Ecr
          spec:
            connectorRef: registry
            imagePath: team/web
            tag: <+trigger.artifact.build>
      tagPattern: ^1\\.\\d+$        # a regex a new tag must match (fullmatch)
      inputs:
        tag: <+trigger.artifact.build>
      pollInterval: 1m
      enabled: true

`<+trigger.artifact.build>` in an input is the new tag. docs/server.md ("Triggers") has the
fields and an example per source; fields out of place (tagPattern under source.spec.spec) or
unknown are refused with their path.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .common import Entity, Identifier, Model, field_error

BUILD = "<+trigger.artifact.build>"


# fields Harness's artifact triggers have that Corral spells another way: say where they go
_ELSEWHERE = {
    "tagPattern": "tagPattern belongs to the trigger itself, beside `source` (not under source.spec.spec)",
    "tagRegex": "give tagPattern on the trigger itself, beside `source` (a regex a new tag must fully match)",
    **{
        name: "not supported; give tagPattern on the trigger itself, beside `source` "
        "(a regex a new tag must fully match)"
        for name in ("eventConditions", "metaDataConditions", "jexlCondition")
    },
}
_HARNESS_CONDITIONS = ("eventConditions", "metaDataConditions", "jexlCondition")
_ECR_ONLY = {"region": "region", "registry_id": "registryId"}  # attribute: YAML name


class ArtifactSpec(Model):
    """The repository watched (Harness's DockerRegistrySpec / EcrSpec): a connector and an image
    path; `region` and `registryId` for Ecr only. Anything else is refused, not ignored."""

    connector_ref: str
    image_path: str
    tag: str | None = None
    region: str | None = None
    registry_id: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _misplaced(cls, value: Any) -> Any:
        if isinstance(value, dict):
            # Harness writes its conditions empty by default (`eventConditions: []`,
            # `metaDataConditions: []`, `jexlCondition: ""`): empty, they filter nothing
            value = {k: v for k, v in value.items() if not (k in _HARNESS_CONDITIONS and v in ([], "", None))}
            for name, message in _ELSEWHERE.items():
                if name in value:
                    raise field_error(name, message)
        return value


class TriggerArtifact(Model):
    type: Literal["DockerRegistry", "Ecr"]
    spec: ArtifactSpec

    @model_validator(mode="after")
    def _ecr_fields(self) -> TriggerArtifact:
        if self.type != "Ecr":
            for attribute, name in _ECR_ONLY.items():
                if attribute in self.spec.model_fields_set:
                    raise field_error(f"spec.{name}", f"{name} is for type Ecr only, not {self.type}")
        return self


class TriggerSource(Model):
    type: Literal["Artifact"] = "Artifact"
    spec: TriggerArtifact


class Trigger(Entity):
    pipeline_identifier: Identifier
    enabled: bool = True
    poll_interval: str | int | float = "1m"
    source: TriggerSource | None = None
    service_ref: str | None = None
    artifact_ref: str | None = None  # a source of the service's primary artifact; default its primary
    tag_pattern: str | None = None
    inputs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("tag_pattern")
    @classmethod
    def _pattern_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as error:
                raise ValueError(f"not a valid regular expression: {error}") from None
        return value

    @field_validator("poll_interval")
    @classmethod
    def _interval_parses(cls, value: str | int | float) -> str | int | float:
        from corral.engine.durations import parse_duration

        if parse_duration(value, what="poll interval") <= 0:
            raise ValueError(f"expected a positive poll interval, got {value!r}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Trigger:
        if (self.source is None) == (self.service_ref is None):
            raise field_error("source", "give either source (an artifact repository) or serviceRef, not both")
        if self.artifact_ref is not None and self.service_ref is None:
            raise field_error("artifactRef", "artifactRef needs serviceRef")
        return self

    @property
    def interval_seconds(self) -> float:
        from corral.engine.durations import parse_duration

        return parse_duration(self.poll_interval)

    def matches(self, tag: str) -> bool:
        if self.tag_pattern is None:
            return True
        from corral.expressions.limits import BoundedPattern  # bounded: tags come from a registry

        return BoundedPattern(self.tag_pattern, "tagPattern").fullmatch(tag) is not None

    def rendered_inputs(self, tag: str) -> dict[str, Any]:
        """The pipeline's inputs with `<+trigger.artifact.build>` replaced by the new tag."""
        return {key: _render(value, tag) for key, value in self.inputs.items()}


def _render(value: Any, tag: str) -> Any:
    if isinstance(value, str):
        return value.replace(BUILD, tag)
    if isinstance(value, dict):
        return {k: _render(v, tag) for k, v in value.items()}
    if isinstance(value, list):
        return [_render(v, tag) for v in value]
    return value
