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

from . import autoscaling, services
from .context import StepContext
from .foreign_deployments import wait_turn
from .instances import service_instances
from .result import StepResult
from .steady_state import wait_for_steady_state
from .target import EcsTarget


@dataclass
class ScaleOptions:
    instances: int
    instance_unit: Literal["Count", "Percentage"] = "Count"  # Percentage: of the current desired count
    skip_steady_state_check: bool = False
    service_name: str | None = None  # default: the target's service


def scale(ctx: StepContext, target: EcsTarget, options: ScaleOptions) -> StepResult:
    cluster, name = target.cluster, options.service_name or target.service_name
    with ctx.calls():
        ctx.log.section(PREPARE_ROLLBACK_DATA)
        live = _scalable_service(cluster, name, wait_turn(ctx, cluster, name))
        previous = int(live["desiredCount"])
        rollback_data = {"cluster": cluster, "serviceName": name, "desiredCount": previous}
        ctx.log.info(f"Service {name} has a desired count of {previous}")
        ctx.checkpoint(rollback_data)

        ctx.log.section(DEPLOY)
        desired = desired_count(options, previous)
        _warn_outside_autoscaling(ctx, cluster, name, desired)
        deployment_id = set_desired_count(ctx, live, desired)

        ctx.log.section(WAIT_FOR_STEADY_STATE)
        if options.skip_steady_state_check:
            ctx.log.info("Skipping the steady state check")
        else:
            wait_for_steady_state(
                ctx, cluster, name, deployment_id=deployment_id, task_definition_arn=live["taskDefinition"]
            )
        instances = service_instances(ctx, cluster, name)
        ctx.log.info("Deployment Successful.")
    return StepResult(
        outputs={
            "serviceName": name,
            "taskDefinitionArn": live["taskDefinition"],
            "desiredCount": desired,
            "previousDesiredCount": previous,
            "instances": instances,
        },
        rollback_data=rollback_data,
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


def scale_rollback(ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]) -> StepResult:
    """Set the desired count the service had before the Scale step; works from `rollback_data` alone."""
    cluster, name = rollback_data["cluster"], rollback_data["serviceName"]
    ctx.adopt(rollback_data)
    with ctx.calls():
        ctx.log.section(ROLLBACK)
        live = _scalable_service(cluster, name, wait_turn(ctx, cluster, name, may_refuse=False))
        deployment_id = set_desired_count(ctx, live, int(rollback_data["desiredCount"]))
        wait_for_steady_state(
            ctx, cluster, name, deployment_id=deployment_id, task_definition_arn=live["taskDefinition"]
        )
        ctx.log.info("Rollback Successful.")
    return StepResult(outputs={"serviceName": name, "desiredCount": rollback_data["desiredCount"]})


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
