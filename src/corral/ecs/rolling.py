"""ECS Rolling Deploy and ECS Rolling Rollback, in the order the reference documents them.

Deploy: wait while a deployment this execution did not start is in flight (foreign_deployments)
→ prepare rollback data (the live service, its tags and autoscaling) → register or reuse the
task definition → create the service (missing or INACTIVE; a DRAINING one is waited for) or update
it (only what UpdateService accepts; tags reconciled; no call when nothing differs) → wait until
the deployment we made is COMPLETED (a service with a native strategy, BLUE_GREEN / LINEAR /
CANARY: until its service deployment is SUCCESSFUL, or paused, or at the stage `waitUntil` names)
→ make autoscaling what the manifests say (no manifests: the live autoscaling stays) → list the
instances.

Rollback: the service as it was (task definition, deployment configuration, load balancers,
network, registries, Service Connect, VPC Lattice, tags, autoscaling with its scheduled actions;
desired count as saved, or the larger live one when autoscaling may have grown it), or, after a
first deployment, no service at all. `skipApplicationScaling` leaves Application Auto Scaling alone
in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corral.errors import DeploymentError
from corral.step_log import DEPLOY, PREPARE_ROLLBACK_DATA, ROLLBACK, WAIT_FOR_STEADY_STATE
from corral.step_outcome import StepOutcome

from . import autoscaling, services
from .context import StepContext
from .deployment_wait import Started, asked_at, wait_for_deployment
from .foreign_deployments import busy_message, wait_turn
from .instances import service_instances
from .native import steering
from .native.follow import deployment_outputs
from .native.judge import SUCCESSFUL
from .native.started import NATIVE_STRATEGIES, native_strategy
from .service_requests import clear_removed, create_request, differs, update_request
from .settle_forecast import has_container_health_check
from .snapshot import ServiceSnapshot, capture_service
from .steady_state import DeploymentOvertaken
from .target import EcsTarget
from .task_definitions import for_target

CREATE_ONLY_CHECKED = ("launchType", "schedulingStrategy")


@dataclass
class RollingDeployOptions:
    same_as_already_running_instances: bool = False  # keep the live desired count, not the manifest's
    force_new_deployment: bool = False
    # Harness's skipApplicationScaling: no Application Auto Scaling call, in the deploy and its rollback
    skip_application_scaling: bool = False
    # a service with a native strategy: SUCCESSFUL, PAUSED (a PAUSE hook waits) or a lifecycle stage
    wait_until: str = SUCCESSFUL


TURNS = 3  # how many times a deployment someone else starts over ours is waited for before failing


def rolling_deploy(ctx: StepContext, target: EcsTarget, options: RollingDeployOptions) -> StepOutcome:
    cluster, name = target.cluster, target.service_name
    with ctx.calls():
        for turn in range(1, TURNS + 1):
            ctx.log.section(PREPARE_ROLLBACK_DATA)
            live = wait_turn(ctx, cluster, name)
            try:
                return _deploy(ctx, target, options, live)
            except DeploymentOvertaken as overtaken:
                message = (
                    f"{busy_message(name, overtaken.other)}; it replaced this step's deployment "
                    "(both found the service free and updated it)"
                )
                if ctx.no_wait or turn == TURNS:
                    raise DeploymentError(f"{message}. {overtaken}") from overtaken
                ctx.log.warn(f"{message}; waiting for it to end, then deploying again")
    raise AssertionError("unreachable")


def _deploy(
    ctx: StepContext, target: EcsTarget, options: RollingDeployOptions, live: dict[str, Any] | None
) -> StepOutcome:
    """`live`: the service's description from the look for foreign deployments, captured as is."""
    cluster, name = target.cluster, target.service_name
    skip = options.skip_application_scaling
    snapshot = capture_service(ctx, cluster, name, live, with_scaling=not skip)
    rollback_data = snapshot.to_dict()
    if skip:
        rollback_data["scalingSkipped"] = True
    ctx.checkpoint(rollback_data)

    ctx.log.section(DEPLOY)
    task_definition_arn, from_manifest = for_target(ctx, target)
    ctx.check()
    before = services.primary_deployment_id(snapshot.live) if snapshot.live is not None else None
    ctx.starting(rollback_data, name, task_definition_arn, before)
    since = asked_at()
    if snapshot.exists:
        assert snapshot.live is not None
        force = options.force_new_deployment or not from_manifest
        answer, count = update_service(ctx, target, snapshot.live, task_definition_arn, options, force=force)
    else:
        answer, count = create_service(ctx, target, snapshot, task_definition_arn)
    started = Started.from_answer(ctx, answer, task_definition_arn=task_definition_arn, since=since)
    deployment_id = started.deployment_id
    # tells the rollback which desired count was ours, and which autoscaling set since
    rollback_data["deployedDesiredCount"] = count
    if started.service_deployment_arn is not None:
        rollback_data["serviceDeploymentArn"] = started.service_deployment_arn
    ctx.started(rollback_data, deployment_id)
    ctx.check()

    ctx.log.section(WAIT_FOR_STEADY_STATE)
    service, followed = wait_for_deployment(
        ctx,
        cluster,
        name,
        started,
        task_definition_arn=task_definition_arn,
        until=options.wait_until,
        just_started=deployment_id is not None and deployment_id != before,
        overtaking_raises=True,
        container_health_checks=(
            has_container_health_check(target.task_definition)
            if from_manifest and target.task_definition
            else None
        ),
    )
    ctx.log.section(DEPLOY)
    if skip:
        ctx.log.info(
            "Skipping application auto scaling (skipApplicationScaling): its manifests are not applied"
        )
    elif service.get("schedulingStrategy") != "DAEMON":
        autoscaling.replace(ctx, target.scaling, cluster, name)
    elif not target.scaling.empty():
        ctx.log.warn(
            f"Service {name} is a DAEMON service, which ECS does not autoscale; scaling manifests ignored"
        )
    instances = service_instances(ctx, cluster, name)
    verb = "Updated" if snapshot.exists else "Created"
    ctx.log.info(f"{verb} Service {name} with Arn {service['serviceArn']}")
    outputs = {
        "serviceName": name,
        "serviceArn": service["serviceArn"],
        "taskDefinitionArn": task_definition_arn,
        "deploymentId": deployment_id,
        "desiredCount": service.get("desiredCount"),
        "isNewServiceCreated": not snapshot.exists,
        "instances": instances,
    }
    if started.service_deployment_arn is not None:
        outputs["serviceDeploymentArn"] = started.service_deployment_arn
    if followed is not None:
        outputs.update(deployment_outputs(followed))
    if followed is not None and followed.get("status") != SUCCESSFUL:
        ctx.log.info(
            f"ECS goes on with the deployment ({followed.get('status')} at stage "
            f"{followed.get('lifecycleStage')}); the step ends here as waitUntil {options.wait_until} says"
        )
    else:
        ctx.log.info("Deployment Successful.")
    return StepOutcome(outputs=outputs, checkpoint=rollback_data)


