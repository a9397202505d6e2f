"""The status of a project: for each service and infrastructure it deploys to, what AWS says now
beside what Corral last deployed there.

    status = project_status(project, store)                         # a ProjectStatus
    status = project_status(project, store, service="demo_web", environment="sandbox")

Which targets: the (environment, infrastructure) pairs the project's pipelines can deploy each
service to (config.targets), and every one a stored execution deployed it to. Where in AWS: the
last deployment's journaled target (the ECS service, cluster, Region and connector it used), else
the service's manifests rendered for the infrastructure as `corral validate` renders them (run-time
inputs stand in by their defaults). A service whose manifests hold no service definition (a Run
Task service) is left out until it has been deployed. AWS is read through the infrastructure's
connector; a target whose read fails carries the error and the rest are still shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corral.errors import CorralError

from .deployed import Key, deployments, last_deployments
from .drift import drift
from .live import read_live
from .model import Deployment, LiveState, ProjectStatus, ServiceStatus

if TYPE_CHECKING:
    from corral.config.project import Project
    from corral.store import Store

# (project, connector identifier, region) -> the clients to read AWS with
ClientsFor = Callable[["Project", str, str], Any]
MASKED = "<secret>"
READ_SECONDS = 10.0  # how long one target's AWS reads may retry throttling and connection errors


@dataclass
class _Where:
    ecs_service: str | None
    cluster: str | None
    region: str | None
    connector: str | None
    error: str | None = None


def project_status(
    project: Project,
    store: Store,
    *,
    service: str | None = None,
    environment: str | None = None,
    clients_for: ClientsFor | None = None,
    read_seconds: float = READ_SECONDS,
) -> ProjectStatus:
    """Every service and infrastructure of the project (or those of `service` / `environment`).
    `read_seconds`: how long each target's reads retry; a connector and Region that could not be
    read once are not tried again for the other targets."""
    history = deployments(store, project.name)
    latest = last_deployments(history)
    keys = _targets(project, latest)
    reader = _Reader(clients_for or connector_clients, read_seconds)
    rows = []
    for key in keys:
        name, env, _ = key
        if (service and name != service) or (environment and env != environment):
            continue
        success, attempt = latest.get(key, (None, None))
        rules = _listener_rules(history, key)
        row = _status(project, key, success, attempt, rules, reader)
        if row is not None:
            rows.append(row)
    return ProjectStatus(project=project.name, read_at=time.time(), services=rows)


def service_history(store: Store, project: Project, service: str) -> list[Deployment]:
    """The deployments of one service, every environment, newest first."""
    return [item for item in deployments(store, project.name) if item.service == service]


def connector_clients(project: Project, connector_ref: str, region: str) -> Any:
    """Clients for the project's AWS connector; AWS_ENDPOINT_URL and AWS_PROFILE apply when the
    connector names no endpoint or keys, as for a step."""
    from corral.aws.clients import Clients
    from corral.config.connections import aws_settings
    from corral.config.entities.common import strip_scope
    from corral.config.entities.connector import AwsConnector
    from corral.config.secrets import SecretResolver

    connector = project.connector(strip_scope(connector_ref))
    if not isinstance(connector, AwsConnector):
        raise CorralError(f"no AWS connector {connector_ref!r} in the project")
    return Clients(aws_settings(connector, SecretResolver(project), region=region).for_clients())


def _targets(project: Project, latest: dict[Key, Any]) -> list[Key]:
    from corral.config.targets import deployment_targets

    keys: set[Key] = set(latest)
    for name, pairs in deployment_targets(project).items():
        keys |= {(name, env, infra) for env, infra in pairs}
    order = {env: i for i, env in enumerate(project.environments)}
    return sorted(keys, key=lambda k: (order.get(k[1], len(order)), k[1], k[2] or "", k[0]))


def _status(
    project: Project,
    key: Key,
    success: Deployment | None,
    attempt: Deployment | None,
    rules: dict[str, str],
    reader: _Reader,
) -> ServiceStatus | None:
    name, env, infra = key
    newest = attempt or success
    where = _from_deployment(newest) if newest and newest.ecs_service else _rendered(project, key)
    if where is None:
        return None  # a Run Task service, never deployed as a service
    environment = project.environments.get(env)
    entity = project.services.get(name)
    row = ServiceStatus(
        service=name,
        service_name=entity.name if entity else name,
        environment=env,
        environment_name=environment.name if environment else env,
        environment_type=environment.type if environment else "",
        infrastructure=infra or "",
        cluster=where.cluster,
        region=where.region,
        connector=where.connector,
        ecs_service=where.ecs_service,
        live=None,
        deployed=success,
        last_attempt=attempt,
        drift=[],
        error=where.error,
    )
    if where.error or not (where.ecs_service and where.cluster and where.connector):
        return row
    row.live, row.error = reader.read(project, where, rules)
    if row.live is None:
        return row
    row.drift = drift(row.live, success)
    return row


@dataclass
class _Reader:
    """Reads targets' AWS state, each under a deadline; remembers connectors that failed."""

    clients_for: ClientsFor
    seconds: float
    failed: dict[tuple[str, str], str] = field(default_factory=dict)

    def read(
        self, project: Project, where: _Where, rules: dict[str, str]
    ) -> tuple[LiveState | None, str | None]:
        from corral.aws.budget import BudgetTimeout
        from corral.aws.retry import call_scope

        assert where.connector and where.cluster and where.ecs_service
        account = (where.connector, where.region or "")
        if account in self.failed:
            return None, self.failed[account]
        clients = None
        try:
            clients = self.clients_for(project, where.connector, where.region or "")
            with call_scope(deadline=time.monotonic() + self.seconds):
                found = read_live(
                    clients, cluster=where.cluster, service_name=where.ecs_service, rule_roles=rules
                )
        except BudgetTimeout:
            # the retries of a failing call ran into the deadline (the budget gives no token after it)
            endpoint = clients.ecs.meta.endpoint_url if clients is not None else "AWS"
            message = f"AWS could not be read: no answer from {endpoint} within {self.seconds:g} s"
            self.failed[account] = message
            return None, message
        except Exception as error:  # any AWS or connector failure: shown on the row, others still read
            message = f"AWS could not be read: {_short(error)}"
            if _unreachable(error):
                self.failed[account] = message
            return None, message
        return found, None


