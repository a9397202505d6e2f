"""`corral connector test ID`: can Corral reach what a connector points at, with its credentials?
`corral connector ecs-events ID`: make the SQS queue and EventBridge rules of a Region's ECS events.

AWS: sts GetCallerIdentity and ecs ListClusters (the connector's region and endpoint).
DockerRegistry: GET /v2/ with the connector's credentials (basic, or a bearer token from the
registry's token service). Git/Github: list the repository's refs, as `git ls-remote` does.
"""

from __future__ import annotations

import base64
import json
import sys
import urllib.parse
from typing import Any

import click

from corral.cli.config_cmds import EXIT_PROBLEMS, EXIT_USAGE, friendly_errors, project_option

TIMEOUT_SECONDS = 10


@click.group("connector")
def connector() -> None:
    """Work with the project's connectors."""


@connector.command("test")
@click.argument("identifier")
@project_option
@friendly_errors
def test(identifier: str, project_dir: str | None) -> None:
    """Check that connector IDENTIFIER reaches its AWS account, registry or repository."""
    from corral.config.entities.connector import AwsConnector, DockerRegistryConnector
    from corral.config.project import load_project
    from corral.config.secrets import SecretResolver
    from corral.config.settings import project_root

    project = load_project(project_root(project_dir))
    found = project.connector(identifier)
    if found is None:
        names = ", ".join(sorted(project.connectors)) or "none"
        click.echo(f"corral: connector '{identifier}' not found; the project has {names}", err=True)
        sys.exit(EXIT_USAGE)
    secrets = SecretResolver(project)
    if isinstance(found, AwsConnector):
        lines = _test_aws(found, secrets)
    elif isinstance(found, DockerRegistryConnector):
        lines = _test_registry(found, secrets)
    else:
        lines = _test_git(project, found, secrets)
    ok = lines[0] is not None
    for line in lines[1:]:
        click.echo(line)
    if not ok:
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"connector {found.identifier}: ok")


@connector.command("ecs-events")
@click.argument("identifier")
@click.option("--region", help="The Region whose ECS events to queue (default: the connector's).")
@click.option(
    "--name", default="corral-ecs-events", show_default=True, help="Name of the queue and rule prefix."
)
@project_option
@friendly_errors
def ecs_events(identifier: str, region: str | None, name: str, project_dir: str | None) -> None:
    """Make (or update) the SQS queue and EventBridge rules that carry a Region's ECS events to
    Corral, with AWS connector IDENTIFIER's credentials, and print the connector lines to add.

    With `ecsEventQueues` in the connector, deployment steps notice a finished or failing
    deployment from ECS's events instead of polling DescribeServices. One queue per Corral process
    (server or CLI run): readers of one queue take each other's messages."""
    from botocore.exceptions import BotoCoreError, ClientError

    from corral.aws.clients import Clients
    from corral.aws.event_queue import ensure_event_queue
    from corral.config.connections import aws_settings
    from corral.config.entities.connector import AwsConnector
    from corral.config.project import load_project
    from corral.config.secrets import SecretResolver
    from corral.config.settings import project_root

    project = load_project(project_root(project_dir))
    found = project.connector(identifier)
    if not isinstance(found, AwsConnector):
        click.echo(f"corral: '{identifier}' is not an AWS connector of this project", err=True)
        sys.exit(EXIT_USAGE)
    settings = aws_settings(found, SecretResolver(project), region=region).for_clients()
    try:
        made = ensure_event_queue(Clients(settings), name)
    except (ClientError, BotoCoreError) as error:
        click.echo(f"corral: making the ECS events queue in {settings.region} failed: {error}", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"queue: {made.queue_url}")
    for rule in made.rule_arns:
        click.echo(f"rule: {rule}")
    click.echo(f"Add to connector {identifier} (under spec:):")
    click.echo(f"  ecsEventQueues:\n    {settings.region}: {made.queue_url}")


def _fail(message: str) -> list[Any]:
    click.echo(f"connector test failed: {message}", err=True)
    return [None]


def _test_aws(found: Any, secrets: Any) -> list[Any]:
    from botocore.config import Config
    from botocore.exceptions import BotoCoreError, ClientError

    from corral.config.connections import aws_settings

    settings = aws_settings(found, secrets)
    where = settings.endpoint_url or f"AWS {settings.region}"
    try:
        config = Config(
            connect_timeout=TIMEOUT_SECONDS, read_timeout=TIMEOUT_SECONDS, retries={"max_attempts": 1}
        )
        identity = settings.client("sts", config=config).get_caller_identity()
        ecs = settings.client("ecs", config=config)
        clusters: list[str] = []
        for page in ecs.get_paginator("list_clusters").paginate():
            clusters += page.get("clusterArns", [])
    except ClientError as error:
        detail = error.response.get("Error", {})
        return _fail(f"{where}: {detail.get('Code')}: {detail.get('Message')}")
    except BotoCoreError as error:
        return _fail(f"{where}: {error}")
    names = [arn.rsplit("/", 1)[-1] for arn in clusters]
    return [
        True,
        f"endpoint: {where}",
        f"account: {identity.get('Account')} ({identity.get('Arn')})",
        f"clusters ({len(names)}): {', '.join(names) if names else 'none'}",
    ]


