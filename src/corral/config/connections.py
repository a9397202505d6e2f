"""From a connector to something that can talk: boto3 clients, git remotes, registry URLs.

boto3 is imported only when a client is made, so loading a project stays fast.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from corral.errors import ConfigError, Problem, format_path

from .entities.connector import (
    AnyConnector,
    AwsConnector,
    DockerRegistryConnector,
    GitConnector,
    GitHttpSpec,
    GithubConnector,
    IrsaCredential,
    ManualConfigCredential,
    OidcCredential,
    UsernamePasswordAuth,
)

if TYPE_CHECKING:
    from corral.aws.clients import AwsSettings as ClientSettings

    from .project import Project
    from .secrets import SecretResolver

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class AwsSettings:
    """What boto3 needs: region, endpoint, and static keys, a web identity or the default chain,
    with a cross-account role to assume on top."""

    region: str
    endpoint_url: str | None
    access_key_id: str | None
    secret_access_key: str | None
    role_arn: str | None
    external_id: str | None
    ecs_events_queue_url: str | None = None  # this Region's queue of ECS events, if the connector has one
    # with temporary access keys (ManualConfig sessionTokenRef)
    session_token: str | None = field(default=None, repr=False)
    web_identity_role_arn: str | None = None
    web_identity_token_file: str | None = None
    web_identity_token_env: str | None = None
    source: str = ""  # the connector, for credential errors

    def for_clients(self) -> ClientSettings:
        """The settings of Corral's shared clients (`corral.aws.clients.Clients`). The endpoint is
        named here, not left to botocore, so that clients shared in a process differ per endpoint."""
        from corral.aws.clients import AwsSettings as ClientSettings

        return ClientSettings(
            region=self.region,
            endpoint_url=self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            session_token=self.session_token,
            profile=None if self.access_key_id else os.environ.get("AWS_PROFILE") or None,
            role_arn=self.role_arn,
            external_id=self.external_id,
            ecs_events_queue_url=self.ecs_events_queue_url,
            web_identity_role_arn=self.web_identity_role_arn,
            web_identity_token_file=self.web_identity_token_file,
            web_identity_token_env=self.web_identity_token_env,
            source=self.source,
        )

    def client(self, service: str, *, config: Any = None) -> Any:
        """A boto3 client; `config` is a botocore Config (timeouts, retries). Its credentials come
        from the same code as Corral's shared clients (`corral.aws.clients.botocore_session`)."""
        import boto3

        from corral.aws.clients import botocore_session

        settings = self.for_clients()
        session = boto3.session.Session(botocore_session=botocore_session(settings), region_name=self.region)
        # boto3-stubs overloads client() for literal service names only; any botocore name works
        return session.client(  # type: ignore[call-overload]
            service, endpoint_url=settings.endpoint_url, region_name=self.region, config=config
        )


class SecretValues(Protocol):
    """What reading a connector's credentials needs of a secret resolver (SecretResolver has it)."""

    @property
    def project(self) -> Project: ...

    def value(self, ref: str) -> str: ...


def aws_settings(connector: AwsConnector, secrets: SecretValues, *, region: str | None = None) -> AwsSettings:
    """Settings for a client in `region` (else the connector's test region, else us-east-1).
    ConfigError naming the connector's file and path when its credential cannot be used here
    (a secret without a value, no web identity in this process, a token source refused)."""
    credential = connector.spec.credential
    access_key = secret_key = session_token = None
    web = WebIdentity(None, None, None)
    if isinstance(credential, ManualConfigCredential):
        spec = credential.spec
        access_key = (
            spec.access_key if spec.access_key is not None else secrets.value(spec.access_key_ref or "")
        )
        secret_key = secrets.value(spec.secret_key_ref)
        if spec.session_token_ref:
            session_token = secrets.value(spec.session_token_ref)
    elif isinstance(credential, IrsaCredential):
        web = irsa_identity(connector)
    elif isinstance(credential, OidcCredential):
        web = oidc_identity(connector, credential, secrets.project)
    cross = credential.cross_account_access
    region = region or credential.region or DEFAULT_REGION
    return AwsSettings(
        region=region,
        endpoint_url=connector.spec.endpoint_url,
        access_key_id=access_key,
        secret_access_key=secret_key,
        role_arn=cross.cross_account_role_arn if cross else None,
        external_id=cross.external_id if cross else None,
        ecs_events_queue_url=connector.spec.ecs_event_queues.get(region),
        web_identity_role_arn=web.role_arn,
        web_identity_token_file=web.token_file,
        web_identity_token_env=web.token_env,
        source=f"{connector.where()}: connector '{connector.identifier}'",
        session_token=session_token,
    )


@dataclass(frozen=True)
class WebIdentity:
    role_arn: str | None
    token_file: str | None
    token_env: str | None


IRSA_VARIABLES = ("AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE")
CREDENTIAL_PATH = ("connector", "spec", "credential")


def irsa_identity(connector: AwsConnector, environ: Mapping[str, str] | None = None) -> WebIdentity:
    """The pod's web identity, from the variables EKS's pod identity webhook sets for a service
    account annotated with eks.amazonaws.com/role-arn (what botocore's default chain reads too)."""
    environ = os.environ if environ is None else environ
    missing = [name for name in IRSA_VARIABLES if not environ.get(name)]
    if missing:
        raise _credential_problem(
            connector,
            ("type",),
            f"Irsa uses the web identity of the process that runs the step, but {' and '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not set there: run it in a pod whose service account "
            "is annotated with eks.amazonaws.com/role-arn (EKS then sets AWS_ROLE_ARN and "
            "AWS_WEB_IDENTITY_TOKEN_FILE), or set both",
        )
    return WebIdentity(environ["AWS_ROLE_ARN"], environ["AWS_WEB_IDENTITY_TOKEN_FILE"], None)