def create_service(
    ctx: StepContext, target: EcsTarget, snapshot: ServiceSnapshot, task_definition_arn: str
) -> tuple[dict[str, Any], int | None]:
    """CreateService from the manifest (after a DRAINING service of that name is gone).

    Returns the service as ECS answered and the desired count asked for."""
    assert target.service_definition is not None
    if snapshot.status == "DRAINING":
        services.wait_until_inactive(ctx, target.cluster, target.service_name)
    request = create_request(
        target.service_definition, cluster=target.cluster, task_definition_arn=task_definition_arn
    )
    return services.create_service(ctx, request), request.get("desiredCount")


def update_service(
    ctx: StepContext,
    target: EcsTarget,
    live: dict[str, Any],
    task_definition_arn: str,
    options: RollingDeployOptions,
    *,
    force: bool,
) -> tuple[dict[str, Any], int | None]:
    """UpdateService with what differs from the live service.

    Returns the service as ECS answered (the live one when nothing changed: its deployment is the
    one to wait for) and the desired count the service now has."""
    assert target.service_definition is not None
    name = target.service_name
    create = create_request(
        target.service_definition, cluster=target.cluster, task_definition_arn=task_definition_arn
    )
    _warn_create_only(ctx, create, live)
    keep = live.get("desiredCount") if options.same_as_already_running_instances else None
    request = clear_removed(update_request(create, keep_desired_count=keep), live)
    if live.get("schedulingStrategy") == "DAEMON":
        request.pop("desiredCount", None)  # ECS decides a daemon's count
    if "tags" in target.service_definition:
        services.reconcile_tags(ctx, live["serviceArn"], live.get("tags"), create.get("tags", []))
    primary = services.primary_deployment(live)
    if primary is not None and primary.get("rolloutState") == "FAILED":
        ctx.log.info(f"The last deployment of service {name} failed; starting a new one")
        force = True
    changed = differs(live, request)
    if not changed and not force:
        ctx.log.info(
            f"Service {name} already runs task definition {task_definition_arn} as the manifest says; "
            "no update needed"
        )
        return live, live.get("desiredCount")
    if changed:
        ctx.log.info(f"Changing {', '.join(changed)} of service {name}")
    if force:
        request["forceNewDeployment"] = True
    service = services.update_service(ctx, request)
    return service, service.get("desiredCount")


def _warn_create_only(ctx: StepContext, create: dict[str, Any], live: dict[str, Any]) -> None:
    for key in CREATE_ONLY_CHECKED:
        if key in create and live.get(key) and create[key] != live[key]:
            ctx.log.warn(
                f"The manifest's {key} {create[key]} differs from service {live['serviceName']}'s "
                f"{live[key]}; ECS cannot change it on update, so it stays {live[key]}"
            )


# ---------------------------------------------------------------- rollback


