"""Tasks and their lifecycle on sandbox time.

PROVISIONING (awsvpc: the ENI) -> PENDING (image pull) -> ACTIVATING (load balancer targets
registered) -> RUNNING (Cloud Map registration, health checks, exits) -> DEACTIVATING
(targets deregistered, connections draining) -> STOPPING (SIGTERM) -> DEPROVISIONING (awsvpc)
-> STOPPED. Each step is a timer at the moment it happens; what the containers do comes from
the image behaviours. A task that belongs to a service reports to it (its `owner`), which
decides what a failure means; a standalone task just records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ..core.timers import Timer
from . import events_bridge, health
from .task_parts import Container, HealthFailure, LoadBalancer, NetworkAttachment, ServiceRegistry, TaskTarget
from .task_targets import TaskTargets

if TYPE_CHECKING:
    from .backend import Backend
    from .clusters import Cluster, ContainerInstance
    from .deployments import Deployment
    from .task_definitions import TaskDefinition

PROVISIONING = "PROVISIONING"
PENDING = "PENDING"
ACTIVATING = "ACTIVATING"
RUNNING = "RUNNING"
DEACTIVATING = "DEACTIVATING"
STOPPING = "STOPPING"
DEPROVISIONING = "DEPROVISIONING"
STOPPED = "STOPPED"
STARTING = (PROVISIONING, PENDING, ACTIVATING)

PROVISION_SECONDS = 1.0  # attaching the ENI
ACTIVATING_SECONDS = 0.5  # part of the image's start delay spent registering targets
SIGTERM_EXIT_SECONDS = 1.0  # a well-behaved container exits this long after SIGTERM
DEPROVISION_SECONDS = 1.0  # detaching the ENI
SETTLE_SECONDS = 40.0  # no load balancer, no health check: healthy this long after RUNNING
KEEP_STOPPED_SECONDS = 3600.0  # stopped tasks stay visible at least an hour
CRASH_EXIT_CODE = 139
SIGKILL_EXIT_CODE = 137

TASK_FAILED_TO_START = "TaskFailedToStart"
ESSENTIAL_CONTAINER_EXITED = "EssentialContainerExited"
USER_INITIATED = "UserInitiated"
SERVICE_SCHEDULER_INITIATED = "ServiceSchedulerInitiated"
ESSENTIAL_EXITED_REASON = "Essential container in task exited"


class TaskOwner(Protocol):
    """What a service hears from its tasks (tasks.py calls these; services.py answers)."""

    def task_registered(self, task: Task, target_group_arns: list[str]) -> None: ...
    def task_running(self, task: Task) -> None: ...
    def task_health_changed(self, task: Task) -> None: ...
    def task_unhealthy(self, task: Task, failure: HealthFailure) -> None: ...
    def task_failed_to_start(self, task: Task, reason: str) -> None: ...
    def task_exited(self, task: Task) -> None: ...
    def task_stopped(self, task: Task) -> None: ...
    def now(self) -> float: ...
    def stop_tasks(  # StopTask on a service's task: the service stops it (backend.py)
        self, tasks: list[Task], code: str, reason: str, *, announce: bool, drain: bool = True
    ) -> None: ...


@dataclass(eq=False)
class Task(TaskTargets):
    backend: Backend = field(repr=False)
    cluster: Cluster = field(repr=False)
    id: str
    arn: str
    definition: TaskDefinition = field(repr=False)
    launch_type: str
    group: str
    created_at: float
    containers: list[Container]
    last_status: str
    started_by: str | None = None
    capacity_provider: str | None = None
    platform_version: str | None = None
    cpu: str | None = None
    memory: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    network: NetworkAttachment | None = None
    container_instance: ContainerInstance | None = field(default=None, repr=False)
    availability_zone: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    enable_execute_command: bool = False
    owner: TaskOwner | None = field(default=None, repr=False)
    deployment: Deployment | None = field(default=None, repr=False)
    load_balancers: list[LoadBalancer] = field(default_factory=list)
    registries: list[ServiceRegistry] = field(default_factory=list)
    desired_status: str = RUNNING
    pull_started_at: float | None = None
    pull_stopped_at: float | None = None
    connectivity_at: float | None = None
    started_at: float | None = None
    stopping_at: float | None = None
    execution_stopped_at: float | None = None
    stopped_at: float | None = None
    stop_code: str | None = None
    stopped_reason: str | None = None
    version: int = 1
    targets: list[TaskTarget] = field(default_factory=list)
    registered_in: list[str] = field(default_factory=list)  # Cloud Map service ARNs
    # the (lastStatus, desiredStatus) last sent to EventBridge (events_bridge)
    announced: tuple[str, str] | None = field(default=None, repr=False)
    _timers: list[Timer] = field(default_factory=list, repr=False)

    # ------------------------------------------------------------------ queries

    @property
    def health_status(self) -> str:
        return health.task_health([(c.definition.essential, c.health_status) for c in self.containers])

    @property
    def is_live(self) -> bool:
        """Counted by the scheduler: not (being) stopped."""
        return self.desired_status == RUNNING

    def counts_healthy(self, now: float) -> bool:
        """Healthy toward a deployment's lower bound, by the reference's three rules."""
        if self.last_status != RUNNING or self.desired_status != RUNNING or self.started_at is None:
            return False
        checked = [c for c in self.containers if c.definition.essential and c.definition.health_check]
        if any(c.health_status != health.HEALTHY for c in checked):
            return False
        if self.targets:
            return all(t.state == "healthy" for t in self.targets)
        return bool(checked) or now >= self.started_at + SETTLE_SECONDS - 1e-6

    def health_failure(self) -> HealthFailure | None:
        for container in self.containers:
            if container.definition.essential and container.health_status == health.UNHEALTHY:
                return HealthFailure()
        for target in self.targets:
            if target.state == "unhealthy":
                return HealthFailure(target)
        return None

    def private_ip(self) -> str | None:
        return self.network.private_ip if self.network else None

    # ------------------------------------------------------------------ start

    def start(self) -> None:
        if self.last_status == PROVISIONING:
            jitter = self.backend.world.jitter
            self._schedule(jitter.provision() if jitter else PROVISION_SECONDS, self._provisioned)
        else:
            self._provisioned()

    def _provisioned(self) -> None:
        if self.desired_status != RUNNING:
            return
        self._set_status(PENDING)
        now = self.now()
        if self.network is not None:
            self.network.status = "ATTACHED"
        self.connectivity_at = now
        self.pull_started_at = now
        events_bridge.task_state_change(self)
        delay = max(c.image.start_delay for c in self.containers)
        jitter = self.backend.world.jitter
        if jitter is not None:
            delay = jitter.pull(delay)
        failure = next((c.image.pull_failure for c in self.containers if c.image.pull_failure), None)
        if failure is not None:
            self._schedule(delay, self._pull_failed, failure)
        else:
            self._schedule(max(0.0, delay - ACTIVATING_SECONDS), self._pulled, min(ACTIVATING_SECONDS, delay))

    def _pull_failed(self, failure: str) -> None:
        if self.last_status != PENDING or self.desired_status != RUNNING:
            return
        text = (
            failure
            if failure.startswith("CannotPullContainerError")
            else f"CannotPullContainerError: {failure}"
        )
        now = self.now()
        self.pull_stopped_at = now
        for container in self.containers:
            container.stopped(None, text)
        self.desired_status = STOPPED
        self.stop_code, self.stopped_reason = TASK_FAILED_TO_START, text
        self.stopping_at = self.execution_stopped_at = now
        self._deprovision()
        if self.owner is not None:
            self.owner.task_failed_to_start(self, text)

    def _pulled(self, activating_seconds: float) -> None:
        if self.last_status != PENDING or self.desired_status != RUNNING:
            return
        self.pull_stopped_at = self.now()
        for container in self.containers:
            container.pulled()
        self._set_status(ACTIVATING)
        events_bridge.task_state_change(self)
        registered = self._register_targets()
        if registered and self.owner is not None:
            self.owner.task_registered(self, registered)
        self._schedule(activating_seconds, self._running)

    def _running(self) -> None:
        if self.last_status != ACTIVATING or self.desired_status != RUNNING:
            return
        now = self.now()
        self._set_status(RUNNING)
        self.started_at = now
        for container in self.containers:
            container.started(self.id)
        events_bridge.task_state_change(self)
        self._start_health_checks(now)
        self._schedule_exits()
        self._probes_changed()
        late = max((c.image.healthy_after for c in self.containers), default=0.0)
        if self.targets and late > 0:
            self._schedule(late, self._probes_changed)
        if not self.targets and not self.definition.has_container_health_check():
            self._schedule(SETTLE_SECONDS, self._settled)
        if self.owner is not None:
            self.owner.task_running(self)
            self.recheck_health()

    def _start_health_checks(self, now: float) -> None:
        for index, container in enumerate(self.containers):
            check = container.definition.health_check
            if check is not None:
                jitter = self.backend.world.jitter
                first = jitter.first_check(check.interval) if jitter else None
                container.health_timeline = health.container_timeline(now, check, container.image, first)
                self._next_health_change(index)

    def _next_health_change(self, index: int) -> None:
        timeline = self.containers[index].health_timeline
        if timeline:
            when, status = timeline.pop(0)
            self._schedule(when - self.now(), self._container_health, index, status)

    def _container_health(self, index: int, status: str) -> None:
        if self.last_status != RUNNING or self.desired_status != RUNNING:
            return
        container = self.containers[index]
        container.health_status = status
        self.version += 1
        self._next_health_change(index)
        if self.owner is None or not container.definition.essential:
            return
        if status == health.UNHEALTHY:
            self.owner.task_unhealthy(self, HealthFailure())
        else:
            self.owner.task_health_changed(self)

    def _schedule_exits(self) -> None:
        for index, container in enumerate(self.containers):
            image = container.image
            exits = []
            if image.exit_after is not None:
                exits.append((image.exit_after, image.exit_code if image.exit_code is not None else 0))
            if image.crash_after is not None:
                exits.append((image.crash_after, CRASH_EXIT_CODE))
            if exits:
                after, code = min(exits)
                self._schedule(after, self._container_exited, index, code)

    def _container_exited(self, index: int, code: int) -> None:
        if self.last_status != RUNNING or self.desired_status != RUNNING:
            return
        container = self.containers[index]
        container.stopped(code)
        self.version += 1
        if not container.definition.essential:
            return
        self.execution_stopped_at = self.now()
        self._probes_changed()
        if self.owner is not None:
            self.owner.task_exited(self)
        else:
            self.request_stop(ESSENTIAL_CONTAINER_EXITED, ESSENTIAL_EXITED_REASON, drain=False)

    def _settled(self) -> None:
        if self.owner is not None and self.last_status == RUNNING and self.desired_status == RUNNING:
            self.owner.task_health_changed(self)

    def recheck_health(self) -> None:
        """Report a health failure again (at RUNNING, or when a grace period ended)."""
        if self.owner is None or self.last_status != RUNNING or self.desired_status != RUNNING:
            return
        failure = self.health_failure()
        if failure is not None:
            self.owner.task_unhealthy(self, failure)

    # ------------------------------------------------------------------ stop

    def request_stop(self, code: str, reason: str, *, drain: bool = True) -> list[str]:
        """Begin stopping; returns the target groups the task was deregistered from."""
        if self.desired_status == STOPPED:
            return []
        now = self.now()
        self.desired_status = STOPPED
        self.stop_code, self.stopped_reason, self.stopping_at = code, reason, now
        self.version += 1
        self._cancel_timers()
        self._deregister_from_cloud_map()
        if self.last_status in (PROVISIONING, PENDING):
            for container in self.containers:
                container.stopped(None)
            self.execution_stopped_at = now
            self._deprovision()
            return []
        deregistered, delay = self._deregister_targets()
        if deregistered:
            self._set_status(DEACTIVATING)
            events_bridge.task_state_change(self)
            self._schedule(delay if drain else 0.0, self._stop_containers)
        else:
            self._stop_containers()
        return deregistered

    def _stop_containers(self) -> None:
        if self.last_status in (STOPPING, DEPROVISIONING, STOPPED):
            return
        self._set_status(STOPPING)
        events_bridge.task_state_change(self)
        running = any(c.last_status == RUNNING for c in self.containers)
        self._schedule(self._sigterm_seconds() if running else 0.0, self._containers_stopped)

    def _sigterm_seconds(self) -> float:
        timeouts = [
            c.definition.stop_timeout for c in self.containers if c.definition.stop_timeout is not None
        ]
        return min([SIGTERM_EXIT_SECONDS, *timeouts])

    def _containers_stopped(self) -> None:
        if self.last_status != STOPPING:
            return
        code = SIGKILL_EXIT_CODE if self._sigterm_seconds() < SIGTERM_EXIT_SECONDS else 0
        for container in self.containers:
            container.stopped(code)
        if self.execution_stopped_at is None:
            self.execution_stopped_at = self.now()
        self._deprovision()

    def _deprovision(self) -> None:
        if self.network is not None:
            self._set_status(DEPROVISIONING)
            self.network.status = "DELETED"
            events_bridge.task_state_change(self)
            self._schedule(DEPROVISION_SECONDS, self._stopped)
        else:
            self._stopped()

    def _stopped(self) -> None:
        if self.last_status == STOPPED:
            return
        self._set_status(STOPPED)
        self.stopped_at = self.now()
        events_bridge.task_state_change(self)
        self._schedule(KEEP_STOPPED_SECONDS, self._forget)
        if self.owner is not None:
            self.owner.task_stopped(self)

    def _forget(self) -> None:
        self.cluster.tasks.pop(self.id, None)
        if self.deployment is not None and self in self.deployment.tasks:
            self.deployment.tasks.remove(self)

    # ------------------------------------------------------------------ helpers

    def now(self) -> float:
        """Inside a timer, the moment it was due: a late wake-up on a busy machine must not shift
        the task's timestamps or the steps that follow. A service's task keeps its service's time."""
        return self.owner.now() if self.owner is not None else self.backend.world.timers.due_time()

    def _set_status(self, status: str) -> None:
        self.last_status = status
        self.version += 1

    def _schedule(self, delay: float, fn: Any, *args: Any) -> None:
        timers = self.backend.world.timers
        horizon = self.backend.world.clock.now() - 1.0  # real now: which timers are spent
        self._timers = [t for t in self._timers if not t.cancelled and t.when > horizon]
        self._timers.append(timers.call_at(self.now() + max(0.0, delay), fn, *args))

    def schedule_at(self, when: float, fn: Any, *args: Any) -> None:
        self._schedule(when - self.now(), fn, *args)

    def _cancel_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers = []
