"""Services: their settings, deployments and events, and what they do when a task reports.

The rolling logic itself is in scheduler.py; a service asks for it (`request_evaluation`)
whenever one of its tasks changes state or the service is updated, never on a poll.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.clock import to_datetime
from . import deployments, events, events_bridge
from .events import ServiceEvents
from .task_parts import HealthFailure, LoadBalancer, ServiceRegistry
from .tasks import (
    ESSENTIAL_CONTAINER_EXITED,
    ESSENTIAL_EXITED_REASON,
    SERVICE_SCHEDULER_INITIATED,
    Task,
)

if TYPE_CHECKING:
    from .backend import Backend
    from .clusters import Cluster
    from .deployments import Deployment
    from .service_deployments import ServiceDeployment
    from .task_definitions import TaskDefinition

ACTIVE = "ACTIVE"
DRAINING = "DRAINING"
INACTIVE = "INACTIVE"
REPLICA = "REPLICA"
DAEMON = "DAEMON"
ROLLING = "ROLLING"
BACKOFF_AFTER = 3  # consecutive tasks failing to start before ECS slows down
BACKOFF_FIRST = 10.0
BACKOFF_MAX = 900.0


@dataclass
class DeploymentConfiguration:
    minimum_healthy_percent: int
    maximum_percent: int
    circuit_breaker_enable: bool = False
    circuit_breaker_rollback: bool = False
    alarms: dict[str, Any] | None = None
    strategy: str | None = None  # as requested; left out it is ROLLING
    bake_time_minutes: int | None = None
    lifecycle_hooks: list[dict[str, Any]] | None = None
    linear: dict[str, Any] | None = None
    canary: dict[str, Any] | None = None
    breaker_threshold: dict[str, Any] | None = None  # thresholdConfiguration {type, value}
    reset_on_healthy_task: bool | None = None  # None: ECS's default, true
    early_success: dict[str, Any] | None = None  # earlySuccessCriteria (ROLLING only)

    @property
    def native(self) -> bool:
        """A strategy that shifts traffic between a blue and a green revision (not ROLLING)."""
        return self.strategy not in (None, ROLLING)

    @classmethod
    def from_request(
        cls, raw: dict[str, Any] | None, *, daemon: bool, previous: DeploymentConfiguration | None = None
    ) -> DeploymentConfiguration:
        raw = raw or {}
        defaults = cls(0, 100) if daemon else cls(100, 200)
        base = previous if previous is not None else defaults
        breaker = raw.get("deploymentCircuitBreaker")
        return cls(
            minimum_healthy_percent=int(raw.get("minimumHealthyPercent", base.minimum_healthy_percent)),
            maximum_percent=int(raw.get("maximumPercent", base.maximum_percent)),
            circuit_breaker_enable=bool(breaker["enable"]) if breaker else base.circuit_breaker_enable,
            circuit_breaker_rollback=bool(breaker["rollback"]) if breaker else base.circuit_breaker_rollback,
            alarms=raw.get("alarms", base.alarms),
            strategy=raw.get("strategy", base.strategy),
            bake_time_minutes=raw.get("bakeTimeInMinutes", base.bake_time_minutes),
            lifecycle_hooks=copy.deepcopy(raw.get("lifecycleHooks", base.lifecycle_hooks)),
            linear=copy.deepcopy(raw.get("linearConfiguration", base.linear)),
            canary=copy.deepcopy(raw.get("canaryConfiguration", base.canary)),
            breaker_threshold=copy.deepcopy(breaker.get("thresholdConfiguration"))
            if breaker
            else base.breaker_threshold,
            reset_on_healthy_task=breaker.get("resetOnHealthyTask")
            if breaker
            else base.reset_on_healthy_task,
            early_success=copy.deepcopy(raw.get("earlySuccessCriteria", base.early_success)),
        )

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "deploymentCircuitBreaker": {
                "enable": self.circuit_breaker_enable,
                "rollback": self.circuit_breaker_rollback,
            },
            "maximumPercent": self.maximum_percent,
            "minimumHealthyPercent": self.minimum_healthy_percent,
        }
        if self.breaker_threshold is not None:
            out["deploymentCircuitBreaker"]["thresholdConfiguration"] = copy.deepcopy(self.breaker_threshold)
        if self.reset_on_healthy_task is not None:
            out["deploymentCircuitBreaker"]["resetOnHealthyTask"] = self.reset_on_healthy_task
        if self.alarms is not None:
            out["alarms"] = self.alarms
        if self.strategy is not None:
            out["strategy"] = self.strategy
        if self.bake_time_minutes is not None:
            out["bakeTimeInMinutes"] = self.bake_time_minutes
        if self.lifecycle_hooks:
            out["lifecycleHooks"] = copy.deepcopy(self.lifecycle_hooks)
        if self.early_success is not None:
            out["earlySuccessCriteria"] = copy.deepcopy(self.early_success)
        if self.linear is not None:
            out["linearConfiguration"] = copy.deepcopy(self.linear)
        if self.canary is not None:
            out["canaryConfiguration"] = copy.deepcopy(self.canary)
        return out


@dataclass(eq=False)
class Service:
    backend: Backend = field(repr=False)
    cluster: Cluster = field(repr=False)
    name: str
    arn: str
    created_at: float
    created_by: str
    scheduling_strategy: str
    launch_type: str | None  # as requested (None with a capacity provider strategy)
    capacity_provider_strategy: list[dict[str, Any]] | None
    task_launch_type: str  # what the tasks run on
    platform_version: str | None
    desired_count: int
    task_definition: TaskDefinition = field(repr=False)
    deployment_configuration: DeploymentConfiguration
    load_balancers: list[LoadBalancer] = field(default_factory=list)
    registries: list[ServiceRegistry] = field(default_factory=list)
    network_configuration: dict[str, Any] | None = None
    placement_constraints: list[dict[str, Any]] = field(default_factory=list)
    placement_strategy: list[dict[str, Any]] = field(default_factory=list)
    health_check_grace_period: int | None = None
    role_arn: str | None = None
    enable_ecs_managed_tags: bool = False
    propagate_tags: str = "NONE"
    enable_execute_command: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    # recorded as requested; AWS reports them on the service's deployments, not on the service
    service_connect: dict[str, Any] | None = None
    vpc_lattice: list[dict[str, Any]] | None = None
    status: str = ACTIVE
    deployments: list[Deployment] = field(default_factory=list)  # PRIMARY first
    events: ServiceEvents = field(default_factory=ServiceEvents, repr=False)
    steady: bool = False
    steady_at: list[float] = field(default_factory=list)
    last_completed: Deployment | None = field(default=None, repr=False)
    start_failures: int = 0
    backoff_until: float = 0.0
    wakeup_at: float = 0.0  # the evaluation already scheduled for the end of a back-off
    replaced_unhealthy: int = 0
    evaluation_pending: bool = False
    service_deployments: list[ServiceDeployment] = field(default_factory=list, repr=False)  # newest first
    # BLUE_GREEN / LINEAR / CANARY: the target group serving production, per load balancer
    # (keyed by the service's targetGroupArn); the other one of the pair takes the next green
    production_groups: dict[str, str] = field(default_factory=dict)

    # ------------------------------------------------------------------ queries

    @property
    def primary(self) -> Deployment:
        return self.deployments[0]

    @property
    def is_daemon(self) -> bool:
        return self.scheduling_strategy == DAEMON

    def all_tasks(self) -> list[Task]:
        return [t for d in self.deployments for t in d.tasks]

    def running_count(self) -> int:
        return sum(d.running_count() for d in self.deployments)

    def pending_count(self) -> int:
        return sum(d.pending_count() for d in self.deployments)

    @property
    def native_run(self) -> Any:
        """The BLUE_GREEN / LINEAR / CANARY deployment now moving traffic, if any."""
        for record in self.service_deployments[:1]:
            if record.run is not None and not record.run.finished:
                return record.run
        return None

    def deployment_in_progress(self) -> bool:
        return len(self.deployments) > 1 or (
            bool(self.deployments) and self.primary.rollout_state == deployments.IN_PROGRESS
        )

    # ------------------------------------------------------------------ events and evaluation

    def now(self) -> float:
        """The scheduler's time. Inside a timer, the moment it was due: a late wake-up on a busy
        machine must not stretch a back-off or shift events. Never before the newest deployment
        began: what happens after it is news of it (tools skip older events)."""
        due = self.backend.world.timers.due_time()
        return max(due, self.primary.created_at) if self.deployments else due

    def add_event(self, message: str, *, repeat: bool = True, at: float | None = None) -> bool:
        """Record a service event; False when it was not repeated (see ServiceEvents.add)."""
        return self.events.add(self.now() if at is None else at, message, repeat=repeat) is not None

    def request_evaluation(self) -> None:
        if not self.evaluation_pending:
            self.evaluation_pending = True
            self.backend.world.timers.call_at(self.now(), self.evaluate)

    def evaluate(self) -> None:
        from . import scheduler

        self.evaluation_pending = False
        scheduler.reconcile(self)

    def stop_tasks(
        self, tasks: list[Task], code: str, reason: str, *, announce: bool, drain: bool = True
    ) -> None:
        """Stop tasks with the events ECS gives: stopped, deregistered targets, draining."""
        if announce and tasks:
            self.add_event(events.stopped(self.name, [t.id for t in tasks]))
        per_group: dict[str, int] = {}
        per_deployment: dict[str, int] = {}
        for task in tasks:
            groups = task.request_stop(code, reason, drain=drain)
            for arn in groups:
                per_group[arn] = per_group.get(arn, 0) + 1
            if groups and task.deployment is not None:
                per_deployment[task.deployment.id] = per_deployment.get(task.deployment.id, 0) + 1
        for arn, count in per_group.items():
            self.add_event(events.deregistered_targets(self.name, count, arn))
        if drain:
            for deployment_id, count in per_deployment.items():
                self.add_event(events.draining(self.name, deployment_id, count))

    # ------------------------------------------------------------------ what tasks report (TaskOwner)

    def task_registered(self, task: Task, target_group_arns: list[str]) -> None:
        for arn in target_group_arns:
            self.add_event(events.registered_targets(self.name, 1, arn))

    def task_running(self, task: Task) -> None:
        self._register_in_cloud_map(task)
        self._touch(task)
        self.request_evaluation()

    def task_health_changed(self, task: Task) -> None:
        if task.counts_healthy(self.now()):
            self.start_failures = 0
            if (
                task.deployment is not None
                and self.deployment_configuration.reset_on_healthy_task is not False
            ):
                deployments.record_healthy_task(task.deployment)
        self._touch(task)
        self.request_evaluation()

    def task_unhealthy(self, task: Task, failure: HealthFailure) -> None:
        now = self.now()
        grace_end = (task.started_at or now) + (self.health_check_grace_period or 0)
        if now < grace_end:
            task.schedule_at(grace_end, task.recheck_health)
            return
        if failure.target is not None:
            target = failure.target
            detail = target.description or target.reason or "Health checks failed"
            self.add_event(
                events.unhealthy_target(self.name, task.id, target.port, target.target_group_arn, detail)
            )
            reason = f"Task failed ELB health checks in (target-group {target.target_group_arn})"
        else:
            self.add_event(events.failed_container_health(self.name, task.id))
            reason = "Task failed container health checks"
        self.stop_tasks([task], SERVICE_SCHEDULER_INITIATED, reason, announce=False)
        self.replaced_unhealthy += 1
        self._task_failed(task)

    def task_failed_to_start(self, task: Task, reason: str) -> None:
        self.add_event(events.unable_to_place(self.name, reason), repeat=False)
        self._start_failed()
        self._task_failed(task)

    def task_exited(self, task: Task) -> None:
        self.stop_tasks(
            [task], ESSENTIAL_CONTAINER_EXITED, ESSENTIAL_EXITED_REASON, announce=False, drain=False
        )
        # a task that reached RUNNING does not start the throttle logic, even if its container exited
        # at once ("Amazon ECS service throttle logic", ECS Developer Guide)
        self._task_failed(task)

    def task_stopped(self, task: Task) -> None:
        self._touch(task)
        self.request_evaluation()

    def _task_failed(self, task: Task) -> None:
        self.steady = False
        if task.deployment is not None:
            deployments.record_failed_task(self, task.deployment)
        self.request_evaluation()

    def _start_failed(self) -> None:
        """Tasks that keep failing to start (PENDING straight to STOPPED) are retried with a growing
        back-off, up to 15 minutes apart ("Amazon ECS service throttle logic")."""
        self.start_failures += 1
        if self.start_failures >= BACKOFF_AFTER:
            delay = min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** (self.start_failures - BACKOFF_AFTER))
            self.backoff_until = self.now() + delay
            if self.add_event(events.unable_to_start_consistently(self.name), repeat=False):
                events_bridge.service_action(
                    self, events_bridge.TASK_START_IMPAIRED, events_bridge.WARN, self.now()
                )

    def _touch(self, task: Task) -> None:
        if task.deployment is not None:
            task.deployment.updated_at = self.now()

    def _register_in_cloud_map(self, task: Task) -> None:
        if not task.registries:
            return
        directory = self.backend.region.servicediscovery
        for registry in task.registries:
            port = registry.port or registry.container_port
            container = next((c for c in task.containers if c.name == registry.container_name), None)
            if container is not None and registry.container_port is not None and task.network is None:
                port = container.host_ports.get(registry.container_port, port)
            attributes = {
                "AWS_INSTANCE_IPV4": task.private_ip() or "10.0.0.10",
                "AVAILABILITY_ZONE": task.availability_zone,
                "ECS_CLUSTER_NAME": self.cluster.name,
                "ECS_SERVICE_NAME": self.name,
                "ECS_TASK_DEFINITION_FAMILY": task.definition.family,
                "AWS_INIT_HEALTH_STATUS": "HEALTHY",
            }
            if port is not None:
                attributes["AWS_INSTANCE_PORT"] = str(port)
            directory.register_instance(registry.registry_arn, task.id, attributes)
            task.registered_in.append(registry.registry_arn)

    # ------------------------------------------------------------------ contract for the admin API

    def steady_state_record(self, region: str) -> dict[str, Any]:
        return {
            "cluster": self.cluster.name,
            "service": self.name,
            "serviceArn": self.arn,
            "region": region,
            "steadyAt": list(self.steady_at),
        }

    def event_dicts(self, limit: int = 100) -> list[dict[str, Any]]:
        return [
            {"id": e.id, "createdAt": to_datetime(e.created_at), "message": e.message}
            for e in self.events.newest_first()[:limit]
        ]
