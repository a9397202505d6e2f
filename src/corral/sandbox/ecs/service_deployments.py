"""Service revisions and service deployments: the history API of ECS (2024-11 onwards).

Each CreateService / UpdateService that starts a deployment makes a service revision (what the
service runs: task definition, load balancers, network, ...) and a service deployment (moving the
service from its source revisions to the target revision), as the ECS Developer Guide's "Amazon
ECS service deployments" and the API Reference's ServiceDeployment describe them. The rolling
scheduler and the native strategies (native.py) report to it; this module only keeps the records
and their API shapes.

Statuses: PENDING -> IN_PROGRESS -> SUCCESSFUL, or -> ROLLBACK_REQUESTED -> ROLLBACK_IN_PROGRESS
-> ROLLBACK_SUCCESSFUL / ROLLBACK_FAILED, or STOPPED (replaced by a newer deployment, or the
circuit breaker failed it without rollback).
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.clock import to_datetime
from . import ids

if TYPE_CHECKING:
    from .deployments import Deployment
    from .hooks import HookRun
    from .native import NativeRun
    from .services import Service

PENDING = "PENDING"
IN_PROGRESS = "IN_PROGRESS"
SUCCESSFUL = "SUCCESSFUL"
STOPPED = "STOPPED"
STOP_REQUESTED = "STOP_REQUESTED"
ROLLBACK_REQUESTED = "ROLLBACK_REQUESTED"
ROLLBACK_IN_PROGRESS = "ROLLBACK_IN_PROGRESS"
ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
ROLLBACK_FAILED = "ROLLBACK_FAILED"
RUNNING_STATUSES = (PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED, ROLLBACK_IN_PROGRESS)

# lifecycleStage, in ECS's order (ServiceDeployment.lifecycleStage in the API Reference)
RECONCILE_SERVICE = "RECONCILE_SERVICE"
PRE_SCALE_UP = "PRE_SCALE_UP"
SCALE_UP = "SCALE_UP"
POST_SCALE_UP = "POST_SCALE_UP"
TEST_TRAFFIC_SHIFT = "TEST_TRAFFIC_SHIFT"
POST_TEST_TRAFFIC_SHIFT = "POST_TEST_TRAFFIC_SHIFT"
PRODUCTION_TRAFFIC_SHIFT = "PRODUCTION_TRAFFIC_SHIFT"
POST_PRODUCTION_TRAFFIC_SHIFT = "POST_PRODUCTION_TRAFFIC_SHIFT"
BAKE_TIME = "BAKE_TIME"
CLEAN_UP = "CLEAN_UP"

ALARM_CHECK_SECONDS = 60.0
SUPERSEDED = "ECS stopped the service deployment because a newer service deployment started."
ROLLBACK_BY_USER = "Service deployment rolled back because of a StopServiceDeployment request."


@dataclass(eq=False)
class ServiceRevision:
    arn: str
    service: Service = field(repr=False)
    created_at: float
    task_definition: str
    launch_type: str | None
    capacity_provider_strategy: list[dict[str, Any]] | None
    platform_version: str | None
    load_balancers: list[dict[str, Any]]
    service_registries: list[dict[str, Any]]
    network_configuration: dict[str, Any] | None
    container_images: list[dict[str, Any]]
    service_connect: dict[str, Any] | None = None
    vpc_lattice: list[dict[str, Any]] | None = None
    # for BLUE_GREEN/LINEAR/CANARY: the target group each load balancer serves production from
    resolved_load_balancers: list[dict[str, Any]] = field(default_factory=list)

    def counts(self) -> tuple[int, int, int]:
        """(requested, running, pending) over the service's deployments running this revision."""
        mine = [d for d in self.service.deployments if d.revision is self]
        return (
            sum(d.desired_count for d in mine),
            sum(d.running_count() for d in mine),
            sum(d.pending_count() for d in mine),
        )

    def summary(self, *, production: float | None = None, test: float | None = None) -> dict[str, Any]:
        requested, running, pending = self.counts()
        out: dict[str, Any] = {
            "arn": self.arn,
            "requestedTaskCount": requested,
            "runningTaskCount": running,
            "pendingTaskCount": pending,
        }
        if production is not None:
            out["requestedProductionTrafficWeight"] = production
        if test is not None:
            out["requestedTestTrafficWeight"] = test
        return out

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "serviceRevisionArn": self.arn,
            "serviceArn": self.service.arn,
            "clusterArn": self.service.cluster.arn,
            "taskDefinition": self.task_definition,
            "loadBalancers": copy.deepcopy(self.load_balancers),
            "serviceRegistries": copy.deepcopy(self.service_registries),
            "containerImages": copy.deepcopy(self.container_images),
            "guardDutyEnabled": False,
            "createdAt": to_datetime(self.created_at),
        }
        if self.capacity_provider_strategy:
            out["capacityProviderStrategy"] = copy.deepcopy(self.capacity_provider_strategy)
        else:
            out["launchType"] = self.launch_type
        if self.launch_type == "FARGATE":
            out["platformVersion"] = self.platform_version or "LATEST"
            out["platformFamily"] = "Linux"
        if self.network_configuration is not None:
            out["networkConfiguration"] = copy.deepcopy(self.network_configuration)
        if self.service_connect is not None:
            out["serviceConnectConfiguration"] = copy.deepcopy(self.service_connect)
        if self.vpc_lattice:
            out["vpcLatticeConfigurations"] = copy.deepcopy(self.vpc_lattice)
        if self.resolved_load_balancers:
            out["resolvedConfiguration"] = {"loadBalancers": copy.deepcopy(self.resolved_load_balancers)}
        return out


