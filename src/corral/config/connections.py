"""From a connector to something that can talk: boto3 clients, git remotes, registry URLs.

boto3 is imported only when a client is made, so loading a project stays fast.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from .entities.connector import (
    AnyConnector,
    AwsConnector,
    DockerRegistryConnector,
    GitConnector,
    GitHttpSpec,
    GithubConnector,
    ManualConfigCredential,
    UsernamePasswordAuth,
)

if TYPE_CHECKING:
    from corral.aws.clients import AwsSettings as ClientSettings

    from .project import Project
    from .secrets import SecretResolver

DEFAULT_REGION = "us-east-1"


@dataclass(frozen=True)
class AwsSettings:
    """What boto3 needs: region, endpoint, and either static keys or the default chain."""

    region: str
    endpoint_url: str | None
    access_key_id: str | None
    secret_access_key: str | None
    role_arn: str | None
    external_id: str | None
    ecs_events_queue_url: str | None = None  # this Region's queue of ECS events, if the connector has one

    def for_clients(self) -> ClientSettings:
        """The settings of Corral's shared clients (`corral.aws.clients.Clients`). The endpoint is
        named here, not left to botocore, so that clients shared in a process differ per endpoint."""
        from corral.aws.clients import AwsSettings as ClientSettings

        return ClientSettings(
            region=self.region,
            endpoint_url=self.endpoint_url or os.environ.get("AWS_ENDPOINT_URL") or None,
            access_key_id=self.access_key_id,
            secret_access_key=self.secret_access_key,
            profile=None if self.access_key_id else os.environ.get("AWS_PROFILE") or None,
            role_arn=self.role_arn,
            external_id=self.external_id,
            ecs_events_queue_url=self.ecs_events_queue_url,
        )

    def client(self, service: str, *, config: Any = None) -> Any:
        """A boto3 client; `config` is a botocore Config (timeouts, retries)."""
        import boto3

        session = boto3.session.Session(
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
            region_name=self.region,
        )
        if self.role_arn:
            session = self._assumed(session)
        return session.client(service, endpoint_url=self.endpoint_url, region_name=self.region, config=config)

    def _assumed(self, session: Any) -> Any:
        import boto3

        params: dict[str, Any] = {"RoleArn": self.role_arn, "RoleSessionName": "corral"}
        if self.external_id:
            params["ExternalId"] = self.external_id
        sts = session.client("sts", endpoint_url=self.endpoint_url, region_name=self.region)
        credentials = sts.assume_role(**params)["Credentials"]
        return boto3.session.Session(
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
            region_name=self.region,
        )


def aws_settings(
    connector: AwsConnector, secrets: SecretResolver, *, region: str | None = None
) -> AwsSettings:
    """Settings for a client in `region` (else the connector's test region, else us-east-1)."""
    credential = connector.spec.credential
    access_key = secret_key = None
    if isinstance(credential, ManualConfigCredential):
        spec = credential.spec
        access_key = (
            spec.access_key if spec.access_key is not None else secrets.value(spec.access_key_ref or "")
        )
        secret_key = secrets.value(spec.secret_key_ref)
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
    )


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
