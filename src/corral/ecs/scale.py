"""ECS Scale: set a service's instances as a count or a percentage, with an optional steady state check.

Wait while a deployment this execution did not start is in flight (foreign_deployments) → prepare
rollback data (the desired count before) → UpdateService with the new desired count (a
count change alone starts no new ECS deployment, so "done" is the PRIMARY deployment running the
new count) → wait → list the instances. The rollback sets the saved count again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

from corral.errors import DeploymentError
from corral.step_log import DEPLOY, PREPARE_ROLLBACK_DATA, ROLLBACK, WAIT_FOR_STEADY_STATE
from corral.step_outcome import StepOutcome

from . import autoscaling, services
from .context import StepAborted, StepContext, StepTimedOut
from .foreign_deployments import wait_turn
from .instances import service_instances
from .steady_state import event_lines, failure_threshold, recent_events, stopped_task_reasons
from .target import EcsTarget


@dataclass
class ScaleOptions:
    instances: int
    instance_unit: Literal["Count", "Percentage"] = "Count"  # Percentage: of the current desired count
    skip_steady_state_check: bool = False
    service_name: str | None = None  # default: the target's service
    # the AWS connector and region the clients were made for, kept in the rollback data so that a
    # rollback outside the stage's infrastructure reaches the same service
    connector_ref: str = ""
    region: str = ""


def scale(ctx: StepContext, target: EcsTarget, options: ScaleOptions) -> StepOutcome:
    cluster, name = target.cluster, options.service_name or target.service_name
    with ctx.calls():
        ctx.log.section(PREPARE_ROLLBACK_DATA)
        live = _scalable_service(cluster, name, wait_turn(ctx, cluster, name))
        previous = int(live["desiredCount"])
        rollback_data: dict[str, Any] = {"cluster": cluster, "serviceName": name, "desiredCount": previous}
        if options.connector_ref:
            rollback_data |= {"connectorRef": options.connector_ref, "region": options.region}
        ctx.log.info(f"Service {name} has a desired count of {previous}")
        ctx.checkpoint(rollback_data)

        ctx.log.section(DEPLOY)
        desired = desired_count(options, previous)
        _warn_outside_autoscaling(ctx, cluster, name, desired)
        set_desired_count(ctx, live, desired)

        ctx.log.section(WAIT_FOR_STEADY_STATE)
        if options.skip_steady_state_check:
            ctx.log.info("Skipping the steady state check")
        else:
            wait_until_resized(ctx, cluster, name, live, desired)
        instances = service_instances(ctx, cluster, name)
        ctx.log.info("Deployment Successful.")
    return StepOutcome(
        outputs={
            "serviceName": name,
            "taskDefinitionArn": live["taskDefinition"],
            "desiredCount": desired,
            "previousDesiredCount": previous,
            "instances": instances,
        },
        checkpoint=rollback_data,
    )


def desired_count(options: ScaleOptions, current: int) -> int:
    """A count as given, or a percentage of the current desired count rounded up."""
    if options.instances < 0:
        raise DeploymentError(f"Instances must be 0 or more, not {options.instances}.")
    if options.instance_unit == "Count":
        return options.instances
    if options.instance_unit == "Percentage":
        return math.ceil(current * options.instances / 100)
    raise DeploymentError(f"Unknown instance unit {options.instance_unit!r}: expected Count or Percentage.")


def set_desired_count(ctx: StepContext, live: dict[str, Any], desired: int) -> str | None:
    """UpdateService(desiredCount) unless the count already is that; returns the PRIMARY deployment."""
    name = live["serviceName"]
    if desired == live["desiredCount"]:
        ctx.log.info(f"Service {name} already has a desired count of {desired}")
        return services.primary_deployment_id(live)
    ctx.log.info(f"Updating Service {name} with desired count {desired}")
    answer = ctx.clients.ecs.update_service(cluster=live["clusterArn"], service=name, desiredCount=desired)
    return services.primary_deployment_id(answer["service"])


def scale_rollback(ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]) -> StepOutcome:
    """Set the desired count the service had before the Scale step; works from `rollback_data` alone."""
    cluster, name = rollback_data["cluster"], rollback_data["serviceName"]
    ctx.adopt(rollback_data)
    with ctx.calls():
        ctx.log.section(ROLLBACK)
        live = _scalable_service(cluster, name, wait_turn(ctx, cluster, name, may_refuse=False))
        wanted = int(rollback_data["desiredCount"])
        set_desired_count(ctx, live, wanted)
        # the failures of the scale being undone do not count against the rollback
        wait_until_resized(ctx, cluster, name, live, wanted, count_failures=False)
        ctx.log.info("Rollback Successful.")
    return StepOutcome(outputs={"serviceName": name, "desiredCount": rollback_data["desiredCount"]})


def _scalable_service(cluster: str, name: str, live: dict[str, Any] | None) -> dict[str, Any]:
    if live is None or live["status"] != "ACTIVE":
        status = "MISSING" if live is None else live["status"]
        raise DeploymentError(f"Service {name} is {status} in cluster {cluster}; there is nothing to scale.")
    if live.get("schedulingStrategy") == "DAEMON":
        raise DeploymentError(
            f"Service {name} is a DAEMON service: ECS runs one task per container instance; it cannot be scaled."
        )
    return live


def _warn_outside_autoscaling(ctx: StepContext, cluster: str, name: str, desired: int) -> None:
    for target in autoscaling.capture(ctx, cluster, name).targets:
        low, high = target.get("MinCapacity", 0), target.get("MaxCapacity", desired)
        if not low <= desired <= high:
            ctx.log.warn(
                f"Service {name} has autoscaling from {low} to {high} tasks; Application Auto Scaling "
                f"may move a desired count of {desired} back into that range"
            )


def wait_until_resized(
    ctx: StepContext,
    cluster: str,
    name: str,
    before: dict[str, Any],
    count: int,
    *,
    count_failures: bool = True,
) -> None:
    """After a desired-count change (no new ECS deployment): done when the count runs and ECS says
    `has reached a steady state.` again, which it does only once load balancer targets are healthy
    ("Amazon ECS service event messages", Amazon ECS Developer Guide); failed when tasks of the
    deployment keep failing (ECS's circuit-breaker threshold, used also without the breaker).
    `before`: the service as described before the change to `count`; nothing changed and the count
    running: nothing to wait for."""
    from corral.aws.poller import ServicePoller
    from corral.aws.retry import Aborted

    if before.get("desiredCount") == before.get("runningCount") == count:
        return
    seen = {e["id"] for e in before.get("events", [])}
    primary = services.primary_deployment(before) or {}
    failed_before = int(primary.get("failedTasks") or 0)

    def resized(service: dict[str, Any]) -> bool:
        for line in event_lines(service, seen_for_log):
            ctx.log.info(line)
        if service.get("status") != "ACTIVE":
            raise DeploymentError(f"Service {name} is {service.get('status', 'MISSING')}")
        now = services.primary_deployment(service) or {}
        failed = int(now.get("failedTasks") or 0) - failed_before
        if count_failures and failed >= failure_threshold(int(service.get("desiredCount") or 0)):
            reasons = "".join(f"\n  {r}" for r in stopped_task_reasons(ctx, cluster, now.get("id")))
            raise DeploymentError(
                f"Tasks keep failing: {failed} tasks of service {name} failed{reasons}\n"
                f"Recent events:\n{recent_events(service)}"
            )
        steady = any(
            e["id"] not in seen and e["message"].endswith("has reached a steady state.")
            for e in service.get("events", [])
        )
        settled = service.get("runningCount") == service.get("desiredCount") and not service.get(
            "pendingCount"
        )
        return steady and settled and len(service.get("deployments") or []) == 1

    seen_for_log = set(seen)
    ctx.log.info(f"Waiting for Service {name} to reach steady state")
    with ServicePoller.for_cluster(ctx.clients, cluster).watch(name) as watch:
        try:
            watch.wait(resized, deadline=ctx.deadline, abort=ctx.abort)
        except TimeoutError as exc:
            raise StepTimedOut(f"Timed out waiting for service {name} to reach a steady state") from exc
        except Aborted as exc:
            raise StepAborted(f"Aborted while waiting for service {name}") from exc
    ctx.log.info(f"Service {name} reached steady state")