@dataclass(eq=False)
class ServiceDeployment:
    arn: str
    service: Service = field(repr=False)
    created_at: float
    target: ServiceRevision = field(repr=False)
    sources: list[ServiceRevision] = field(repr=False)
    configuration: dict[str, Any]
    deployment: Deployment = field(repr=False)  # the `ecs-svc/...` deployment of the target
    status: str = IN_PROGRESS
    status_reason: str | None = None
    lifecycle_stage: str | None = None
    started_at: float | None = None
    finished_at: float | None = None
    stopped_at: float | None = None
    updated_at: float = 0.0
    rollback: dict[str, Any] | None = None
    rollback_deployment: Deployment | None = field(default=None, repr=False)
    breaker_triggered: bool = False
    triggered_alarms: list[str] = field(default_factory=list)
    early_success_at: float | None = None  # when earlySuccessCriteria's healthy share was first reached
    hooks: list[HookRun] = field(default_factory=list, repr=False)
    run: NativeRun | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.status in RUNNING_STATUSES

    def touch(self, now: float) -> None:
        self.updated_at = max(self.updated_at, now)

    def set_status(self, status: str, now: float, reason: str | None = None) -> None:
        self.status = status
        if reason is not None:
            self.status_reason = reason
        if status in (SUCCESSFUL, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED):
            self.finished_at = now
        if status == STOPPED:
            self.stopped_at = self.finished_at = now
        self.touch(now)

    # ------------------------------------------------------------------ early success (rolling)

    def check_early_success(self, healthy: int, old_tasks_left: bool, now: float) -> None:
        """earlySuccessCriteria (DeploymentEarlySuccessCriteria, ECS API Reference): SUCCESSFUL once
        `healthyPercent` of the desired count is healthy and the bake time has passed; with
        sourceServiceRevisionCleanup BLOCKING only after the previous tasks are gone, with DEFERRED
        at once (they go after). The scheduler goes on to the full count either way."""
        early = self.configuration.get("earlySuccessCriteria") or {}
        if not early.get("enable") or self.status != IN_PROGRESS or self.run is not None:
            return
        desired = self.deployment.desired_count
        if healthy < math.ceil(desired * int(early.get("healthyPercent") or 0) / 100):
            return
        bake = float(self.configuration.get("bakeTimeInMinutes") or 0) * 60
        if self.early_success_at is None:
            self.early_success_at = now
            if bake > 0:
                self.service.backend.world.timers.call_at(now + bake, self.service.request_evaluation)
        if now + 1e-6 < self.early_success_at + bake:
            return
        if early.get("sourceServiceRevisionCleanup") == "BLOCKING" and old_tasks_left:
            return
        self.lifecycle_stage = CLEAN_UP
        self.set_status(SUCCESSFUL, now)

    # ------------------------------------------------------------------ alarms

    def alarms_in_alarm(self) -> list[str]:
        """The deployment's alarms (deploymentConfiguration.alarms, enabled) now in ALARM."""
        config = self.configuration.get("alarms") or {}
        names = list(config.get("alarmNames") or [])
        if not config.get("enable") or not names:
            return []
        try:
            from corral.sandbox import alarms
        except ImportError:  # the CloudWatch alarm lookup is not part of this sandbox build
            return []
        backend = self.service.backend
        states = alarms.alarm_states(backend.world, backend.account_id, backend.region_name, names)
        return [n for n in names if states.get(n) == "ALARM"]

    def watch_alarms(self) -> None:
        """A rolling deployment with alarms: looked at every ALARM_CHECK_SECONDS while it runs
        (CloudWatch pushes nothing to the sandbox's ECS); one in ALARM rolls back when `rollback`."""
        if self.status != IN_PROGRESS or self.run is not None:
            return
        triggered = self.alarms_in_alarm()
        service = self.service
        if not triggered:
            service.backend.world.timers.call_later(ALARM_CHECK_SECONDS, self.watch_alarms)
            return
        self.triggered_alarms = triggered
        self.touch(service.now())
        target = service.last_completed
        rollback = (self.configuration.get("alarms") or {}).get("rollback")
        if not rollback or target is None or target is self.deployment or target.revision is None:
            return
        from .deployments import roll_back_to

        roll_back_to(
            service,
            target,
            reason=f"ECS deployment alarms: rolling back to deploymentId {target.id}.",
            record_reason=alarm_reason(triggered),
            at=service.now(),
        )
        service.request_evaluation()

    # ------------------------------------------------------------------ API shapes

    def _breaker(self) -> dict[str, Any]:
        from .deployments import failure_threshold

        config = self.configuration.get("deploymentCircuitBreaker") or {}
        if not config.get("enable"):
            return {"status": "DISABLED", "failureCount": 0, "threshold": 0}
        if self.breaker_triggered:
            status = "TRIGGERED"
        else:
            status = "MONITORING" if self.running else "MONITORING_COMPLETE"
        return {
            "status": status,
            "failureCount": self.deployment.failed_tasks,
            "threshold": failure_threshold(
                self.deployment.desired_count, config.get("thresholdConfiguration")
            ),
        }

    def _alarms(self) -> dict[str, Any]:
        config = self.configuration.get("alarms") or {}
        if not config.get("enable"):
            return {"status": "DISABLED", "alarmNames": [], "triggeredAlarmNames": []}
        if self.triggered_alarms:
            status = "TRIGGERED"
        else:
            status = "MONITORING" if self.running else "MONITORING_COMPLETE"
        return {
            "status": status,
            "alarmNames": list(config.get("alarmNames") or []),
            "triggeredAlarmNames": list(self.triggered_alarms),
        }

    def to_api(self) -> dict[str, Any]:
        weights = self.run.weights() if self.run is not None else None
        target_weights: dict[str, Any] = {}
        if weights is not None:
            target_weights = {"production": weights[0], "test": weights[1]}
        out: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service.arn,
            "clusterArn": self.service.cluster.arn,
            "createdAt": to_datetime(self.created_at),
            "updatedAt": to_datetime(self.updated_at or self.created_at),
            "sourceServiceRevisions": [
                s.summary(
                    production=None if weights is None else 100.0 - weights[0],
                    test=None if weights is None else 100.0 - weights[1],
                )
                for s in self.sources
            ],
            "targetServiceRevision": self.target.summary(**target_weights),
            "status": self.status,
            "deploymentConfiguration": copy.deepcopy(self.configuration),
            "deploymentCircuitBreaker": self._breaker(),
            "alarms": self._alarms(),
        }
        for key, value in (
            ("startedAt", self.started_at),
            ("finishedAt", self.finished_at),
            ("stoppedAt", self.stopped_at),
        ):
            if value is not None:
                out[key] = to_datetime(value)
        if self.status_reason:
            out["statusReason"] = self.status_reason
        if self.lifecycle_stage:
            out["lifecycleStage"] = self.lifecycle_stage
        if self.rollback is not None:
            out["rollback"] = {
                "reason": self.rollback["reason"],
                "startedAt": to_datetime(self.rollback["startedAt"]),
                "serviceRevisionArn": self.rollback["serviceRevisionArn"],
            }
        if self.hooks:
            out["lifecycleHookDetails"] = [h.to_api() for h in self.hooks]
        return out

    def brief(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "serviceDeploymentArn": self.arn,
            "serviceArn": self.service.arn,
            "clusterArn": self.service.cluster.arn,
            "createdAt": to_datetime(self.created_at),
            "targetServiceRevisionArn": self.target.arn,
            "status": self.status,
        }
        if self.started_at is not None:
            out["startedAt"] = to_datetime(self.started_at)
        if self.finished_at is not None:
            out["finishedAt"] = to_datetime(self.finished_at)
        if self.status_reason:
            out["statusReason"] = self.status_reason
        return out