def _unreachable(error: Exception) -> bool:
    """The endpoint did not answer (or the connector is wrong): the same for every target it holds."""
    from botocore.exceptions import ConnectionError as BotocoreConnectionError
    from botocore.exceptions import HTTPClientError, NoCredentialsError

    return isinstance(error, (BotocoreConnectionError, HTTPClientError, NoCredentialsError, CorralError))


def _listener_rules(history: list[Deployment], key: Key) -> dict[str, str]:
    """The roles blue green steps gave listener rules on this target, the newest winning."""
    rules: dict[str, str] = {}
    for item in reversed(history):  # oldest first
        if (item.service, item.environment, item.infrastructure) == key:
            rules |= item.listener_rules
    return rules


def _from_deployment(item: Deployment) -> _Where:
    return _Where(item.ecs_service, item.cluster, item.region, item.connector)


def _rendered(project: Project, key: Key) -> _Where | None:
    """Where the service's manifests say it runs, rendered as validation renders them."""
    from corral.manifests.service_rendering import RenderOptions, render_outcome

    name, env, infra = key
    options = RenderOptions(satisfiable=True, secrets=lambda ref: MASKED, defer_lookups=True)
    try:
        outcome = render_outcome(project, name, env, infra or "", inputs={}, options=options)
    except CorralError as error:
        return _Where(None, None, None, None, f"the service's manifests do not render: {_short(error)}")
    rendered = outcome.rendered
    if rendered is None:
        problems = "; ".join(str(p) for p in outcome.problems[:3]) or "nothing rendered"
        return _Where(None, None, None, None, f"the service's manifests do not render: {problems}")
    if rendered.service_definition is None:
        return None
    service_name = rendered.service_definition.request.get("serviceName")
    known = isinstance(service_name, str) and "<+" not in service_name
    return _Where(
        service_name if known else None,
        rendered.cluster if "<+" not in rendered.cluster else None,
        rendered.region,
        rendered.connector_ref,
        None if known else "the ECS service name is a run-time input: deploy it once to see it here",
    )


def _short(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return (text[0] if text else type(error).__name__)[:300]
