"""The service scheduler: keep each service at its desired count, roll deployments within bounds.

Called through `Service.request_evaluation()` whenever something changed (a task started,
became healthy, failed or stopped; the service was created, updated, scaled or deleted),
never on a poll. One evaluation, in the order the reference describes:

1. forget replaced deployments whose last task has stopped;
2. start new tasks of the PRIMARY deployment up to the upper bound (maximumPercent);
3. stop old tasks down to the lower bound (minimumHealthyPercent, counting healthy tasks);
4. if neither was possible, say so; if everything is done, complete the deployment and
   report the steady state.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import events, events_bridge, launch
from . import service_deployments as sds
from .deployments import FAILED, IN_PROGRESS
from .services import DRAINING, INACTIVE, Service
from .tasks import SERVICE_SCHEDULER_INITIATED, STOPPED, Task

if TYPE_CHECKING:
    from .clusters import ContainerInstance
    from .deployments import Deployment

STEADY_EVENT_OFFSET = 0.001  # "deployment completed" and "steady state" come about 1 ms apart


def reconcile(service: Service) -> None:
    if service.status == INACTIVE or not service.deployments:
        return
    if service.status == DRAINING:
        _drain(service)
        return
    _forget_finished_deployments(service)
    run = service.native_run
    if run is not None:
        run.reconcile()
        if service.native_run is not None:
            service.steady = False
            return
    if service.is_daemon:
        _reconcile_daemon(service)
    else:
        _reconcile_replica(service)
    _check_steady(service)


def _stop_reason(service: Service) -> str:
    return f"Scaling activity initiated by (deployment {service.primary.id})"


def _bounds(service: Service, desired: int) -> tuple[int, int]:
    config = service.deployment_configuration
    lower = math.ceil(desired * config.minimum_healthy_percent / 100)
    upper = math.floor(desired * config.maximum_percent / 100)
    return lower, upper


def can_start(service: Service) -> bool:
    """False while the PRIMARY failed (it launches nothing more) or while backing off."""
    if service.primary.rollout_state == FAILED:
        return False
    now = service.now()
    if now < service.backoff_until:
        if service.wakeup_at != service.backoff_until:
            service.wakeup_at = service.backoff_until
            service.backend.world.timers.call_at(service.backoff_until, service.request_evaluation)
        return False
    return True


def _forget_finished_deployments(service: Service) -> None:
    primary = service.primary
    for deployment in list(service.deployments[1:]):
        if deployment.unstopped_tasks():
            continue
        if deployment.rollout_state == FAILED and primary.rollout_state == IN_PROGRESS:
            continue  # a failed deployment stays visible until the rollback completes
        service.deployments.remove(deployment)
        deployment.status = INACTIVE


@dataclass
class _Round:
    """One evaluation of a REPLICA service: its bounds and what it decided so far."""

    now: float
    desired: int
    lower: int  # healthy tasks that must stay up
    upper: int  # tasks that may be RUNNING or PENDING
    stopping: list[Task] = field(default_factory=list)
    started: list[Task] = field(default_factory=list)
    room: int = 0
    budget: int = 0

    def stop(self, task: Task) -> None:
        self.stopping.append(task)

    def live(self, service: Service) -> list[Task]:
        chosen = set(self.stopping)
        return [t for t in service.all_tasks() if t.is_live and t not in chosen]


def _reconcile_replica(service: Service) -> None:
    service.primary.desired_count = service.desired_count
    lower, upper = _bounds(service, service.desired_count)
    round_ = _Round(service.now(), service.desired_count, lower, upper)
    _scale_in_primary(service, round_)
    _start_new_tasks(service, round_)
    _stop_old_tasks(service, round_)
    chosen = set(round_.stopping)
    for deployment in service.deployments[1:]:
        deployment.desired_count = sum(1 for t in deployment.live_tasks() if t not in chosen)
    if round_.stopping:
        service.stop_tasks(round_.stopping, SERVICE_SCHEDULER_INITIATED, _stop_reason(service), announce=True)
    _report_stuck(service, round_)


def _scale_in_primary(service: Service, round_: _Round) -> None:
    """Desired count went down: unhealthy and newest tasks go first."""
    live = service.primary.live_tasks()
    if len(live) > round_.desired:
        ranked = sorted(live, key=lambda t: (t.counts_healthy(round_.now), -t.created_at))
        for task in ranked[: len(live) - round_.desired]:
            round_.stop(task)


def _start_new_tasks(service: Service, round_: _Round) -> None:
    """Start PRIMARY tasks up to the desired count, within the upper bound."""
    round_.room = round_.upper - len(round_.live(service))
    chosen = set(round_.stopping)
    wanted = round_.desired - sum(1 for t in service.primary.live_tasks() if t not in chosen)
    if wanted > 0 and round_.room > 0 and can_start(service):
        round_.started = launch.start_service_tasks(service, service.primary, min(wanted, round_.room))


def _stop_old_tasks(service: Service, round_: _Round) -> None:
    """Stop tasks of older deployments: unhealthy ones at once, healthy ones down to the lower bound."""
    if service.primary.rollout_state == FAILED:
        return  # a failed deployment without rollback changes nothing more
    live = round_.live(service)
    round_.budget = sum(1 for t in live if t.counts_healthy(round_.now)) - round_.lower
    old = [t for d in reversed(service.deployments[1:]) for t in d.live_tasks()]
    for task in sorted(old, key=lambda t: t.counts_healthy(round_.now)):
        if not task.counts_healthy(round_.now):
            round_.stop(task)
        elif round_.budget > 0:
            round_.stop(task)
            round_.budget -= 1


def _report_stuck(service: Service, round_: _Round) -> None:
    """Neither a start nor a stop was possible, and no task is on its way to healthy."""
    if round_.started or round_.stopping or service.primary.rollout_state == FAILED:
        return
    live = [t for t in service.all_tasks() if t.is_live]
    old = [t for t in live if t.deployment is not service.primary]
    short = round_.desired - len(service.primary.live_tasks())
    settling = any(not t.counts_healthy(round_.now) for t in live)
    if (old or short > 0) and round_.room <= 0 and round_.budget <= 0 and not settling:
        service.add_event(events.stuck_on_bounds(service.name), repeat=False)


def _reconcile_daemon(service: Service) -> None:
    """One task per ACTIVE container instance."""
    now = service.now()
    primary = service.primary
    instances = service.cluster.active_instances()
    service.desired_count = primary.desired_count = len(instances)
    lower, _ = _bounds(service, len(instances))
    live = [t for t in service.all_tasks() if t.is_live]
    to_stop = [t for t in live if t.container_instance not in instances]
    failed = primary.rollout_state == FAILED
    budget = sum(1 for t in live if t not in to_stop and t.counts_healthy(now)) - lower
    empty: list[ContainerInstance] = []
    for instance in instances:
        here = [t for t in live if t.container_instance is instance and t not in to_stop]
        mine = [t for t in here if t.deployment is primary]
        to_stop.extend(mine[1:])
        for task in [t for t in here if t.deployment is not primary] if not failed else []:
            if not task.counts_healthy(now):
                to_stop.append(task)
            elif budget > 0:
                to_stop.append(task)
                budget -= 1
        if not mine and all(t in to_stop for t in here):
            empty.append(instance)
    if to_stop:
        service.stop_tasks(to_stop, SERVICE_SCHEDULER_INITIATED, _stop_reason(service), announce=True)
    for deployment in service.deployments[1:]:
        deployment.desired_count = len(deployment.live_tasks())
    if empty and can_start(service):
        launch.start_service_tasks(service, primary, len(empty), instances=empty)


def _check_steady(service: Service) -> None:
    """Complete the PRIMARY deployment and report a steady state when everything is in place."""
    now = service.now()
    primary = service.primary
    others = service.deployments[1:]
    live = primary.live_tasks()
    ready = (
        primary.rollout_state != FAILED
        and all(d.rollout_state == FAILED and not d.unstopped_tasks() for d in others)
        and len(live) == service.desired_count
        and len(primary.unstopped_tasks()) == len(live)
        and all(t.counts_healthy(now) for t in live)
    )
    if not ready:
        service.steady = False
        record = primary.service_deployment
        if record is not None and record.deployment is primary and primary.rollout_state == IN_PROGRESS:
            healthy = sum(1 for t in live if t.counts_healthy(now))
            record.check_early_success(healthy, any(d.unstopped_tasks() for d in others), now)
        if (
            record is not None
            and record.deployment is primary
            and record.lifecycle_stage == sds.SCALE_UP
            and primary.rollout_state == IN_PROGRESS
            and len(live) == service.desired_count
            and all(t.counts_healthy(now) for t in live)
        ):
            record.lifecycle_stage = sds.CLEAN_UP  # the new tasks are in; the old ones go
            record.touch(now)
        return
    for deployment in others:
        service.deployments.remove(deployment)
        deployment.status = INACTIVE
    if primary.rollout_state == IN_PROGRESS:
        _service_deployment_done(primary, now)
        primary.complete(now)
        service.last_completed = primary
        service.add_event(events.deployment_completed(service.name, primary.id), at=now)
        events_bridge.deployment_state_change(service, primary, events_bridge.DEPLOYMENT_COMPLETED, now)
        service.steady = False
    if not service.steady:
        at = now + STEADY_EVENT_OFFSET
        service.add_event(events.steady_state(service.name), at=at)
        events_bridge.service_action(service, events_bridge.STEADY_STATE, events_bridge.INFO, at)
        service.steady_at.append(at)
        service.steady = True


def _service_deployment_done(primary: Deployment, now: float) -> None:
    record = primary.service_deployment
    if record is None or not record.running:
        return
    record.lifecycle_stage = sds.CLEAN_UP
    if record.rollback_deployment is primary:
        record.set_status(sds.ROLLBACK_SUCCESSFUL, now)
    elif record.deployment is primary:
        record.set_status(sds.SUCCESSFUL, now)


def _drain(service: Service) -> None:
    """A deleted service stops all its tasks, then turns INACTIVE."""
    live = [t for t in service.all_tasks() if t.is_live]
    if live:
        service.stop_tasks(live, SERVICE_SCHEDULER_INITIATED, _stop_reason(service), announce=True)
    for deployment in service.deployments:
        deployment.desired_count = 0
    if all(t.last_status == STOPPED for t in service.all_tasks()):
        service.status = INACTIVE
        del service.deployments[1:]