# ---------------------------------------------------------------------- making them


def new_revision(service: Service, deployment: Deployment) -> ServiceRevision:
    backend = service.backend
    number = backend.next_counter("service-revision") + 1
    arn = backend.arn("ecs", f"service-revision/{service.cluster.name}/{service.name}/{number:020d}")
    definition = deployment.task_definition
    revision = ServiceRevision(
        arn=arn,
        service=service,
        created_at=deployment.created_at,
        task_definition=definition.arn,
        launch_type=deployment.launch_type if not deployment.capacity_provider_strategy else None,
        capacity_provider_strategy=copy.deepcopy(deployment.capacity_provider_strategy),
        platform_version=deployment.platform_version,
        load_balancers=[lb.to_api() for lb in service.load_balancers],
        service_registries=[r.to_api() for r in deployment.registries],
        network_configuration=copy.deepcopy(deployment.network_configuration),
        container_images=[{"containerName": c.name, "image": c.image} for c in definition.containers],
        service_connect=copy.deepcopy(deployment.service_connect),
        vpc_lattice=copy.deepcopy(deployment.vpc_lattice),
    )
    if deployment.launch_type == "FARGATE" and not revision.platform_version:
        revision.platform_version = "LATEST"
    backend.service_revisions[arn] = revision
    return revision


