"""ECS Basic: Service Setup, Upgrade Container (one or more phases) and Basic Rollback, in the
order Harness's documentation describes them ("ECS basic deployments with phased traffic shifting
and scaling").

Every release is a service of its own, `<name>__<revision>` (the manifest's serviceName, two
underscores, the next revision number). Both versions sit behind the manifest's load balancer,
so traffic moves with the task counts.

Service Setup: find the versions of the service in the cluster (ListServices, DescribeServices)
→ prepare rollback data (the running version and every other version, with their autoscaling)
→ register or reuse the task definition → scale stale versions that still run to 0 and delete
those at 0 → CreateService `<name>__<next>` with a desired count of 0 → wait until it is steady.

Upgrade Container: the new version to a count or a percentage of its target (the manifest's
desiredCount, or the running version's with sameAsAlreadyRunningInstances), the old version to
a count or a percentage of what it ran (by default what the new one did not take), in the order
of the resize strategy, each waited for. The old version's autoscaling is taken off when it is
first downsized; when the new version reaches its target it gets the scaling manifests, or
without them the autoscaling the old version had (so autoscaling moves to the new service).

Basic Rollback (from Service Setup's data alone): the old version and the stale versions back as
they were (desired count, settings, autoscaling; recreated when gone), then the new version
deleted. The reference downsizes the new version to 0 and leaves it; Corral removes it, so the
cluster ends exactly as before.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from corral.errors import DeploymentError
from corral.step_log import DEPLOY, PREPARE_ROLLBACK_DATA, ROLLBACK, WAIT_FOR_STEADY_STATE
from corral.step_outcome import StepOutcome

from . import autoscaling, services
from .autoscaling import Scaling
from .context import StepContext
from .foreign_deployments import wait_turn
from .instances import service_instances
from .native.started import refuse_native_strategy
from .rolling import rolling_rollback
from .scale import set_desired_count, wait_until_resized
from .service_requests import create_request
from .snapshot import ServiceSnapshot, capture_service
from .steady_state import wait_for_steady_state
from .target import EcsTarget
from .task_definitions import for_target

DELIMITER = "__"  # the reference's separator between a service's name and its revision
RESIZE_NEW_FIRST: Final = "ResizeNewFirst"
DOWNSIZE_OLD_FIRST: Final = "DownsizeOldFirst"
COUNT: Final = "Count"
PERCENTAGE: Final = "Percentage"

ResizeStrategy = Literal["ResizeNewFirst", "DownsizeOldFirst"]
InstanceUnit = Literal["Count", "Percentage"]


@dataclass
class ServiceSetupOptions:
    resize_strategy: ResizeStrategy = RESIZE_NEW_FIRST
    same_as_already_running_instances: bool = False  # the new version's target: the old one's count
    # the data an earlier attempt of this step journaled: a re-run finishes that setup
    previous: dict[str, Any] | None = None


@dataclass
class UpgradeContainerOptions:
    new_service_instance_count: int
    new_service_instance_unit: InstanceUnit
    downsize_old_service_instance_count: int | None = None
    downsize_old_service_instance_unit: InstanceUnit | None = None
    setup: dict[str, Any] = field(default_factory=dict)  # Service Setup's data


# ---------------------------------------------------------------- versions (pure)


def revision(name: str, base: str) -> int | None:
    """The revision of `<base>__<n>`, else None (another service)."""
    match = re.fullmatch(re.escape(base + DELIMITER) + r"(\d+)", name)
    return int(match.group(1)) if match else None


def versioned_name(base: str, number: int) -> str:
    return f"{base}{DELIMITER}{number}"


@dataclass(frozen=True)
class Versions:
    """The versions of a service found in a cluster, and what Service Setup makes of them."""

    new: str  # the name the release gets
    old: dict[str, Any] | None  # the running version: the latest with a desired count above 0
    stale: tuple[dict[str, Any], ...]  # every other version


def plan_versions(base: str, found: list[dict[str, Any]]) -> Versions:
    """Which version runs now, which are stale and what the next one is called."""
    mine = sorted(
        (s for s in found if revision(s["serviceName"], base) is not None),
        key=lambda s: revision(s["serviceName"], base) or 0,
    )
    running = [s for s in mine if int(s.get("desiredCount") or 0) > 0]
    old = running[-1] if running else None
    latest = revision(mine[-1]["serviceName"], base) if mine else 0
    stale = tuple(s for s in mine if s is not old)
    return Versions(versioned_name(base, (latest or 0) + 1), old, stale)


def percent_of(percentage: int, count: int) -> int:
    """A percentage of a count, rounded half up (as the reference's Math.round)."""
    return math.floor(percentage * count / 100 + 0.5)


def phase_counts(options: UpgradeContainerOptions, new_target: int, old_count: int) -> tuple[int, int]:
    """(new version's desired count, old version's desired count) after this Upgrade Container.

    The new version: a percentage of its target, or the count given. The old version: a
    percentage of what it ran, a count (at most what it ran), or by default what the new
    version did not take (100% minus the new percentage, or its count minus the new count)."""
    new_instances = options.new_service_instance_count
    if options.new_service_instance_unit == PERCENTAGE:
        new = percent_of(new_instances, new_target)
        old = percent_of(100 - new_instances, old_count)
    else:
        new = new_instances
        old = max(0, old_count - new_instances)
    downsize = options.downsize_old_service_instance_count
    if downsize is not None and options.downsize_old_service_instance_unit == PERCENTAGE:
        old = percent_of(downsize, old_count)
    elif downsize is not None:
        old = min(old_count, downsize)
    return new, old


# ---------------------------------------------------------------- ECS Service Setup


def service_setup(ctx: StepContext, target: EcsTarget, options: ServiceSetupOptions) -> StepOutcome:
    cluster = target.cluster
    _require_replica(target)
    with ctx.calls():
        ctx.log.section(PREPARE_ROLLBACK_DATA)
        data = options.previous if options.previous else _prepare(ctx, target, options)
        ctx.adopt(data)
        ctx.checkpoint(data)
        new = data["newServiceName"]

        ctx.log.section(DEPLOY)
        task_definition_arn, _ = for_target(ctx, target)
        for stale in data["staleServices"]:
            _retire(ctx, cluster, stale["serviceName"])
        ctx.check()
        service, deployment_id = _create_new_version(ctx, target, new, task_definition_arn, data)
        ctx.check()

        ctx.log.section(WAIT_FOR_STEADY_STATE)
        service = wait_for_steady_state(
            ctx,
            cluster,
            new,
            deployment_id=deployment_id,
            task_definition_arn=task_definition_arn,
            just_started=True,
        )
        old = (data.get("oldService") or {}).get("serviceName")
        ctx.log.info(f"Service setup complete: {new} at 0 tasks" + (f", {old} still running" if old else ""))
    return StepOutcome(
        outputs={
            "newService": new,
            "oldService": old or "",
            "serviceName": new,
            "serviceArn": service["serviceArn"],
            "taskDefinitionArn": task_definition_arn,
            "newServiceThresholdInstanceCount": data["newServiceThresholdInstanceCount"],
            "isFirstDeployment": old is None,
        },
        checkpoint=data,
    )


def _require_replica(target: EcsTarget) -> None:
    definition = target.service_definition or {}
    if definition.get("schedulingStrategy") == "DAEMON":
        raise DeploymentError(
            f"Service {target.service_name} is a DAEMON service: ECS runs one task per container instance, "
            "so it cannot be resized in phases; deploy it with ECS Rolling Deploy."
        )
    refuse_native_strategy(definition, target.service_name, "ECS Service Setup")


def _prepare(ctx: StepContext, target: EcsTarget, options: ServiceSetupOptions) -> dict[str, Any]:
    """The rollback data: the versions as they are now, and the counts the phases aim at."""
    cluster, base = target.cluster, target.service_name
    versions = plan_versions(base, list_versions(ctx, cluster, base))
    old = capture_service(ctx, cluster, versions.old["serviceName"], versions.old) if versions.old else None
    stale = [capture_service(ctx, cluster, s["serviceName"], s) for s in versions.stale]
    if old is None:
        ctx.log.info(f"No version of service {base} is running: this is its first deployment")
    else:
        ctx.log.info(f"The running version is {old.service_name} with {_count(old)} task(s)")
    for snapshot in stale:
        ctx.log.info(f"Stale version {snapshot.service_name} ({_count(snapshot)} task(s)) is retired")
    wanted = (target.service_definition or {}).get("desiredCount")
    if options.same_as_already_running_instances and old is not None:
        threshold = _count(old)
    elif wanted is None:
        raise DeploymentError(
            f"The service definition of {base} has no desiredCount: ECS Upgrade Container scales the new "
            "version to a share of it (or set sameAsAlreadyRunningInstances with a running version)"
        )
    else:
        threshold = int(wanted)
    ctx.log.info(f"The new version is {versions.new}; its phases scale it up to {threshold} task(s)")
    return {
        "cluster": cluster,
        "serviceName": base,
        "newServiceName": versions.new,
        "newServiceThresholdInstanceCount": threshold,
        "oldService": old.to_dict() if old is not None else None,
        "staleServices": [s.to_dict() for s in stale],
        "resizeStrategy": options.resize_strategy,
    }


def _count(snapshot: ServiceSnapshot) -> int:
    return int((snapshot.request or {}).get("desiredCount") or 0)


def list_versions(ctx: StepContext, cluster: str, base: str) -> list[dict[str, Any]]:
    """The ACTIVE services of the cluster named `<base>__<n>`, described with their tags."""
    arns: list[str] = []
    for page in ctx.clients.ecs.get_paginator("list_services").paginate(cluster=cluster):
        arns += page["serviceArns"]
    names = [a.rsplit("/", 1)[-1] for a in arns if revision(a.rsplit("/", 1)[-1], base) is not None]
    if any(a.rsplit("/", 1)[-1] == base for a in arns):
        ctx.log.warn(
            f"Service {base} (no version number) is left as it is: the Basic strategy deploys "
            f"{base}{DELIMITER}<n> beside it; delete it once the new version serves"
        )
    found: list[dict[str, Any]] = []
    for start in range(0, len(names), 10):  # DescribeServices takes 10 at a time
        answer = ctx.clients.ecs.describe_services(
            cluster=cluster, services=names[start : start + 10], include=["TAGS"]
        )
        found += [s for s in answer["services"] if s.get("status") == "ACTIVE"]
    return found


def _retire(ctx: StepContext, cluster: str, name: str) -> None:
    """A stale version: scaled to 0 when it still runs tasks (the reference's order: downsize now,
    delete on a later release), deleted when it runs none."""
    live = wait_turn(ctx, cluster, name)
    if live is None or live.get("status") != "ACTIVE":
        return
    if int(live.get("desiredCount") or 0) > 0:
        autoscaling.remove(ctx, cluster, name)
        set_desired_count(ctx, live, 0)
        wait_until_resized(ctx, cluster, name, live, 0)
        return
    autoscaling.restore(ctx, Scaling(), cluster, name)
    services.delete_service(ctx, cluster, name)


def _create_new_version(
    ctx: StepContext, target: EcsTarget, name: str, task_definition_arn: str, data: dict[str, Any]
) -> tuple[dict[str, Any], str | None]:
    """CreateService `name` at 0 tasks (a re-run finds the one its first attempt made)."""
    assert target.service_definition is not None
    live = services.describe_service(ctx, target.cluster, name)
    if live is not None and live["status"] == "ACTIVE" and live["taskDefinition"] == task_definition_arn:
        ctx.log.info(f"Service {name} exists already (an earlier attempt of this step made it)")
        return live, services.primary_deployment_id(live)
    if live is not None and live["status"] == "ACTIVE":
        raise DeploymentError(
            f"Service {name} exists already and runs {live['taskDefinition']}, not this release"
        )
    if live is not None and live["status"] == "DRAINING":  # a version deleted a moment ago
        services.wait_until_inactive(ctx, target.cluster, name)
    request = create_request(
        target.service_definition, cluster=target.cluster, task_definition_arn=task_definition_arn
    )
    request["serviceName"], request["desiredCount"] = name, 0
    ctx.starting(data, name, task_definition_arn, None)
    service = services.create_service(ctx, request)
    deployment_id = services.primary_deployment_id(service)
    ctx.started(data, deployment_id)
    return service, deployment_id


# ---------------------------------------------------------------- ECS Upgrade Container


def upgrade_container(ctx: StepContext, target: EcsTarget, options: UpgradeContainerOptions) -> StepOutcome:
    setup = options.setup
    if not setup.get("newServiceName"):
        raise DeploymentError(
            "ECS Upgrade Container needs an ECS Service Setup that succeeded earlier in the same stage"
        )
    ctx.adopt(setup)
    cluster, new = setup["cluster"], setup["newServiceName"]
    old_snapshot = setup.get("oldService")
    old = old_snapshot["serviceName"] if old_snapshot else None
    new_target = int(setup["newServiceThresholdInstanceCount"])
    old_count = int(((old_snapshot or {}).get("request") or {}).get("desiredCount") or 0)
    new_count, old_wanted = phase_counts(options, new_target, old_count)
    with ctx.calls():
        ctx.log.section(DEPLOY)
        ctx.log.info(
            f"Upgrading {new} to {new_count} of {new_target} task(s)"
            + (f", {old} to {old_wanted} of {old_count}" if old else "")
        )
        if setup.get("resizeStrategy") == DOWNSIZE_OLD_FIRST:
            _downsize_old(ctx, cluster, old, old_wanted)
            _upsize_new(ctx, target, setup, new_count)
        else:
            _upsize_new(ctx, target, setup, new_count)
            _downsize_old(ctx, cluster, old, old_wanted)
        instances = service_instances(ctx, cluster, new)
        ctx.log.info("Upgrade Container complete")
    return StepOutcome(
        outputs={
            "newService": new,
            "oldService": old or "",
            "serviceName": new,
            "newServiceDesiredCount": new_count,
            "oldServiceDesiredCount": old_wanted if old else 0,
            "instances": instances,
        }
    )


def _upsize_new(ctx: StepContext, target: EcsTarget, setup: dict[str, Any], count: int) -> None:
    cluster, name = setup["cluster"], setup["newServiceName"]
    _resize(ctx, cluster, name, count)
    if count < int(setup["newServiceThresholdInstanceCount"]):
        return
    # the last phase: the new version gets the service's autoscaling
    manifests = target.scaling
    if manifests.empty() and setup.get("oldService"):
        manifests = Scaling.from_dict(setup["oldService"].get("scaling"))
        if not manifests.empty():
            ctx.log.info(f"Moving the autoscaling of {setup['oldService']['serviceName']} to {name}")
    autoscaling.restore(ctx, manifests, cluster, name)


def _downsize_old(ctx: StepContext, cluster: str, name: str | None, count: int) -> None:
    if name is None:
        return
    # Application Auto Scaling would move the count back: the old version's autoscaling goes first
    autoscaling.remove(ctx, cluster, name)
    _resize(ctx, cluster, name, count)


def _resize(ctx: StepContext, cluster: str, name: str, count: int) -> None:
    live = wait_turn(ctx, cluster, name)
    if live is None or live.get("status") != "ACTIVE":
        status = "MISSING" if live is None else live["status"]
        raise DeploymentError(f"Service {name} is {status} in cluster {cluster}; it cannot be resized")
    set_desired_count(ctx, live, count)
    ctx.check()
    wait_until_resized(ctx, cluster, name, live, count)
    ctx.log.info(f"Service {name} runs {count} task(s)")


# ---------------------------------------------------------------- ECS Basic Rollback


def basic_rollback(ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]) -> StepOutcome:
    """Every version back as Service Setup found it, the new one deleted; from `rollback_data` alone."""
    ctx.adopt(rollback_data)
    cluster, new = rollback_data["cluster"], rollback_data["newServiceName"]
    restored = []
    for snapshot in [rollback_data.get("oldService"), *rollback_data.get("staleServices", [])]:
        if snapshot:
            ctx.log.section(ROLLBACK)
            ctx.log.info(f"Rolling back {snapshot['serviceName']} to its previous state")
            rolling_rollback(ctx, target, dict(snapshot))
            restored.append(snapshot["serviceName"])
    with ctx.calls():
        ctx.log.section(ROLLBACK)
        wait_turn(ctx, cluster, new, may_refuse=False)
        autoscaling.restore(ctx, Scaling(), cluster, new)
        deleted = services.delete_service(ctx, cluster, new)
        ctx.log.info(f"Deleted the new version {new}" if deleted else f"No service {new} to delete")
        ctx.log.info("Rollback Successful.")
    return StepOutcome(
        outputs={"newService": new, "newServiceDeleted": deleted, "restoredServices": restored}
    )
