"""`service:` documents: an ECS service's manifests, artifacts and variables."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from .common import Entity, Identifier, Model, Variable, field_error, is_runtime_input
from .stores import Store

ManifestType = Literal[
    "EcsTaskDefinition",
    "EcsServiceDefinition",
    "EcsScalableTargetDefinition",
    "EcsScalingPolicyDefinition",
    "EcsRunTaskRequestDefinition",
    "EcsScheduledActionDefinition",
]
# these may appear at most once per service; scaling ones repeat
SINGLE_MANIFEST_TYPES = ("EcsTaskDefinition", "EcsServiceDefinition", "EcsRunTaskRequestDefinition")


class ManifestSpec(Model):
    store: Store


class Manifest(Model):
    identifier: Identifier
    type: ManifestType
    spec: ManifestSpec


class ManifestEntry(Model):
    """`- manifest: {...}`: the list item wrapper of Harness YAML."""

    manifest: Manifest


class ConfigFileStoreSpec(Model):
    files: list[str] = Field(default_factory=list)
    # Harness's encrypted files; in Corral `secret:` identifiers, whose value is the file's text
    secret_files: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some_file(self) -> ConfigFileStoreSpec:
        if not self.files and not self.secret_files:
            raise field_error("files", "give at least one file (files) or secret file (secretFiles)")
        return self


class ConfigFileStore(Model):
    """Config files live in the Harness file store (the project's files/ folder)."""

    type: Literal["Harness"]
    spec: ConfigFileStoreSpec


class ConfigFileSpec(Model):
    store: ConfigFileStore


class ConfigFile(Model):
    """A file manifests read with <+configFile.getAsString("id")> / getAsBase64("id")."""

    identifier: Identifier
    spec: ConfigFileSpec


class ConfigFileEntry(Model):
    """`- configFile: {...}`: the list item wrapper of Harness YAML."""

    config_file: ConfigFile


class ArtifactSpec(Model):
    connector_ref: str
    image_path: str
    tag: str | None = None
    tag_regex: str | None = None
    digest: str | None = None
    # ECR only
    region: str | None = None
    registry_hostname: str | None = None
    registry_id: str | None = None

    @field_validator("digest", mode="before")
    @classmethod
    def _no_digest(cls, value: Any) -> Any:
        """Harness writes `digest: ""` for "no digest" (its UI leaves the field empty)."""
        return None if value == "" else value

    @model_validator(mode="after")
    def _tag_or_regex(self) -> ArtifactSpec:
        if self.tag is None and self.tag_regex is None and self.digest is None:
            raise field_error("tag", "required: give a tag (tag: perl), a tagRegex or a digest")
        return self


class ArtifactSource(Model):
    identifier: Identifier
    type: Literal["DockerRegistry", "Ecr"]
    spec: ArtifactSpec

    @model_validator(mode="after")
    def _ecr_needs_region(self) -> ArtifactSource:
        if self.type == "Ecr" and not self.spec.region:
            raise field_error("spec.region", "required for an Ecr source")
        return self


class PrimaryArtifact(Model):
    primary_artifact_ref: str | None = None
    sources: list[ArtifactSource] = Field(min_length=1)

    @model_validator(mode="after")
    def _ref_names_a_source(self) -> PrimaryArtifact:
        ref = self.primary_artifact_ref
        ids = [source.identifier for source in self.sources]
        if ref is None:
            if len(ids) > 1:
                raise field_error(
                    "primaryArtifactRef",
                    f"required: several sources ({', '.join(ids)}), say which is primary",
                )
        elif not is_runtime_input(ref) and ref not in ids:
            raise field_error(
                "primaryArtifactRef", f"'{ref}' names no source; expected one of {', '.join(ids)}"
            )
        return self

    def selected(self, ref: str | None = None) -> ArtifactSource:
        wanted = ref or self.primary_artifact_ref
        for source in self.sources:
            if wanted is None or source.identifier == wanted:
                return source
        return self.sources[0]


class Artifacts(Model):
    primary: PrimaryArtifact | None = None


class EcsServiceSpec(Model):
    manifests: list[ManifestEntry] = Field(default_factory=list)
    artifacts: Artifacts | None = None
    variables: list[Variable] = Field(default_factory=list)
    config_files: list[ConfigFileEntry] = Field(default_factory=list)
    ecs_task_definition_arn: str | None = None

    @model_validator(mode="after")
    def _manifest_counts(self) -> EcsServiceSpec:
        problem = manifest_count_problem([entry.manifest for entry in self.manifests])
        if problem:
            raise field_error(*problem)
        seen: dict[str, int] = {}
        for index, entry in enumerate(self.config_files):
            name = entry.config_file.identifier
            if name in seen:
                raise field_error(
                    f"configFiles[{index}].configFile.identifier",
                    f"'{name}' is already used by configFiles[{seen[name]}]",
                )
            seen[name] = index
        if self.ecs_task_definition_arn and any(
            entry.manifest.type == "EcsTaskDefinition" for entry in self.manifests
        ):
            raise field_error(
                "ecsTaskDefinitionArn", "give either an EcsTaskDefinition manifest or this ARN, not both"
            )
        return self


def manifest_count_problem(manifests: list[Manifest], field: str = "manifests") -> tuple[str, str] | None:
    """The first repeated identifier or repeated single-kind manifest, as (path, message)."""
    seen_ids: dict[str, int] = {}
    seen_kinds: dict[str, int] = {}
    for index, manifest in enumerate(manifests):
        where = f"{field}[{index}].manifest"
        if manifest.identifier in seen_ids:
            first = seen_ids[manifest.identifier]
            return f"{where}.identifier", f"'{manifest.identifier}' is already used by {field}[{first}]"
        seen_ids[manifest.identifier] = index
        if manifest.type in SINGLE_MANIFEST_TYPES:
            if manifest.type in seen_kinds:
                first = seen_kinds[manifest.type]
                return f"{where}.type", f"at most one {manifest.type} per service; {field}[{first}] is one"
            seen_kinds[manifest.type] = index
    return None


class EcsServiceDefinition(Model):
    type: Literal["ECS"]
    spec: EcsServiceSpec


class Service(Entity):
    service_definition: EcsServiceDefinition
    git_ops_enabled: bool | None = None
