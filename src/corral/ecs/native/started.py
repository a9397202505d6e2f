"""Which service deployment a CreateService / UpdateService started, and whether to follow it.

A service with the ECS deployment controller gets a service deployment for every deployment;
ECS names the current one in the service (`currentServiceDeployment`). Where an answer lacks it,
ListServiceDeployments (newest first by `createdAt`) gives the newest one whose target revision
runs the task definition the step asked for.

Rolling services without a native strategy (`deploymentConfiguration.strategy` absent or
ROLLING) are still judged by steady_state.py; BLUE_GREEN, LINEAR and CANARY are followed
through their service deployment (follow.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from corral.errors import DeploymentError

from ..context import StepContext

NATIVE_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")


def uses_ecs_controller(service: dict[str, Any]) -> bool:
    """ECS is the default controller when `deploymentController` is absent."""
    return bool((service.get("deploymentController") or {}).get("type", "ECS") == "ECS")


def native_strategy(service: dict[str, Any]) -> str | None:
    """BLUE_GREEN, LINEAR or CANARY when the service (or a request) deploys with one, else None."""
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy")
    return strategy if uses_ecs_controller(service) and strategy in NATIVE_STRATEGIES else None


def service_deployment_arn(
    ctx: StepContext,
    service: dict[str, Any],
    *,
    task_definition_arn: str | None = None,
    since: dt.datetime | None = None,
) -> str | None:
    """The service deployment ECS is running for `service` (a CreateService / UpdateService answer
    or a description): its `currentServiceDeployment`, else the newest listed one created since
    `since` whose revision runs `task_definition_arn`; None for other controllers or none found."""
    if not uses_ecs_controller(service):
        return None
    current = service.get("currentServiceDeployment")
    if current:
        return str(current)
    request: dict[str, Any] = {"cluster": service["clusterArn"], "service": service["serviceArn"]}
    if since is not None:
        request["createdAt"] = {"after": since}
    listed = ctx.clients.ecs.list_service_deployments(**request).get("serviceDeployments", [])
    listed.sort(key=lambda d: d.get("createdAt") or dt.datetime.min.replace(tzinfo=dt.UTC), reverse=True)
    for summary in listed:
        if task_definition_arn is None or _runs(ctx, summary, task_definition_arn):
            return str(summary["serviceDeploymentArn"])
    return None


def _runs(ctx: StepContext, summary: dict[str, Any], task_definition_arn: str) -> bool:
    revision = summary.get("targetServiceRevisionArn")
    if not revision:
        return False
    answer = ctx.clients.ecs.describe_service_revisions(serviceRevisionArns=[revision])
    return any(r.get("taskDefinition") == task_definition_arn for r in answer.get("serviceRevisions", []))


def refuse_native_strategy(service_definition: dict[str, Any] | None, name: str, step: str) -> None:
    """Steps that make services of their own and move traffic or counts themselves (canary, the
    Basic phases, Harness's Blue Green) cannot run a service ECS deploys with a native strategy:
    each copy would hand ECS the same listener rules. Refused before any change."""
    strategy = native_strategy(service_definition or {})
    if strategy is not None:
        raise DeploymentError(
            f"Service {name} deploys with ECS's {strategy} strategy (deploymentConfiguration.strategy), "
            f"which shifts traffic itself; {step} makes services of its own and cannot use it. "
            "Deploy it with ECS Rolling Deploy, or set the strategy to ROLLING."
        )
