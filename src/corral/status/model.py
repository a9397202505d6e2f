"""What runs where, as plain data: one `ServiceStatus` per service and infrastructure.

    ServiceStatus       a service in one environment / infrastructure: what AWS says now (`live`)
                        beside what Corral last deployed there (`deployed`), and their `drift`
    LiveState           the ECS service(s) found: one, or the `<name>__1` / `<name>__2` pair of a
                        Harness blue green service; listener routes to their target groups
    LiveService         one ECS service: revision, images, task counts, deployments, roles
    Route               a listener rule and the target groups it forwards to, with weights
    Deployment          one stage of one execution that deployed the service (from the store)

`to_dict()` gives the JSON that `corral status --json` prints and the server's
`GET /projects/{p}/status` answers (snake_case keys, as the rest of the REST API).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


@dataclass
class TaskCounts:
    running: int = 0
    desired: int = 0
    pending: int = 0


@dataclass
class EcsDeployment:
    """One entry of DescribeServices' `deployments` (PRIMARY, ACTIVE)."""

    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    rollout_state: str | None  # COMPLETED | IN_PROGRESS | FAILED
    task_definition: str  # family:revision
    counts: TaskCounts


@dataclass
class ServiceDeployment:
    """The service's newest service deployment (ECS deployment controller), for ECS's own strategies."""

    arn: str
    status: str  # PENDING, IN_PROGRESS, SUCCESSFUL, ROLLBACK_..., STOPPED
    lifecycle_stage: str | None
    strategy: str | None  # ROLLING | BLUE_GREEN | LINEAR | CANARY
    target_revision: str | None


@dataclass
class TargetGroupUse:
    """A target group a service registers its tasks in, and what that makes it."""

    arn: str
    name: str
    role: str | None  # production | test (ECS blue/green: which the listener rules send to it)


@dataclass
class LiveService:
    name: str
    status: str  # ACTIVE | DRAINING | MISSING
    role: str | None  # BLUE | GREEN (Harness blue green: the BG_VERSION tag)
    serves_production: bool | None  # a production route sends it traffic (None: it has no load balancer)
    task_definition: str | None  # family:revision
    images: list[str]
    counts: TaskCounts
    deployments: list[EcsDeployment]
    controller: str  # ECS | CODE_DEPLOY | EXTERNAL
    strategy: str | None  # deploymentConfiguration.strategy (ROLLING, BLUE_GREEN, ...)
    service_deployment: ServiceDeployment | None
    target_groups: list[TargetGroupUse]
    autoscaling: dict[str, int] | None  # {"min": .., "max": ..}: the scalable target's range


@dataclass
class RouteTarget:
    arn: str
    name: str
    weight: int
    percent: int  # share of the rule's traffic
    healthy: int
    total: int
    services: list[str]  # the ECS services registered in it (of those read)


@dataclass
class Route:
    """One listener rule forwarding to some of the services' target groups."""

    load_balancer: str
    listener_arn: str
    listener: str  # HTTP:80
    rule_arn: str
    rule: str  # "default rule" | "priority 10: path-pattern /api/*"
    role: str | None  # production | test | stage: what the deployment setup uses the rule for
    targets: list[RouteTarget]


@dataclass
class LiveState:
    exists: bool
    kind: str  # rolling | blue green | ECS blue/green | ECS linear | ECS canary | ...
    services: list[LiveService]
    routes: list[Route]

    @property
    def serving(self) -> LiveService | None:
        """The service production traffic reaches (blue green: BLUE), else the only one."""
        active = [s for s in self.services if s.status != "MISSING"]
        production = [s for s in active if s.serves_production]
        if production:
            return production[0]
        blue = [s for s in active if s.role == "BLUE"]
        first = blue or active
        return first[0] if first else None


@dataclass
class Deployment:
    """A Deployment stage of an execution that deployed the service to the infrastructure."""

    execution_id: str
    pipeline: str
    pipeline_name: str
    sequence_id: int
    stage: str
    service: str
    environment: str
    infrastructure: str | None
    status: str  # the stage's status: Success, Failed, Running, ...
    execution_status: str
    rolled_back: bool
    triggered_by: str | None
    started_at: float | None
    ended_at: float | None
    ecs_service: str | None
    cluster: str | None
    region: str | None
    connector: str | None
    image: str | None
    tag: str | None
    task_definition: str | None  # family:revision, when a step reported it
    # listener rule ARN -> production / stage: the rules a blue green step named (its outputs)
    listener_rules: dict[str, str] = field(default_factory=dict)


@dataclass
class ServiceStatus:
    service: str
    service_name: str
    environment: str
    environment_name: str
    environment_type: str
    infrastructure: str
    cluster: str | None
    region: str | None
    connector: str | None
    ecs_service: str | None
    live: LiveState | None
    deployed: Deployment | None  # the last deployment that succeeded
    last_attempt: Deployment | None  # a newer one that did not (failed, aborted, running)
    drift: list[str]
    error: str | None = None  # why AWS could not be read

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


@dataclass
class ProjectStatus:
    project: str
    read_at: float
    services: list[ServiceStatus]

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)


def to_dict(value: Any) -> dict[str, Any]:
    data = dataclasses.asdict(value)
    assert isinstance(data, dict)
    return data


def family_revision(arn: str | None) -> str | None:
    """`arn:aws:ecs:...:task-definition/web:7` -> `web:7` (what people read)."""
    return arn.rsplit("/", 1)[-1] if arn else None
