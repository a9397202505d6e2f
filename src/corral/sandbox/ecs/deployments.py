"""Service deployments (`ecs-svc/...`) and the deployment circuit breaker."""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import events, events_bridge, ids
from .tasks import RUNNING, STARTING, STOPPED, Task

if TYPE_CHECKING:
    from .service_deployments import ServiceDeployment, ServiceRevision
    from .services import Service
    from .task_definitions import TaskDefinition
    from .task_parts import LoadBalancer, ServiceRegistry

PRIMARY = "PRIMARY"
ACTIVE = "ACTIVE"
IN_PROGRESS = "IN_PROGRESS"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CIRCUIT_BREAKER_FAILED = "ECS deployment circuit breaker: tasks failed to start."


@dataclass(eq=False)
class Deployment:
    id: str
    task_definition: TaskDefinition
    desired_count: int
    created_at: float
    launch_type: str
    capacity_provider_strategy: list[dict[str, Any]] | None
    platform_version: str | None
    network_configuration: dict[str, Any] | None
    load_balancers: list[LoadBalancer]
    registries: list[ServiceRegistry]
    service_connect: dict[str, Any] | None = None
    vpc_lattice: list[dict[str, Any]] | None = None
    status: str = PRIMARY
    rollout_state: str = IN_PROGRESS
    rollout_state_reason: str = ""
    failed_tasks: int = 0
    updated_at: float = 0.0
    tasks: list[Task] = field(default_factory=list)
    revision: ServiceRevision | None = field(default=None, repr=False)
    # the service deployment this one is the target (or the rollback) of
    service_deployment: ServiceDeployment | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        self.updated_at = self.updated_at or self.created_at
        self.rollout_state_reason = self.rollout_state_reason or f"ECS deployment {self.id} in progress."

    def live_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.is_live]

    def unstopped_tasks(self) -> list[Task]:
        return [t for t in self.tasks if t.last_status != STOPPED]

    def running_count(self) -> int:
        return sum(1 for t in self.tasks if t.last_status == RUNNING)

    def pending_count(self) -> int:
        return sum(1 for t in self.tasks if t.last_status in STARTING and t.is_live)

    def complete(self, now: float) -> None:
        self.rollout_state = COMPLETED
        self.rollout_state_reason = f"ECS deployment {self.id} completed."
        self.updated_at = now


def new_deployment(
    service: Service,
    definition: TaskDefinition,
    *,
    reason: str = "",
    template: Deployment | None = None,
    load_balancers: list[LoadBalancer] | None = None,
) -> Deployment:
    """Make a new PRIMARY deployment of the service's current settings (or, for a rollback, of
    `template`'s); older deployments turn ACTIVE. A new deployment (not a rollback) makes a
    service revision and a service deployment; a rollback runs the template's revision again
    and reports to the service deployment it rolls back. `load_balancers`: where the tasks
    register, when not the service's own target groups (a green revision's)."""
    from . import service_deployments

    now = service.now()
    if template is not None:
        service.network_configuration = template.network_configuration
        service.load_balancers = list(template.load_balancers)
        service.registries = list(template.registries)
        service.service_connect, service.vpc_lattice = template.service_connect, template.vpc_lattice
    deployment = Deployment(
        id=ids.deployment_id(),
        task_definition=definition,
        desired_count=service.desired_count,
        created_at=now,
        launch_type=service.task_launch_type,
        capacity_provider_strategy=service.capacity_provider_strategy,
        platform_version=service.platform_version,
        network_configuration=service.network_configuration,
        load_balancers=list(load_balancers if load_balancers is not None else service.load_balancers),
        registries=list(service.registries),
        service_connect=copy.deepcopy(service.service_connect),
        vpc_lattice=copy.deepcopy(service.vpc_lattice),
        rollout_state_reason=reason,
    )
    for older in service.deployments:
        older.status = ACTIVE
        older.updated_at = now
    service.deployments.insert(0, deployment)
    service.task_definition = definition
    service.steady = False
    service.start_failures = 0
    service.backoff_until = 0.0
    if template is None:
        deployment.revision = service_deployments.new_revision(service, deployment)
        service_deployments.start(service, deployment)
    else:
        deployment.revision = template.revision
    events_bridge.deployment_state_change(service, deployment, events_bridge.DEPLOYMENT_IN_PROGRESS, now)
    return deployment


