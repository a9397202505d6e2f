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
from typing import TYPE_CHECKING

from . import events, launch
from .deployments import FAILED, IN_PROGRESS
from .services import DRAINING, INACTIVE, Service
from .tasks import SERVICE_SCHEDULER_INITIATED, STOPPED, Task

if TYPE_CHECKING:
    from .clusters import ContainerInstance

STEADY_EVENT_OFFSET = 0.001  # "deployment completed" and "steady state" come about 1 ms apart


def reconcile(service: Service) -> None:
    if service.status == INACTIVE or not service.deployments:
        return
    if service.status == DRAINING:
        _drain(service)
        return
    _forget_finished_deployments(service)
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


def _can_start(service: Service) -> bool:
    """False while the PRIMARY failed (it launches nothing more) or while backing off."""
    if service.primary.rollout_state == FAILED:
        return False
    now = service.backend.now()
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


def _reconcile_replica(service: Service) -> None:
    now = service.backend.now()
    primary = service.primary
    desired = service.desired_count
    primary.desired_count = desired
    lower, upper = _bounds(service, desired)
    to_stop: list[Task] = []

    primary_live = primary.live_tasks()
    if len(primary_live) > desired:  # scaled in: unhealthy and newest go first
        ranked = sorted(primary_live, key=lambda t: (t.counts_healthy(now), -t.created_at))
        to_stop.extend(ranked[: len(primary_live) - desired])

    live = [t for t in service.all_tasks() if t.is_live and t not in to_stop]
    room = upper - len(live)
    wanted = desired - (len(primary_live) - len(to_stop))
    started: list[Task] = []
    if wanted > 0 and room > 0 and _can_start(service):
        started = launch.start_service_tasks(service, primary, min(wanted, room))

    budget = 0
    old_live = [t for d in reversed(service.deployments[1:]) for t in d.live_tasks()]
    if primary.rollout_state != FAILED:
        live = [t for t in service.all_tasks() if t.is_live and t not in to_stop]
        budget = sum(1 for t in live if t.counts_healthy(now)) - lower
        for task in sorted(old_live, key=lambda t: t.counts_healthy(now)):
            if not task.counts_healthy(now):
                to_stop.append(task)
            elif budget > 0:
                to_stop.append(task)
                budget -= 1

    for deployment in service.deployments[1:]:
        deployment.desired_count = sum(1 for t in deployment.live_tasks() if t not in to_stop)
    if to_stop:
        service.stop_tasks(to_stop, SERVICE_SCHEDULER_INITIATED, _stop_reason(service), announce=True)

    remaining_old = [t for t in old_live if t not in to_stop]
    short = desired - len(primary.live_tasks())
    live = [t for t in service.all_tasks() if t.is_live]
    settling = any(not t.counts_healthy(now) for t in live)
    if (
        not started
        and not to_stop
        and (remaining_old or short > 0)
        and room <= 0
        and budget <= 0
        and not settling
        and primary.rollout_state != FAILED
    ):
        service.add_event(events.stuck_on_bounds(service.name), repeat=False)


def _reconcile_daemon(service: Service) -> None:
    """One task per ACTIVE container instance."""
    now = service.backend.now()
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
    if empty and _can_start(service):
        launch.start_service_tasks(service, primary, len(empty), instances=empty)


def _check_steady(service: Service) -> None:
    """Complete the PRIMARY deployment and report a steady state when everything is in place."""
    now = service.backend.now()
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
        return
    for deployment in others:
        service.deployments.remove(deployment)
        deployment.status = INACTIVE
    if primary.rollout_state == IN_PROGRESS:
        primary.complete(now)
        service.last_completed = primary
        service.add_event(events.deployment_completed(service.name, primary.id), at=now)
        service.steady = False
    if not service.steady:
        at = now + STEADY_EVENT_OFFSET
        service.add_event(events.steady_state(service.name), at=at)
        service.steady_at.append(at)
        service.steady = True


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