def oidc_identity(
    connector: AwsConnector,
    credential: OidcCredential,
    project: Project,
    environ: Mapping[str, str] | None = None,
) -> WebIdentity:
    """AssumeRoleWithWebIdentity of spec.iamRoleArn with a token from the file or environment
    variable the connector names; these read the process's own files and environment, so a
    server that refuses the `file` / `env` secret managers refuses them too."""
    environ = os.environ if environ is None else environ
    spec = credential.spec
    refused = refused_token_source(project, connector)
    if refused is not None:
        raise ConfigError([refused])
    if spec.web_identity_token_env is not None:
        if not environ.get(spec.web_identity_token_env):
            raise _credential_problem(
                connector,
                ("spec", "webIdentityTokenEnv"),
                f"environment variable {spec.web_identity_token_env} is not set: it must hold the OIDC "
                "token (a JWT) to exchange for the role's credentials",
            )
        return WebIdentity(spec.iam_role_arn, None, spec.web_identity_token_env)
    if spec.web_identity_token_file is None:
        raise _credential_problem(
            connector,
            ("spec", "iamRoleArn"),
            "OidcAuthentication needs an OIDC token to exchange for the role's credentials; Harness "
            "mints it itself, Corral reads it: add webIdentityTokenFile (a file holding the token) or "
            "webIdentityTokenEnv (an environment variable holding it) under credential.spec",
        )
    path = Path(spec.web_identity_token_file).expanduser()
    path = path if path.is_absolute() else project.root / path
    if not path.is_file():
        raise _credential_problem(
            connector, ("spec", "webIdentityTokenFile"), f"no token file {path}: it must hold the OIDC token"
        )
    return WebIdentity(spec.iam_role_arn, str(path), None)


def refused_token_source(project: Project, connector: AwsConnector) -> Problem | None:
    """An OIDC token read from the process's files or environment, where the project's settings
    (a server's) refuse the `file` / `env` secret managers, which read those too."""
    credential = connector.spec.credential
    if not isinstance(credential, OidcCredential):
        return None
    allowed = project.settings.project.secrets.managers
    spec = credential.spec
    for member, manager, what, value in (
        ("webIdentityTokenEnv", "env", "environment", spec.web_identity_token_env),
        ("webIdentityTokenFile", "file", "files", spec.web_identity_token_file),
    ):
        if value is not None and allowed is not None and manager not in allowed:
            return _credential_problem(connector, ("spec", member), _refused(manager, what)).problems[0]
    return None


def _refused(manager: str, what: str) -> str:
    return (
        f"refused on this server: it reads the server's own {what} (like the '{manager}' secret "
        f"manager); an operator allows it with corral server --allow-secret-manager {manager}"
    )


def _credential_problem(connector: AwsConnector, path: tuple[str, ...], message: str) -> ConfigError:
    full = (*CREDENTIAL_PATH, *path)
    return ConfigError([Problem(connector.where(full), format_path(full), message)])


@dataclass(frozen=True)
class GitRemote:
    url: str
    username: str | None = None
    password: str | None = None


def git_remote(
    project: Project,
    connector: GitConnector | GithubConnector,
    secrets: SecretResolver,
    *,
    repo_name: str | None,
) -> GitRemote:
    """The repository URL (Account connectors append repoName) and HTTP credentials, if any."""
    if isinstance(connector, GitConnector):
        url, account = connector.spec.url, connector.spec.connection_type == "Account"
    else:
        url, account = connector.spec.url, connector.spec.type == "Account"
    if account:
        url = f"{url.rstrip('/')}/{repo_name or connector.spec.validation_repo or ''}"
    if _is_local(url):
        path = Path(url.removeprefix("file://")).expanduser()
        url = str(path if path.is_absolute() else (project.root / path).resolve())
    username = password = None
    if isinstance(connector, GitConnector) and isinstance(connector.spec.spec, GitHttpSpec):
        auth = connector.spec.spec
        if auth.password_ref:
            username = auth.username if auth.username is not None else secrets.value(auth.username_ref or "")
            password = secrets.value(auth.password_ref)
    elif isinstance(connector, GithubConnector) and connector.spec.authentication.spec.spec is not None:
        token = connector.spec.authentication.spec.spec
        username = token.username if token.username is not None else secrets.value(token.username_ref or "")
        password = secrets.value(token.token_ref)
    return GitRemote(url, username, password)


def _is_local(url: str) -> bool:
    scheme = urlsplit(url).scheme
    return scheme in ("", "file") and not url.startswith("git@")


def registry_host(connector: DockerRegistryConnector) -> str:
    """`registry.hub.docker.com` from `https://registry.hub.docker.com/v2/`."""
    url = connector.spec.docker_registry_url
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return parts.netloc


def registry_base_url(connector: DockerRegistryConnector) -> str:
    url = connector.spec.docker_registry_url
    parts = urlsplit(url if "://" in url else f"https://{url}")
    return f"{parts.scheme}://{parts.netloc}"


def registry_credentials(
    connector: DockerRegistryConnector, secrets: SecretResolver
) -> tuple[str, str] | None:
    auth = connector.spec.auth
    if not isinstance(auth, UsernamePasswordAuth):
        return None
    username = (
        auth.spec.username if auth.spec.username is not None else secrets.value(auth.spec.username_ref or "")
    )
    return username, secrets.value(auth.spec.password_ref)


def connector_kind(connector: AnyConnector) -> str:
    return connector.type
