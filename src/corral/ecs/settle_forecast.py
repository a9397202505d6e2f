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

A load balancer fronts the service (`TargetGroupTiming`, read from the target groups): the
deployment can settle no earlier than the moment its last task reached RUNNING (the same lower
bound as above, with nothing added), because neither later step has a documented lower bound:
- "After you register the target, it must pass one health check to be considered healthy"
  (Amazon ECS Developer Guide, "Optimize load balancer health check parameters for Amazon ECS",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/load-balancer-healthcheck.html), and
  the load balancer checks "every HealthCheckIntervalSeconds" ("Health checks for Application Load
  Balancer target groups", https://docs.aws.amazon.com/elasticloadbalancing/latest/application/
  target-group-health-checks.html) without saying when the first check comes: a new target may be
  healthy at once. At the latest it is healthy HealthyThresholdCount intervals after its
  registration (at RUNNING): AWS's ECS best practices count that many ("the total time to
  determine the health of a container is two minutes and 30 seconds (30 seconds * 5 = 150
  seconds)", Amazon ECS Best Practices Guide, "Load balancer health check parameters",
  https://docs.aws.amazon.com/AmazonECS/latest/bestpracticesguide/load-balancer-healthcheck.html),
  so the later of the two readings bounds the window;
- `healthCheckGracePeriodSeconds` only makes ECS ignore failing checks ("the period of time ...
  that the Amazon ECS service scheduler ignores unhealthy Elastic Load Balancing ... health checks
  after a task has first started", CreateService, Amazon ECS API Reference): it delays nothing;
- an old target then drains for at most the deregistration delay, but "if a deregistering target
  has no in-flight requests and no active connections, Elastic Load Balancing immediately
  completes the deregistration process" ("Deregistration delay", Elastic Load Balancing User
  Guide for Application Load Balancers, https://docs.aws.amazon.com/elasticloadbalancing/latest/
  application/edit-target-group-attributes.html): when the drain ends is NOT predictable.
So the forecast is a window, not a moment: `update` returns its start, `latest` its end (the
newest description still showing a task starting, or the first showing them all RUNNING, plus
HealthyThresholdCount health check intervals plus the deregistration delay). The poller describes the service
densely across the window (aws/poller.py: `window_rounds` rounds over its length, `fast` to
`slowest` apart) and backs off after it: a steady state inside it is seen at once, a drain of
300 s costs at most one round per `slowest`.

No forecast (the normal interval) when:
- a load balancer fronts the service and its target groups were not read;
- a container health check decides (HEALTHY may come at its first check), or whether there is
  one is not known (a task definition given by ARN);
- the deployment is not ours, not IN_PROGRESS, or has failed tasks: a deployment in trouble is
  watched at the normal interval, as fast as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# an endpoint time from the HTTP Date header may be up to a second behind
from corral.aws.ecs_clock import DATE_RESOLUTION

NO_HEALTH_CHECK_WAIT = 40.0  # seconds after RUNNING before a task counts (see the module docstring)
DEFAULT_DEREGISTRATION_DELAY = 300.0  # deregistration_delay.timeout_seconds when not set (ELB guide)


@dataclass(frozen=True)
class TargetGroupTiming:
    """What the service's target groups say about how long a rolling deployment can take."""

    healthy_within: float  # the longest HealthyThresholdCount x HealthCheckIntervalSeconds
    deregistration_delay: float  # the longest deregistration_delay.timeout_seconds


def target_group_timing(elbv2: Any, target_group_arns: list[str]) -> TargetGroupTiming | None:
    """Read the target groups' health checks and deregistration delay (Elastic Load Balancing
    calls, not ECS reads); None when there are none or a group cannot be read. The defaults are
    ELB's: 30 s interval, healthy threshold 5 (an ALB's), delay 300 s."""
    if not target_group_arns:
        return None
    try:
        groups = elbv2.describe_target_groups(TargetGroupArns=target_group_arns)["TargetGroups"]
        delays = []
        for arn in target_group_arns:
            attributes = elbv2.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
            found = {a["Key"]: a["Value"] for a in attributes}
            delays.append(
                float(found.get("deregistration_delay.timeout_seconds", DEFAULT_DEREGISTRATION_DELAY))
            )
    except Exception:  # no window, the normal interval: a forecast is an optimisation only
        return None
    healthy = [
        float(g.get("HealthCheckIntervalSeconds", 30)) * float(g.get("HealthyThresholdCount", 5))
        for g in groups
    ]
    if len(healthy) != len(target_group_arns):
        return None
    return TargetGroupTiming(max(healthy), max(delays))


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
    load_balancer: TargetGroupTiming | None = None  # the service's target groups, when read
    running_seen_at: float | None = None  # endpoint time of the first description with ours all RUNNING
    latest: float | None = None  # with a load balancer: the end of the window `update` opened

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
        self.latest = None
        if self.container_health_checks is not False or self.deployment_id is None:
            return None
        balanced = bool(service.get("loadBalancers"))
        if (balanced and self.load_balancer is None) or service.get("status") != "ACTIVE":
            return None
        ours = next((d for d in service.get("deployments", []) if d.get("id") == self.deployment_id), None)
        if ours is None or ours.get("status") != "PRIMARY" or ours.get("failedTasks", 0):
            return None
        if ours.get("rolloutState", "IN_PROGRESS") != "IN_PROGRESS":
            return None
        desired = service.get("desiredCount", ours.get("desiredCount", 0))
        if ours.get("runningCount", 0) < desired or ours.get("pendingCount", 0):
            self.was_starting = True
            self.running_seen_at = None
            if endpoint_time is not None:
                self.starting_seen_at = max(self.starting_seen_at or endpoint_time, endpoint_time)
            return None  # when they reach RUNNING is not forecast: the normal interval brackets it
        created = ours.get("createdAt")
        created_at = created.timestamp() if created is not None else None
        running_since = max((t for t in (self.starting_seen_at, created_at) if t is not None), default=None)
        if running_since is None:
            return None
        if not balanced:
            return running_since + NO_HEALTH_CHECK_WAIT
        assert self.load_balancer is not None
        if self.running_seen_at is None and endpoint_time is not None:
            self.running_seen_at = endpoint_time
        if self.running_seen_at is not None:
            # RUNNING came before this (+ the Date's second); then the target is healthy within
            # its threshold's checks, and the drain lasts at most the deregistration delay
            # (stopping the drained task is not counted: after the window the poller backs off)
            timing = self.load_balancer
            self.latest = (
                self.running_seen_at + DATE_RESOLUTION + timing.healthy_within + timing.deregistration_delay
            )
        return running_since
