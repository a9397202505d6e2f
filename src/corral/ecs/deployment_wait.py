"""Waiting for the deployment a service step started, by how the service deploys.

    started = Started.from_answer(ctx, service, task_definition_arn=arn, since=asked_at)
    service, deployment = wait_for_deployment(ctx, cluster, name, started, task_definition_arn=arn)

The way of waiting is picked by the deployment strategy ECS answered for the service: a native
strategy (BLUE_GREEN, LINEAR, CANARY) is followed through its service deployment (native/follow.py:
SUCCESSFUL, or the step's `until`), a rolling service keeps the steady-state rules
(steady_state.py). Either way the service deployment ARN, when ECS names one, is in the step's
outputs and rollback data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from corral.errors import DeploymentError

from . import services
from .context import StepContext
from .native.follow import ServiceDeploymentFailed, wait_for_service_deployment
from .native.judge import SUCCESSFUL
from .native.started import native_strategy, service_deployment_arn
from .native.steering import follow_past_pauses
from .steady_state import recent_events, stopped_task_reasons, wait_for_steady_state

ROLLING = "ROLLING"


@dataclass(frozen=True)
class Started:
    """What CreateService / UpdateService began (or, when nothing changed, what runs)."""

    service: dict[str, Any]  # ECS's answer, or the live description
    deployment_id: str | None  # the `ecs-svc/…` deployment of `deployments[]`
    service_deployment_arn: str | None
    strategy: str  # ROLLING, or the native strategy

    @classmethod
    def from_answer(
        cls,
        ctx: StepContext,
        service: dict[str, Any],
        *,
        task_definition_arn: str | None = None,
        since: dt.datetime | None = None,
    ) -> Started:
        strategy = native_strategy(service)
        if strategy is None:  # recorded when ECS names it; not worth a call: steady state judges
            current = service.get("currentServiceDeployment")
            arn = str(current) if current else None
        else:
            arn = service_deployment_arn(ctx, service, task_definition_arn=task_definition_arn, since=since)
        return cls(
            service=service,
            deployment_id=services.primary_deployment_id(service),
            service_deployment_arn=arn,
            strategy=strategy or ROLLING,
        )

    @property
    def native(self) -> bool:
        return self.strategy != ROLLING


def asked_at() -> dt.datetime:
    """When a Create/UpdateService is about to be sent, less a margin for clock skew with AWS:
    the service deployments listed as created after it include the one that call starts."""
    return dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)


def wait_for_deployment(
    ctx: StepContext,
    cluster: str,
    name: str,
    started: Started,
    *,
    task_definition_arn: str,
    until: str = SUCCESSFUL,
    just_started: bool = False,
    overtaking_raises: bool = False,
    continue_pauses: bool = False,
    container_health_checks: bool | None = None,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(the service once the wait is over, the service deployment when it was followed).
    `continue_pauses`: a rollback's deployment goes on past its PAUSE hooks (native/steering.py)."""
    if not started.native:
        if until != SUCCESSFUL:
            ctx.log.warn(
                f"waitUntil {until} applies to ECS's own strategies; service {name} deploys ROLLING, "
                "so the step waits for its steady state"
            )
        service = wait_for_steady_state(
            ctx,
            cluster,
            name,
            deployment_id=started.deployment_id,
            task_definition_arn=task_definition_arn,
            just_started=just_started,
            overtaking_raises=overtaking_raises,
            container_health_checks=container_health_checks,
            answer=started.service,
        )
        return service, None
    if started.service_deployment_arn is None:
        raise DeploymentError(
            f"Service {name} deploys with the {started.strategy} strategy, but ECS named no service "
            "deployment for it (no currentServiceDeployment, none in ListServiceDeployments)"
        )
    try:
        if continue_pauses:
            deployment = follow_past_pauses(ctx, cluster, started.service_deployment_arn)
        else:
            deployment = wait_for_service_deployment(
                ctx, cluster, started.service_deployment_arn, until=until
            )
    except ServiceDeploymentFailed as failed:
        raise _explained(ctx, cluster, name, started, failed) from failed
    described = services.describe_service(ctx, cluster, name)
    if described is None:
        raise DeploymentError(f"Service {name} is gone while its deployment was followed")
    return described, deployment


def _explained(
    ctx: StepContext, cluster: str, name: str, started: Started, failed: ServiceDeploymentFailed
) -> ServiceDeploymentFailed:
    """ECS's reason, then (as for rolling failures) why the new tasks stopped when the circuit
    breaker gave up on them (container, exit code), and the service's recent events."""
    text = str(failed)
    breaker = (failed.deployment or {}).get("deploymentCircuitBreaker") or {}
    if breaker.get("status") == "TRIGGERED":
        text += "".join(f"\n  {r}" for r in stopped_task_reasons(ctx, cluster, started.deployment_id))
    service = services.describe_service(ctx, cluster, name)
    if service is not None and service.get("events"):
        text += f"\nRecent events:\n{recent_events(service)}"
    return ServiceDeploymentFailed(text, failed.deployment)