def failure_threshold(desired_count: int, threshold: dict[str, Any] | None = None) -> int:
    """Failed tasks that trip the circuit breaker (ThresholdConfiguration, ECS API Reference):
    BOUNDED_PERCENT (the default, 50) is value % of the desired count clamped to 3..200,
    UNBOUNDED_PERCENT the same without the bounds, COUNT the value itself."""
    kind = (threshold or {}).get("type") or "BOUNDED_PERCENT"
    value = (threshold or {}).get("value")
    value = 50 if value is None else int(value)
    if kind == "COUNT":
        return max(1, value)
    computed = math.ceil(value / 100 * desired_count)
    if kind == "UNBOUNDED_PERCENT":
        return max(1, computed)
    return min(200, max(3, computed))


def record_failed_task(service: Service, deployment: Deployment) -> None:
    """A task of `deployment` failed (to start, or a health check): count it, maybe trip the breaker."""
    deployment.failed_tasks += 1
    deployment.updated_at = service.now()
    breaker = service.deployment_configuration
    if (
        deployment is service.primary
        and deployment.rollout_state == IN_PROGRESS
        and breaker.circuit_breaker_enable
        and deployment.failed_tasks >= failure_threshold(service.desired_count, breaker.breaker_threshold)
    ):
        _trip(service, deployment)


def record_healthy_task(deployment: Deployment) -> None:
    """`resetOnHealthyTask`: a task of the deployment runs healthy, so failures are no longer consecutive."""
    deployment.failed_tasks = 0


def _trip(service: Service, failed: Deployment) -> None:
    from . import service_deployments as sds

    now = service.now()
    failed.rollout_state = FAILED
    failed.rollout_state_reason = CIRCUIT_BREAKER_FAILED
    failed.updated_at = now
    service.add_event(events.deployment_failed(service.name, failed.id))
    events_bridge.deployment_state_change(service, failed, events_bridge.DEPLOYMENT_FAILED, now)
    record = failed.service_deployment
    if record is not None:
        record.breaker_triggered = True
    target = service.last_completed
    rollback = service.deployment_configuration.circuit_breaker_rollback
    if record is not None and record.run is not None:
        if rollback:
            record.run.roll_back(CIRCUIT_BREAKER_FAILED)
        else:
            record.run.abandon()
            record.set_status(sds.STOPPED, now, CIRCUIT_BREAKER_FAILED)
        return
    if not rollback or target is None:
        if record is not None and record.running:
            record.set_status(sds.STOPPED, now, CIRCUIT_BREAKER_FAILED)
        return
    roll_back_to(
        service,
        target,
        reason=f"ECS deployment circuit breaker: rolling back to deploymentId {target.id}.",
        record_reason=CIRCUIT_BREAKER_FAILED,
        at=now,
    )


def roll_back_to(
    service: Service, target: Deployment, *, reason: str, record_reason: str, at: float
) -> Deployment:
    """A rolling rollback: a new deployment of `target`'s settings; the service deployment in
    progress turns ROLLBACK_IN_PROGRESS until it completes."""
    from . import service_deployments as sds

    record = service.primary.service_deployment
    deployment = new_deployment(service, target.task_definition, reason=reason, template=target)
    service.add_event(events.rolling_back(service.name, target.id), at=at + 0.001)
    if record is not None and record.running and target.revision is not None:
        record.rollback = {
            "reason": record_reason,
            "startedAt": at,
            "serviceRevisionArn": target.revision.arn,
        }
        record.rollback_deployment = deployment
        deployment.service_deployment = record
        record.set_status(sds.ROLLBACK_IN_PROGRESS, at, record_reason)
    return deployment
