"""From an artifact source's spec and its connector to a repository Corral can ask for tags.

One small interface, one implementation per kind of registry:

    ArtifactRepository      image_base, newest(pattern, limit), tag_info(tag), close()
     ├── DockerRepository   a Docker Registry HTTP API v2 (DockerRegistry sources)
     └── EcrRepository      the ECR API through boto3 (Ecr sources)

Nothing here talks to a registry until a repository's methods are called; `image_base`
needs no call except for an Ecr source that gives neither the account nor a full URI.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from corral.config.entities.connector import (
    AwsConnector,
    DockerRegistryConnector,
    UsernamePasswordAuth,
)
from corral.config.project import Project

from .ecr import ECR_URI, EcrRepository, ecr_host
from .images import TagInfo, TagPattern
from .names import registry_from_url, repository_name

if TYPE_CHECKING:
    from .registry import RegistryClient  # httpx is imported only when a registry is asked

SecretLookup = Callable[[str], str]


class SpecProblem(ValueError):
    """A source spec Corral cannot use; `field` is the spec member it is about."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class ArtifactRepository(Protocol):
    @property
    def image_base(self) -> str: ...

    def newest(self, *, pattern: TagPattern | None = None, limit: int | None = None) -> list[TagInfo]: ...

    def tag_info(self, tag: str) -> TagInfo: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class SourceSpec:
    """One artifact source as resolved: its spec after runtime inputs and expressions."""

    identifier: str
    type: str  # DockerRegistry | Ecr
    connector_ref: str
    image_path: str
    tag: str | None = None
    tag_regex: str | None = None
    digest: str | None = None
    region: str | None = None
    registry_hostname: str | None = None
    registry_id: str | None = None

    @classmethod
    def of(cls, identifier: str, type: str, spec: Mapping[str, Any]) -> SourceSpec:
        """From a spec in YAML spelling (camelCase); values are taken as text."""

        def text(name: str) -> str | None:
            value = spec.get(name)
            return None if value is None else str(value)

        return cls(
            identifier=identifier,
            type=type,
            connector_ref=text("connectorRef") or "",
            image_path=text("imagePath") or "",
            tag=text("tag"),
            tag_regex=text("tagRegex"),
            digest=text("digest"),
            region=text("region"),
            registry_hostname=text("registryHostname"),
            registry_id=text("registryId"),
        )


class DockerRepository:
    """A repository of a Docker Registry HTTP API v2 server."""

    def __init__(self, client: RegistryClient, repository: str, image_host: str) -> None:
        self.client = client
        self.repository = repository
        self.image_base = f"{image_host}/{repository}"

    def newest(self, *, pattern: TagPattern | None = None, limit: int | None = None) -> list[TagInfo]:
        return self.client.newest(self.repository, pattern=pattern, limit=limit)

    def tag_info(self, tag: str) -> TagInfo:
        return self.client.tag_info(self.repository, tag)

    def close(self) -> None:
        self.client.close()


class _EcrRepository(EcrRepository):
    """EcrRepository with an image base given by the spec, when it gives one."""

    def __init__(self, client: Any, repository: str, *, registry_id: str | None, base: str | None) -> None:
        super().__init__(client, repository, registry_id=registry_id)
        self._base = base

    @property
    def image_base(self) -> str:
        return self._base or super().image_base

    def close(self) -> None:
        pass


# -- DockerRegistry sources --------------------------------------------------------------


def docker_connector(project: Project, spec: SourceSpec) -> DockerRegistryConnector:
    connector = project.connector(spec.connector_ref)
    if not isinstance(connector, DockerRegistryConnector):
        raise SpecProblem("connectorRef", _wrong_connector(spec, connector, "DockerRegistry"))
    return connector


def docker_location(project: Project, spec: SourceSpec) -> tuple[str, str]:
    """(image host as put in a task definition, repository name for the API); no call.

    The image keeps the registry host the connector was given (`registry.hub.docker.com`),
    as the reference system does; the path is normalized (`nginx` -> `library/nginx` on
    Docker Hub)."""
    connector = docker_connector(project, spec)
    host = host_as_written(connector.spec.docker_registry_url)
    if "<+" in spec.image_path:  # a run-time expression (<+pipeline...>): filled in later
        return host, spec.image_path
    try:
        registry = registry_from_url(connector.spec.docker_registry_url)
        repository = repository_name(spec.image_path, registry)
    except ValueError as error:
        raise SpecProblem("imagePath", str(error)) from None
    return host, repository


