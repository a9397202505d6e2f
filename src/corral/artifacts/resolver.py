"""A service's artifact source resolved to the image a deployment runs.

    artifact = resolve_artifact(project, "web", inputs={"tag": "1.27"})
    artifact.image        # registry.hub.docker.com/library/nginx:1.27
    artifact.expression_values()   # what <+artifact.image>, .tag, .imagePath, .digest, .metadata.* read

A source (`spec.artifacts.primary.sources[]`, `type: DockerRegistry | Ecr`) says:

    connectorRef   a DockerRegistry connector; for Ecr an Aws connector
    imagePath      the repository in the connector's registry (library/nginx); for Ecr the
                   repository name (with region, and registryId or else the account of the
                   connector's credentials, as Harness) or its full URI
    tag            a fixed tag, or <+input>: no registry call at all (air-gapped runs work)
    tagRegex       instead of tag: the newest tag the regular expression finds a match in
    digest         sha256:...   deploy exactly that image: image is repo@sha256:..., no call
                   resolve      pin: look the tag's digest up and deploy repo@sha256:...

`offline=True` makes no call; where one is needed the answer is a ConfigError naming the
field, or, given a `placeholder`, that placeholder stands for the unknown tag (validation).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from corral.config.entities.service import Artifacts, ArtifactSource, Service
from corral.config.problems import problems_from_validation, split_path
from corral.config.project import Project
from corral.config.runtime_inputs import InputTable
from corral.config.secrets import SecretResolver
from corral.errors import ConfigError, ExpressionError, Problem, format_path
from corral.expressions import ExpressionContext, Mode, render

from .images import TagInfo, TagPattern, tag_pattern
from .sources import (
    ArtifactRepository,
    SourceSpec,
    SpecProblem,
    docker_location,
    ecr_location,
    ecr_stand_in_base,
    open_repository,
)

RESOLVE_DIGEST = "resolve"
LOOKUP_SECONDS = 30.0  # default bound of each registry request, and of ECR calls with their retries
_DIGEST = re.compile(r"^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")
_SHA256 = re.compile(r"^sha256:[a-f0-9]{64}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
ARTIFACTS_PATH: tuple[str | int, ...] = ("service", "serviceDefinition", "spec", "artifacts")

Secrets = SecretResolver | Callable[[str], str] | None


@dataclass(frozen=True)
class ResolvedArtifact:
    """The image a source resolved to, and what expressions read about it."""

    identifier: str
    type: str
    connector_ref: str
    image: str  # what a task definition's `image` gets: repo:tag or repo@sha256:...
    tag: str | None
    image_path: str  # as written in the source
    digest: str | None
    metadata: dict[str, Any] = field(default_factory=dict)

    def expression_values(self) -> dict[str, Any]:
        """`<+artifacts.primary.X>` (alias `<+artifact.X>`) values, in YAML spelling."""
        return {
            "identifier": self.identifier,
            "type": self.type,
            "connectorRef": self.connector_ref,
            "image": self.image,
            "tag": self.tag,
            "imagePath": self.image_path,
            "digest": self.digest,
            "metadata": dict(self.metadata),
        }


@dataclass(frozen=True)
class _Where:
    """Where a source's spec is written, for problems: `file:line` and YAML path."""

    locate: Callable[[tuple[str | int, ...]], str]
    path: tuple[str | int, ...]

    def problem(self, member: str, message: str) -> ConfigError:
        at = (*self.path, member)
        return ConfigError([Problem(self.locate(at), format_path(at), message)])


def resolve_artifact(
    project: Project,
    service: Service | str,
    source_id: str | None = None,
    *,
    inputs: Mapping[str, Any] | None = None,
    secrets: Secrets = None,
    offline: bool = False,
    timeout: float = LOOKUP_SECONDS,
    client_options: Mapping[str, Any] | None = None,
) -> ResolvedArtifact:
    """Resolve a service's primary artifact (or source `source_id`).

    `inputs` are runtime input values, by path or unique tail (`tag`, `spec.tag`); inputs of
    other parts of the service are not needed. `timeout` bounds each registry request (and
    ECR calls with their retries); `client_options` go to RegistryClient (verify, transport).
    Problems with the YAML are a ConfigError; registry failures an ArtifactError."""
    entity = _service(project, service)
    artifacts = _artifacts_with_inputs(entity, inputs or {})
    index, source = _source(entity, artifacts, source_id)
    where = _Where(entity.where, (*ARTIFACTS_PATH, "primary", "sources", index, "spec"))
    spec = _rendered_spec(entity, source, where)
    return resolve_source(
        project,
        source,
        spec=spec,
        secrets=secrets,
        offline=offline,
        locate=entity.where,
        path=where.path,
        timeout=timeout,
        client_options=client_options,
    )


