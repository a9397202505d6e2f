"""ECS Canary Deploy and ECS Canary Delete, in the order the reference documents them.

Every step first waits while a deployment this execution did not start is in flight on the canary
service (foreign_deployments). Deploy: the canary is a service of its own, `<name>Canary`, made from the service's manifests
with a desired count of 1 (an option): an ACTIVE canary left from before is deleted and waited
for, then CreateService, then the wait until its deployment is COMPLETED. Load balancers and
service registries stay as in the manifest, so the canary takes its share of the traffic.

Delete: DeleteService(force) when the canary is ACTIVE, and the wait until it is INACTIVE. It is
also the rollback of Canary Deploy (`canary_rollback`, from the rollback data alone). The default
canary pipeline is Canary Deploy → Canary Delete → Rolling Deploy; its rollback Canary Delete →
Rolling Rollback.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corral.errors import DeploymentError
from corral.step_log import DEPLOY, PREPARE_ROLLBACK_DATA, ROLLBACK, WAIT_FOR_STEADY_STATE
from corral.step_outcome import StepOutcome

from . import services
from .context import StepContext
from .foreign_deployments import wait_turn
from .instances import service_instances
from .native.started import refuse_native_strategy
from .service_requests import create_request
from .steady_state import wait_for_steady_state
from .target import EcsTarget
from .task_definitions import for_target

CANARY_SUFFIX = "Canary"


@dataclass
class CanaryDeployOptions:
    desired_count: int = 1  # tasks of the canary service


@dataclass
class CanaryDeleteOptions:
    pass


def canary_service_name(service_name: str) -> str:
    return f"{service_name}{CANARY_SUFFIX}"


def canary_deploy(ctx: StepContext, target: EcsTarget, options: CanaryDeployOptions) -> StepOutcome:
    cluster, name = target.cluster, canary_service_name(target.service_name)
    refuse_native_strategy(target.service_definition, target.service_name, "ECS Canary Deploy")
    with ctx.calls():
        ctx.log.section(PREPARE_ROLLBACK_DATA)
        wait_turn(ctx, cluster, name)
        rollback_data: dict[str, Any] = {"cluster": cluster, "canaryServiceName": name}
        ctx.log.info(f"A rollback deletes the canary service {name}")
        ctx.checkpoint(rollback_data)

        ctx.log.section(DEPLOY)
        task_definition_arn, _ = for_target(ctx, target)
        adopted = _made_by_an_earlier_attempt(ctx, cluster, name, task_definition_arn)
        if adopted is not None:  # a re-run after a crash: the canary is not deleted and made again
            service, deployment_id = adopted, services.primary_deployment_id(adopted)
            ctx.log.info(f"Service {name} is the canary an earlier attempt of this step created; it is kept")
        else:
            services.delete_service(ctx, cluster, name)  # a canary left by an earlier run
            ctx.check()
            ctx.starting(rollback_data, name, task_definition_arn, None)
            service = services.create_service(ctx, canary_request(target, task_definition_arn, options))
            deployment_id = services.primary_deployment_id(service)
            ctx.started(rollback_data, deployment_id)
        ctx.check()

        ctx.log.section(WAIT_FOR_STEADY_STATE)
        service = wait_for_steady_state(
            ctx,
            cluster,
            name,
            deployment_id=deployment_id,
            task_definition_arn=task_definition_arn,
            just_started=adopted is None,
        )
        instances = service_instances(ctx, cluster, name)
        ctx.log.info("Deployment Successful.")
    return StepOutcome(
        outputs={
            "serviceName": name,
            "canaryServiceName": name,
            "serviceArn": service["serviceArn"],
            "taskDefinitionArn": task_definition_arn,
            "deploymentId": deployment_id,
            "desiredCount": service.get("desiredCount"),
            "instances": instances,
        },
        checkpoint=rollback_data,
    )


def _made_by_an_earlier_attempt(
    ctx: StepContext, cluster: str, name: str, task_definition_arn: str
) -> dict[str, Any] | None:
    """The ACTIVE canary service whose PRIMARY deployment, of this task definition, this
    execution journaled as its own (an attempt of this step that died after CreateService)."""
    if not (ctx.own.started or ctx.own.starting):
        return None
    live = services.describe_service(ctx, cluster, name)
    primary = (
        services.primary_deployment(live) if live is not None and live.get("status") == "ACTIVE" else None
    )
    if primary is None or primary.get("taskDefinition") != task_definition_arn:
        return None
    return live if ctx.own.is_ours(name, primary) else None


def canary_request(
    target: EcsTarget, task_definition_arn: str, options: CanaryDeployOptions
) -> dict[str, Any]:
    """The service's CreateService request, renamed `<name>Canary`, with the canary's count."""
    assert target.service_definition is not None
    if target.service_definition.get("schedulingStrategy") == "DAEMON":
        raise DeploymentError(
            f"Service {target.service_name} is a DAEMON service: ECS runs one task per container "
            "instance, so it cannot have a canary of a chosen size."
        )
    if options.desired_count < 1:
        raise DeploymentError(f"A canary needs at least 1 task, not {options.desired_count}.")
    request = create_request(
        target.service_definition, cluster=target.cluster, task_definition_arn=task_definition_arn
    )
    request["serviceName"] = canary_service_name(target.service_name)
    request["desiredCount"] = options.desired_count
    return request


def canary_delete(ctx: StepContext, target: EcsTarget, options: CanaryDeleteOptions) -> StepOutcome:
    return _delete(ctx, target.cluster, canary_service_name(target.service_name), DEPLOY)


def canary_rollback(ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]) -> StepOutcome:
    """Canary Deploy's rollback: delete the canary it made; works from `rollback_data` alone."""
    ctx.adopt(rollback_data)
    return _delete(ctx, rollback_data["cluster"], rollback_data["canaryServiceName"], ROLLBACK)


def _delete(ctx: StepContext, cluster: str, name: str, section: str) -> StepOutcome:
    with ctx.calls():
        ctx.log.section(section)
        wait_turn(ctx, cluster, name, may_refuse=section != ROLLBACK)
        deleted = services.delete_service(ctx, cluster, name)
        ctx.log.info(f"Canary service {name} deleted" if deleted else f"No canary service {name} to delete")
    return StepOutcome(outputs={"canaryDeleted": deleted, "canaryServiceName": name})