def host_as_written(url: str) -> str:
    """`registry.hub.docker.com` from `https://registry.hub.docker.com/v2/`."""
    host = url.strip().split("://", 1)[-1].split("/", 1)[0].rsplit("@", 1)[-1].lower()
    return "docker.io" if host == "hub.docker.com" else host  # hub.docker.com is the web site


def open_docker(
    project: Project, spec: SourceSpec, secrets: SecretLookup, **client_options: Any
) -> DockerRepository:
    connector = docker_connector(project, spec)
    host, repository = docker_location(project, spec)
    username = password = None
    auth = connector.spec.auth
    if isinstance(auth, UsernamePasswordAuth):
        username = (
            auth.spec.username if auth.spec.username is not None else secrets(auth.spec.username_ref or "")
        )
        password = secrets(auth.spec.password_ref)
    from .registry import RegistryClient

    client = RegistryClient(
        connector.spec.docker_registry_url, username=username, password=password, **client_options
    )
    return DockerRepository(client, repository, host)


# -- Ecr sources -------------------------------------------------------------------------


@dataclass(frozen=True)
class EcrLocation:
    repository: str
    region: str
    registry_id: str | None
    image_base: str | None  # None: only ECR can tell (the account is not given)


def ecr_location(spec: SourceSpec) -> EcrLocation:
    """Where an Ecr source's images are, from its spec alone (no call)."""
    path = spec.image_path.strip()
    found = ECR_URI.match(path)
    if found:
        return EcrLocation(
            found.group("repository"), spec.region or found.group("region"), found.group("account"), path
        )
    repository = path.strip("/")
    if not repository:
        raise SpecProblem("imagePath", "expected the ECR repository name (team/web) or its URI")
    if not spec.region:
        raise SpecProblem("region", "required for an Ecr source")
    base = None
    if spec.registry_hostname:
        base = f"{host_as_written(spec.registry_hostname)}/{repository}"
    elif spec.registry_id:
        base = f"{ecr_host(spec.registry_id, spec.region)}/{repository}"
    return EcrLocation(repository, spec.region, spec.registry_id, base)


# AWS's documentation writes an ECR image's unknown account this way
# (https://docs.aws.amazon.com/AmazonECR/latest/userguide/docker-push-ecr-image.html)
ECR_ACCOUNT_STAND_IN = "aws_account_id"
ECR_ACCOUNT_LATER = (
    "no registryId: the repository is in the AWS account of the connector's credentials, which ECR "
    f"names when the stage starts (as Harness does); '{ECR_ACCOUNT_STAND_IN}' stands for it here"
)


def ecr_stand_in_base(location: EcrLocation) -> str:
    """The image base of a repository in the connector's own account, before ECR is asked which
    account that is (validate, render): `aws_account_id.dkr.ecr.REGION.amazonaws.com/REPO`."""
    return f"{ecr_host(ECR_ACCOUNT_STAND_IN, location.region)}/{location.repository}"


def open_ecr(project: Project, spec: SourceSpec, secrets: SecretLookup) -> _EcrRepository:
    """The repository through the connector's credentials, whichever kind (keys with a session
    token, the default chain, Irsa, OIDC, a cross-account role): the same settings as its steps."""
    from corral.aws import Clients
    from corral.config.connections import aws_settings

    connector = project.connector(spec.connector_ref)
    if not isinstance(connector, AwsConnector):
        raise SpecProblem("connectorRef", _wrong_connector(spec, connector, "Aws"))
    where = ecr_location(spec)
    settings = aws_settings(connector, _SecretValues(project, secrets), region=where.region)
    client = Clients.shared(settings.for_clients()).ecr
    return _EcrRepository(client, where.repository, registry_id=where.registry_id, base=where.image_base)


@dataclass(frozen=True)
class _SecretValues:
    """What aws_settings reads of a secret resolver: the project and a secret's value."""

    project: Project
    value: SecretLookup


def open_repository(
    project: Project, spec: SourceSpec, secrets: SecretLookup, **client_options: Any
) -> ArtifactRepository:
    """The repository a source reads from; `client_options` go to RegistryClient (verify,
    timeout, transport) for DockerRegistry sources."""
    if spec.type == "Ecr":
        return open_ecr(project, spec, secrets)
    return open_docker(project, spec, secrets, **client_options)


def _wrong_connector(spec: SourceSpec, connector: Any, wanted: str) -> str:
    if connector is None:
        return f"connector '{spec.connector_ref}' not found"
    return f"a {spec.type} source needs a{'n' if wanted[0] in 'AE' else ''} {wanted} connector; '{spec.connector_ref}' is {connector.type}"