def resolve_source(
    project: Project,
    source: ArtifactSource,
    *,
    spec: Mapping[str, Any] | None = None,
    secrets: Secrets = None,
    offline: bool = False,
    placeholder: str | None = None,
    locate: Callable[[tuple[str | int, ...]], str] | None = None,
    path: tuple[str | int, ...] = (),
    timeout: float = LOOKUP_SECONDS,
    client_options: Mapping[str, Any] | None = None,
) -> ResolvedArtifact:
    """Resolve one source whose `spec` (YAML spelling) has its inputs and expressions
    rendered already (default: the source's spec as written). `locate` and `path` place
    problems in the YAML."""
    where = _Where(locate or (lambda _: ""), path)
    given = SourceSpec.of(source.identifier, source.type, spec or source.spec.model_dump(by_alias=True))
    access = _Access(_lookup(project, secrets), timeout, client_options or {})
    return _Resolution(project, given, where, access, offline, placeholder).run()


def list_tags(
    project: Project,
    service: Service | str,
    source_id: str | None = None,
    *,
    limit: int | None = None,
    secrets: Secrets = None,
    timeout: float = LOOKUP_SECONDS,
    client_options: Mapping[str, Any] | None = None,
) -> tuple[SourceSpec, str, list[TagInfo]]:
    """(source, image base, tags newest first) of a service's artifact source; a source with a
    tagRegex lists only the tags it matches."""
    entity = _service(project, service)
    artifacts = _artifacts_with_inputs(entity, {}, required=False)
    index, source = _source(entity, artifacts, source_id)
    where = _Where(entity.where, (*ARTIFACTS_PATH, "primary", "sources", index, "spec"))
    given = SourceSpec.of(source.identifier, source.type, source.spec.model_dump(by_alias=True))
    pattern = _pattern(given.tag_regex, where) if given.tag_regex and "<+" not in given.tag_regex else None
    access = _Access(_lookup(project, secrets), timeout, client_options or {})
    repository = access.open(project, given, where)
    try:
        with access.deadline(given):
            return given, repository.image_base, repository.newest(pattern=pattern, limit=limit)
    finally:
        repository.close()