def start(service: Service, deployment: Deployment) -> ServiceDeployment:
    """A new service deployment to `deployment`'s (new) revision; the one in progress is STOPPED."""
    backend = service.backend
    now = deployment.created_at
    for older in service.service_deployments:
        if older.running:
            if older.run is not None:
                older.run.abandon()
            older.set_status(STOPPED, now, SUPERSEDED)
    sources: list[ServiceRevision] = []
    for other in service.deployments:
        revision = other.revision
        if (
            other is not deployment
            and revision is not None
            and other.live_tasks()
            and revision not in sources
        ):
            sources.append(revision)
    arn = backend.arn(
        "ecs", f"service-deployment/{service.cluster.name}/{service.name}/{ids.service_deployment_id()}"
    )
    record = ServiceDeployment(
        arn=arn,
        service=service,
        created_at=now,
        target=deployment.revision,  # type: ignore[arg-type]
        sources=sources,
        configuration=service.deployment_configuration.to_api(),
        deployment=deployment,
        started_at=now,
        updated_at=now,
        lifecycle_stage=SCALE_UP,
    )
    deployment.service_deployment = record
    service.service_deployments.insert(0, record)
    backend.service_deployments[arn] = record
    if (record.configuration.get("alarms") or {}).get("enable"):
        backend.world.timers.call_later(ALARM_CHECK_SECONDS, record.watch_alarms)
    return record


def alarm_reason(names: list[str]) -> str:
    return f"CloudWatch alarm(s) in ALARM state: {', '.join(names)}."


def current_revisions(service: Service) -> list[dict[str, Any]]:
    """`currentServiceRevisions` of DescribeServices: the revisions that have tasks (or want them)."""
    seen: list[ServiceRevision] = []
    for deployment in service.deployments:
        if deployment.revision is not None and deployment.revision not in seen:
            seen.append(deployment.revision)
    return [r.summary() for r in seen]