def rolling_rollback(ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]) -> StepOutcome:
    """Put the service back as the deploy step found it; works from `rollback_data` alone."""
    snapshot = ServiceSnapshot.from_dict(rollback_data)
    cluster, name = snapshot.cluster, snapshot.service_name
    scaling = not rollback_data.get("scalingSkipped")
    ctx.adopt(rollback_data)
    native_move: str | None = None
    with ctx.calls():
        ctx.log.section(ROLLBACK)
        started_arn = rollback_data.get("serviceDeploymentArn")
        if started_arn and snapshot.exists:
            # an ECS-native deployment still under way (paused, shifting, baking) is rolled back
            # by ECS itself: it puts the listener rules and target groups back as they were (a
            # rolling one is put back by the UpdateService below, as always)
            deployment = steering.describe(ctx, str(started_arn))
            strategy = (deployment.get("deploymentConfiguration") or {}).get("strategy")
            if strategy in NATIVE_STRATEGIES:
                native_move = steering.roll_back_unfinished(ctx, str(started_arn), deployment)
        if not snapshot.exists:
            ctx.log.info(f"Service {name} did not exist before the deployment; deleting it")
            deleted = services.delete_service(ctx, cluster, name)
            if scaling:
                autoscaling.restore(ctx, autoscaling.Scaling(), cluster, name)
            ctx.log.info("Rollback Successful.")
            return StepOutcome(outputs={"serviceName": name, "serviceDeleted": deleted})
        assert snapshot.request is not None
        live = wait_turn(ctx, cluster, name, may_refuse=False)
        since = asked_at()
        if live is None or live["status"] != "ACTIVE":
            answer = _recreate(ctx, snapshot, live)
        else:
            answer = _restore(ctx, snapshot, live, rollback_data.get("deployedDesiredCount"))
        task_definition_arn = snapshot.request["taskDefinition"]
        started = Started.from_answer(ctx, answer, task_definition_arn=task_definition_arn, since=since)
        deployment_id = started.deployment_id
        ctx.check()
        if (
            started.native
            and live is not None
            and (answer is live or deployment_id == services.primary_deployment_id(live))
        ):
            # no deployment started: no UpdateService was sent, or only the deployment configuration
            # changed ("doesn't trigger a new service deployment", UpdateService); the service runs
            # as saved, put back by ECS's own rollback (the circuit breaker's, or the stage
            # rollback's through ECS): that rolled-back service deployment is not ours to judge
            service = answer
        else:
            service, _ = wait_for_deployment(
                ctx, cluster, name, started, task_definition_arn=task_definition_arn, continue_pauses=True
            )
        if scaling and service.get("schedulingStrategy") != "DAEMON":
            autoscaling.restore(ctx, snapshot.scaling, cluster, name)
        ctx.log.info("Rollback Successful.")
    outputs = {
        "serviceName": name,
        "taskDefinitionArn": snapshot.request["taskDefinition"],
        "desiredCount": service.get("desiredCount"),
        "deploymentId": deployment_id,
    }
    if started.service_deployment_arn is not None:
        outputs["serviceDeploymentArn"] = started.service_deployment_arn
    if native_move is not None:
        outputs["serviceDeploymentRollback"] = native_move
    return StepOutcome(outputs=outputs)


def rollback_desired_count(snapshot: ServiceSnapshot, live_count: int, deployed_count: int | None) -> int:
    """The saved count, unless autoscaling has moved the count since the deploy set it: then the
    larger of saved and live (it scaled out under load), within the saved maximum capacity."""
    assert snapshot.request is not None
    saved = int(snapshot.request.get("desiredCount", 0))
    if not snapshot.scaling.targets or live_count == deployed_count:
        return saved
    ceiling = max(int(t.get("MaxCapacity", live_count)) for t in snapshot.scaling.targets)
    return max(saved, min(live_count, ceiling))


def _restore(
    ctx: StepContext, snapshot: ServiceSnapshot, live: dict[str, Any], deployed_count: int | None
) -> dict[str, Any]:
    """UpdateService back to the saved service; ECS's answer (or `live` when nothing differs)."""
    assert snapshot.request is not None
    request = clear_removed(update_request(snapshot.request), live)
    if "desiredCount" in request:
        request["desiredCount"] = rollback_desired_count(
            snapshot, int(live.get("desiredCount", 0)), deployed_count
        )
    services.reconcile_tags(ctx, live["serviceArn"], live.get("tags"), snapshot.request.get("tags", []))
    primary = services.primary_deployment(live)
    changed = differs(live, request)
    # a failed rolling deployment leaves failed tasks to replace; a failed native one leaves the
    # old revision serving where it was (ECS never touched it): a new deployment would move it
    failed = primary is not None and primary.get("rolloutState") == "FAILED"
    if failed and native_strategy(live) is None:
        request["forceNewDeployment"] = True
    elif not changed:
        ctx.log.info(f"Service {snapshot.service_name} already runs as before the deployment")
        return live
    return services.update_service(ctx, request)


def _recreate(ctx: StepContext, snapshot: ServiceSnapshot, live: dict[str, Any] | None) -> dict[str, Any]:
    assert snapshot.request is not None
    ctx.log.warn(f"Service {snapshot.service_name} is gone since the deployment; creating it again")
    if live is not None and live["status"] == "DRAINING":
        services.wait_until_inactive(ctx, snapshot.cluster, snapshot.service_name)
    return services.create_service(ctx, dict(snapshot.request))