class _Resolution:
    """One source on its way to an image: tag, then digest, then the image reference."""

    def __init__(
        self,
        project: Project,
        spec: SourceSpec,
        where: _Where,
        access: _Access,
        offline: bool,
        placeholder: str | None,
    ) -> None:
        self.project = project
        self.spec = spec
        self.where = where
        self.access = access
        self.offline = offline
        self.placeholder = placeholder
        self._repository: ArtifactRepository | None = None
        self.info: TagInfo | None = None

    def run(self) -> ResolvedArtifact:
        try:
            with self.access.deadline(self.spec):
                tag = self._tag()
                digest = self._digest(tag)
                base = self._image_base()
        finally:
            if self._repository is not None:
                self._repository.close()
        image = f"{base}@{digest}" if digest else f"{base}:{tag}" if tag else base
        return ResolvedArtifact(
            identifier=self.spec.identifier,
            type=self.spec.type,
            connector_ref=self.spec.connector_ref,
            image=image,
            tag=tag,
            image_path=self.spec.image_path,
            digest=digest,
            metadata=self._metadata(image, base, tag, digest),
        )

    def _tag(self) -> str | None:
        spec = self.spec
        if spec.tag is not None:
            if "<+" not in spec.tag and not _TAG.fullmatch(spec.tag):
                raise self.where.problem(
                    "tag", f"'{spec.tag}' is not a valid tag (letters, digits, _ . -; at most 128)"
                )
            return spec.tag
        if spec.tag_regex is None:
            return None  # a digest alone
        pattern = _pattern(spec.tag_regex, self.where)
        if self._no_lookup(
            "tagRegex", "picking a tag by regex needs a registry lookup; give the tag: --set artifact.tag=TAG"
        ):
            return self.placeholder
        newest = self._repository_or_problem().newest(pattern=pattern, limit=1)
        if not newest:
            raise self.where.problem(
                "tagRegex", f"no tag of {self._repository_or_problem().image_base} matches '{spec.tag_regex}'"
            )
        self.info = newest[0]
        return self.info.tag

    def _digest(self, tag: str | None) -> str | None:
        digest = self.spec.digest
        if digest is None or "<+" in digest:
            return None if digest is None else digest
        if digest != RESOLVE_DIGEST:
            if not (
                _DIGEST.fullmatch(digest) and (not digest.startswith("sha256:") or _SHA256.fullmatch(digest))
            ):
                raise self.where.problem(
                    "digest", f"expected sha256: and 64 hex digits, or '{RESOLVE_DIGEST}'; got '{digest}'"
                )
            return digest
        if tag is None:
            raise self.where.problem(
                "digest", f"'{RESOLVE_DIGEST}' needs a tag or tagRegex to look the digest up"
            )
        if tag == self.placeholder or self._no_lookup(
            "digest",
            f"'digest: {RESOLVE_DIGEST}' needs a registry lookup; give the digest: --set artifact.digest=sha256:...",
        ):
            return None
        if self.info is None or self.info.digest is None:
            self.info = self._repository_or_problem().tag_info(tag)
        return self.info.digest

    def _image_base(self) -> str:
        try:
            if self.spec.type == "Ecr":
                location = ecr_location(self.spec)
                if location.image_base is not None:
                    return location.image_base
                if self.offline:  # the connector's account: ECR names it when the stage starts
                    return ecr_stand_in_base(location)
                return self._repository_or_problem().image_base
            host, repository = docker_location(self.project, self.spec)
        except SpecProblem as problem:
            raise self.where.problem(problem.field, problem.message) from None
        return f"{host}/{repository}"

    def _metadata(self, image: str, base: str, tag: str | None, digest: str | None) -> dict[str, Any]:
        out: dict[str, Any] = {"image": image, "repository": base, "tag": tag}
        if digest:
            out["digest"] = digest
        info = self.info
        if info is not None:
            out.update({k: v for k, v in info.to_dict().items() if k != "tag" and v not in (None, {})})
        return out

    def _no_lookup(self, member: str, message: str) -> bool:
        """True when this run makes no registry call and a placeholder may stand in;
        a ConfigError about `member` when there is none."""
        if not self.offline:
            return False
        if self.placeholder is not None:
            return True
        raise self.where.problem(member, message)

    def _repository_or_problem(self) -> ArtifactRepository:
        if self._repository is None:
            self._repository = self.access.open(self.project, self.spec, self.where)
        return self._repository


# -- helpers -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Access:
    """How registries are reached: secret values, time bounds, RegistryClient options."""

    secrets: Callable[[str], str]
    timeout: float
    client_options: Mapping[str, Any]

    def open(self, project: Project, spec: SourceSpec, where: _Where) -> ArtifactRepository:
        options = {"timeout": self.timeout, **self.client_options}
        try:
            return open_repository(project, spec, self.secrets, **options)
        except SpecProblem as problem:
            raise where.problem(problem.field, problem.message) from None

    def deadline(self, spec: SourceSpec) -> AbstractContextManager[Any]:
        """ECR calls retry until a deadline (corral.aws); registry requests have their timeout."""
        if spec.type != "Ecr":
            return nullcontext()
        from corral.aws import call_scope

        return call_scope(deadline=time.monotonic() + self.timeout)


def _lookup(project: Project, secrets: Secrets) -> Callable[[str], str]:
    if secrets is None:
        return SecretResolver(project).value
    if isinstance(secrets, SecretResolver):
        return secrets.value
    return secrets


def _pattern(text: str, where: _Where) -> TagPattern:
    try:
        re.compile(text)  # Python's message, as `corral validate` gives it
        return tag_pattern(text, "tagRegex")
    except (re.error, ValueError) as error:
        raise where.problem("tagRegex", f"not a valid regular expression: {error}") from None


def _service(project: Project, service: Service | str) -> Service:
    if isinstance(service, Service):
        return service
    found = project.services.get(service)
    if found is None:
        known = ", ".join(sorted(project.services)) or "none"
        raise ConfigError(
            [Problem("--service", service, f"service '{service}' not found; the project has {known}")]
        )
    return found


def _artifacts_with_inputs(
    service: Service, inputs: Mapping[str, Any], *, required: bool = True
) -> Artifacts:
    """The service's `artifacts` with runtime inputs replaced by the values given (or their
    defaults). Only inputs inside `artifacts` count; a given key naming none of them is ignored
    (it may be meant for another part of the service)."""
    artifacts = service.service_definition.spec.artifacts
    if artifacts is None or artifacts.primary is None:
        at = ARTIFACTS_PATH[:-1]
        raise ConfigError(
            [Problem(service.where(at), format_path(ARTIFACTS_PATH), "the service has no artifact sources")]
        )
    raw = _raw_at(service.raw, ARTIFACTS_PATH)
    prefix = format_path(ARTIFACTS_PATH)
    table = InputTable()
    table.add(raw, prefix=prefix, where=service.file, locate=lambda p: service.where(split_path(p)))
    if not table.specs:
        return artifacts
    mine = {k: v for k, v in inputs.items() if table.match(k) is not None}
    table.assign(mine, satisfiable=not required)
    if table.problems:
        raise ConfigError(table.problems)
    values = {
        k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
        for k, v in table.values.items()
    }
    try:
        rendered = render(
            raw, ExpressionContext(inputs=values, keep=frozenset()), mode=Mode.KEEP, path=prefix
        )
    except ExpressionError as error:
        raise ConfigError([Problem(service.where(ARTIFACTS_PATH), prefix, error.detail)]) from None
    try:
        return Artifacts.model_validate(rendered)
    except ValidationError as error:  # a value given breaks the model (not one of allowedValues, ...)
        problems = problems_from_validation(
            error,
            rendered,
            root=prefix,
            locate=lambda p: service.where((*ARTIFACTS_PATH, *p[1:])),
            model=Artifacts,
        )
        raise ConfigError(problems) from None


def _source(service: Service, artifacts: Artifacts, source_id: str | None) -> tuple[int, ArtifactSource]:
    primary = artifacts.primary
    assert primary is not None
    wanted = source_id or primary.primary_artifact_ref
    ids = [s.identifier for s in primary.sources]
    if wanted is None:
        return 0, primary.sources[0]
    if wanted in ids:
        return ids.index(wanted), primary.sources[ids.index(wanted)]
    path = (*ARTIFACTS_PATH, "primary", "primaryArtifactRef")
    where = "--source" if source_id else service.where(path)
    at = source_id if source_id else format_path(path)
    raise ConfigError(
        [Problem(where, at, f"'{wanted}' names no artifact source; expected one of {', '.join(ids)}")]
    )


def _rendered_spec(service: Service, source: ArtifactSource, where: _Where) -> dict[str, Any]:
    """The spec with its expressions evaluated against what a service alone can answer: the
    service's header and its variables with plain values."""
    spec = source.spec.model_dump(by_alias=True)
    if not any(isinstance(v, str) and "<+" in v for v in spec.values()):
        return spec
    variables = {
        v.name: v.typed_value() for v in service.service_definition.spec.variables if v.type != "Secret"
    }
    header = {"identifier": service.identifier, "name": service.name, "type": "ECS"}
    ctx = ExpressionContext(values={"service": header, "serviceVariables": variables}, keep=frozenset())
    out = {}
    for key, value in spec.items():
        if not (isinstance(value, str) and "<+" in value):
            out[key] = value
            continue
        try:
            out[key] = render(value, ctx, mode=Mode.FAIL, path=format_path((*where.path, key)))
        except ExpressionError as error:
            raise where.problem(key, error.detail) from None
    return out


def _raw_at(raw: Any, path: tuple[str | int, ...]) -> Any:
    for part in path:
        raw = raw[part]
    return raw