def _test_registry(found: Any, secrets: Any) -> list[Any]:
    from corral.config.connections import registry_base_url, registry_credentials

    base = registry_base_url(found)
    credentials = registry_credentials(found, secrets)
    url = f"{base}/v2/"
    status, headers = _get(url, _basic(credentials))
    if status == 401 and headers.get("Www-Authenticate", "").lower().startswith("bearer"):
        token = _bearer_token(headers["Www-Authenticate"], credentials)
        if token is None:
            return _fail(f"{url}: the registry's token service refused the credentials")
        status, headers = _get(url, f"Bearer {token}")
    if status == 200:
        who = "as " + credentials[0] if credentials else "anonymously"
        return [True, f"registry: {url} answered 200 {who}"]
    if status == 401:
        hint = (
            "the credentials were refused"
            if credentials
            else "the registry needs credentials (auth: UsernamePassword)"
        )
        return _fail(f"{url}: 401 Unauthorized: {hint}")
    if status == 0:
        return _fail(f"{url}: cannot connect: {headers.get('error')}")
    return _fail(f"{url}: HTTP {status}; expected 200 from a Docker registry v2 API")


def _basic(credentials: tuple[str, str] | None) -> str | None:
    if credentials is None:
        return None
    raw = f"{credentials[0]}:{credentials[1]}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def _get(url: str, authorization: str | None) -> tuple[int, dict[str, str]]:
    # urllib.request costs 30 ms of start-up: imported by the checks that use it
    from urllib.error import HTTPError, URLError
    from urllib.request import Request, urlopen

    request = Request(url, method="GET")
    if authorization:
        request.add_header("Authorization", authorization)
    try:
        with urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return response.status, dict(response.headers)
    except HTTPError as error:
        return error.code, dict(error.headers)
    except (URLError, OSError) as error:
        return 0, {"error": str(getattr(error, "reason", error))}


def _bearer_token(challenge: str, credentials: tuple[str, str] | None) -> str | None:
    params = dict(
        (key.strip(), value.strip().strip('"'))
        for key, _, value in (part.partition("=") for part in challenge[len("Bearer ") :].split(","))
    )
    realm = params.pop("realm", None)
    if not realm:
        return None
    url = f"{realm}?{urllib.parse.urlencode(params)}" if params else realm
    from urllib.error import URLError
    from urllib.request import Request, urlopen

    status, _ = 0, {}
    request = Request(url)
    basic = _basic(credentials)
    if basic:
        request.add_header("Authorization", basic)
    try:
        with urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            status = response.status
            body = json.loads(response.read() or b"{}")
    except (URLError, OSError, ValueError):
        return None
    if status != 200:
        return None
    token = body.get("token") or body.get("access_token")
    return str(token) if token else None


def _test_git(project: Any, found: Any, secrets: Any) -> list[Any]:
    from dulwich.client import get_transport_and_path
    from dulwich.errors import GitProtocolError, HangupException, NotGitRepository
    from dulwich.repo import Repo

    from corral.config.connections import git_remote

    remote = git_remote(project, found, secrets, repo_name=None)
    try:
        if "://" not in remote.url and not remote.url.startswith("git@"):
            refs = list(Repo(remote.url).get_refs())  # the ref names
        else:
            kwargs: dict[str, Any] = {}
            if remote.password:
                kwargs = {"username": remote.username, "password": remote.password}
            client, path = get_transport_and_path(remote.url, **kwargs)
            refs = list(client.get_refs(path.encode()).refs)
    except NotGitRepository:
        return _fail(f"{remote.url}: not a git repository")
    except (GitProtocolError, HangupException, OSError) as error:
        return _fail(f"{remote.url}: {error}")
    branches = sorted(k.decode().removeprefix("refs/heads/") for k in refs if k.startswith(b"refs/heads/"))
    tags = [k for k in refs if k.startswith(b"refs/tags/")]
    return [
        True,
        f"repository: {remote.url}",
        f"branches ({len(branches)}): {', '.join(branches) or 'none'}; tags: {len(tags)}",
    ]
