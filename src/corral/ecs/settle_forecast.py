"""When can a rolling deployment settle at the earliest, from what ECS says?

A waiter that knows its deployment cannot be done before some moment need not look every few
seconds until then (aws/poller.py `Watch.expect`). The forecast is a lower bound on ECS's clock
(the clock of its timestamps; see aws/ecs_clock.py) and errs early: ECS may settle later, never
before it. Where no documented rule bounds the moment, there is no forecast and the poller keeps
its normal interval.

The rule used: for a service without a load balancer whose essential containers have no health
check, "the service scheduler will wait for 40 seconds after a task reaches a RUNNING state
before the task is counted towards the minimum healthy percent total" (Amazon ECS API Reference,
DeploymentConfiguration, minimumHealthyPercent,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html), and
the old tasks are stopped only once the new ones count; so the deployment settles no earlier
than 40 s after the last of its tasks reached RUNNING, which was after the newest description
that still showed one of them starting (or, never seen starting, after the deployment's
`createdAt`).

No forecast (the normal interval) when:
- a load balancer fronts the service: "After you register the target, it must pass one health
  check to be considered healthy" (Amazon ECS Developer Guide, "Optimize load balancer health
  check parameters for Amazon ECS",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-healthcheck.html),
  and a draining target with no connections left is deregistered at once, before the
  deregistration delay ("Deregistration delay", Elastic Load Balancing User Guide for Application
  Load Balancers), so neither gives a useful earliest moment;
- a container health check decides (HEALTHY may come at its first check), or whether there is
  one is not known (a task definition given by ARN);
- the deployment is not ours, not IN_PROGRESS, or has failed tasks: a deployment in trouble is
  watched at the normal interval, as fast as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NO_HEALTH_CHECK_WAIT = 40.0  # seconds after RUNNING before a task counts (see the module docstring)


def has_container_health_check(task_definition: dict[str, Any]) -> bool:
    """Whether an essential container of a RegisterTaskDefinition request has a health check
    (a container is essential unless it says otherwise, as in ECS)."""
    return any(
        c.get("healthCheck") and c.get("essential", True)
        for c in task_definition.get("containerDefinitions", [])
    )


@dataclass
class SettleForecast:
    """Follows one rolling deployment's descriptions (newest last) and forecasts its settling."""

    deployment_id: str | None
    container_health_checks: bool | None  # None: not known, so no forecast
    starting_seen_at: float | None = None  # endpoint time of the newest description with ours starting
    was_starting: bool = False  # whether the previous update's description had ours starting

    def update(
        self, service: dict[str, Any], endpoint_time: float | None, *, previous_at: float | None = None
    ) -> float | None:
        """The earliest endpoint time the deployment can settle, or None (no forecast).
        `endpoint_time`: a lower bound of the endpoint's clock when `service` was described;
        `previous_at`: ... when the service was last described as in the previous `update` (the
        poller describes it again and again; only a change is handed on)."""
        if self.was_starting and previous_at is not None:
            self.starting_seen_at = max(self.starting_seen_at or previous_at, previous_at)
        self.was_starting = False
        if self.container_health_checks is not False or self.deployment_id is None:
            return None
        if service.get("loadBalancers") or service.get("status") != "ACTIVE":
            return None
        ours = next((d for d in service.get("deployments", []) if d.get("id") == self.deployment_id), None)
        if ours is None or ours.get("status") != "PRIMARY" or ours.get("failedTasks", 0):
            return None
        if ours.get("rolloutState", "IN_PROGRESS") != "IN_PROGRESS":
            return None
        desired = service.get("desiredCount", ours.get("desiredCount", 0))
        if ours.get("runningCount", 0) < desired or ours.get("pendingCount", 0):
            self.was_starting = True
            if endpoint_time is not None:
                self.starting_seen_at = max(self.starting_seen_at or endpoint_time, endpoint_time)
            return None  # when they reach RUNNING is not forecast: the normal interval brackets it
        created = ours.get("createdAt")
        created_at = created.timestamp() if created is not None else None
        running_since = max((t for t in (self.starting_seen_at, created_at) if t is not None), default=None)
        if running_since is None:
            return None
        return running_since + NO_HEALTH_CHECK_WAIT
