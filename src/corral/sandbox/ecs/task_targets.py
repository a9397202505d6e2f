"""The load balancer and Cloud Map side of a task (a part of `Task`, kept apart for size).

ECS registers a task's targets while it is ACTIVATING and deregisters them when it stops;
the ELBv2 emulation asks `elb_probe()` at each health check and reports state changes to
`on_target_health()`. Cloud Map registration happens at RUNNING (by the service, which
knows the names) and is undone here when the task stops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from .task_parts import HealthFailure, TaskTarget

if TYPE_CHECKING:
    from .backend import Backend
    from .clusters import ContainerInstance
    from .task_parts import Container, LoadBalancer, NetworkAttachment
    from .tasks import Task, TaskOwner

ACTIVATING = "ACTIVATING"
RUNNING = "RUNNING"


class TaskTargets:
    """Mixed into `Task`, which holds these attributes."""

    id: str
    backend: Backend
    container_instance: ContainerInstance | None
    owner: TaskOwner | None
    targets: list[TaskTarget]
    load_balancers: list[LoadBalancer]
    containers: list[Container]
    network: NetworkAttachment | None
    registered_in: list[str]
    last_status: str
    desired_status: str
    started_at: float | None
    execution_stopped_at: float | None
    version: int

    def _schedule(self, delay: float, fn: Any, *args: Any) -> None:
        raise NotImplementedError  # Task's

    def _register_targets(self) -> list[str]:
        elbv2 = self.backend.region.elbv2
        for lb in self.load_balancers:
            container = next(c for c in self.containers if c.name == lb.container_name)
            if self.network is not None:
                target_id, port = self.network.private_ip, lb.container_port
            else:
                assert self.container_instance is not None
                target_id = self.container_instance.ec2_instance_id
                port = container.host_ports.get(lb.container_port, lb.container_port)
            target = TaskTarget(lb.target_group_arn, target_id, port, lb.container_name, state="initial")
            self.targets.append(target)
            elbv2.register_service_target(lb.target_group_arn, target_id, port, self)
        return [t.target_group_arn for t in self.targets]

    def elb_probe(self) -> tuple[bool, int]:
        """One load balancer health check against this task: (ok, HTTP status)."""
        if self.last_status not in (ACTIVATING, RUNNING) or self.execution_stopped_at is not None:
            return False, 502
        behind = {lb.container_name for lb in self.load_balancers}
        images = [c.image for c in self.containers if c.name in behind]
        failing = next((i for i in images if i.elb_health != "pass"), None)
        if failing is not None:
            return False, failing.elb_status_code
        late = max((i.healthy_after for i in images), default=0.0)
        probed_at = self.backend.world.timers.due_time()  # the probe's moment, as started_at is
        if late > 0 and (self.started_at is None or probed_at < self.started_at + late - 1e-6):
            return False, images[0].elb_status_code
        return True, 200

    def on_target_health(
        self, target_group_arn: str, state: str, reason: str | None, description: str | None
    ) -> None:
        target = next((t for t in self.targets if t.target_group_arn == target_group_arn), None)
        if target is None:
            return
        target.state, target.reason, target.description = state, reason, description
        self.version += 1
        if state in ("healthy", "unhealthy"):
            # react after the load balancer's own bookkeeping is done
            self._schedule(0.0, self._target_health_changed, target_group_arn, state)

    def _target_health_changed(self, target_group_arn: str, state: str) -> None:
        if self.owner is None or self.last_status != RUNNING or self.desired_status != RUNNING:
            return
        target = next(t for t in self.targets if t.target_group_arn == target_group_arn)
        if target.state != state:
            return
        task = cast("Task", self)
        if state == "unhealthy":
            self.owner.task_unhealthy(task, HealthFailure(target))
        else:
            self.owner.task_health_changed(task)

    def _probes_changed(self) -> None:
        elbv2 = self.backend.region.elbv2
        for target in self.targets:
            if target.state != "draining":
                elbv2.probe_changed(target.target_group_arn, target.target_id, target.port)

    def _deregister_targets(self) -> tuple[list[str], float]:
        elbv2 = self.backend.region.elbv2
        names: list[str] = []
        delay = 0.0
        for target in self.targets:
            if target.state == "draining":
                continue
            delay = max(
                delay, elbv2.deregister_service_target(target.target_group_arn, target.target_id, target.port)
            )
            target.state = "draining"
            names.append(target.target_group_arn)
        return names, delay

    def _deregister_from_cloud_map(self) -> None:
        for registry_arn in self.registered_in:
            self.backend.region.servicediscovery.deregister_instance(registry_arn, self.id)
        self.registered_in = []
