"""Application Auto Scaling for an ECS service: capture, remove and attach.

The reference strips a service's autoscaling on every update, so a service whose manifests have
no scaling definitions silently loses it. Corral replaces live autoscaling only when the service
has scalable target, scaling policy or scheduled action manifests; otherwise it leaves the live
state as it is. Scheduled actions (PutScheduledAction) belong to a scalable target: they are put
after the targets are registered and go when their target is deregistered, as AWS documents.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from .context import StepContext

NAMESPACE = "ecs"
DIMENSION = "ecs:service:DesiredCount"

_TARGET_FIELDS = (
    "ServiceNamespace",
    "ResourceId",
    "ScalableDimension",
    "MinCapacity",
    "MaxCapacity",
    "RoleARN",
    "SuspendedState",
)
_SCHEDULED_FIELDS = (
    "ScheduledActionName",
    "ServiceNamespace",
    "ResourceId",
    "ScalableDimension",
    "Schedule",
    "Timezone",
    "StartTime",
    "EndTime",
    "ScalableTargetAction",
)
_POLICY_FIELDS = (
    "PolicyName",
    "ServiceNamespace",
    "ResourceId",
    "ScalableDimension",
    "PolicyType",
    "StepScalingPolicyConfiguration",
    "TargetTrackingScalingPolicyConfiguration",
    "PredictiveScalingPolicyConfiguration",
)


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster.rsplit('/', 1)[-1]}/{service}"


@dataclass
class Scaling:
    """Scalable targets, scaling policies and scheduled actions as the request documents that
    recreate them. `scheduled` None: not known (rollback data written before Corral captured
    scheduled actions), so the live ones are left as they are."""

    targets: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)
    scheduled: list[dict[str, Any]] | None = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"targets": self.targets, "policies": self.policies, "scheduledActions": self.scheduled}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Scaling:
        data = data or {}
        scheduled = data.get("scheduledActions")
        return cls(
            list(data.get("targets", [])),
            list(data.get("policies", [])),
            None if scheduled is None else list(scheduled),
        )

    def empty(self) -> bool:
        return not self.targets and not self.policies and not self.scheduled


def _pick(item: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: _plain(item[k]) for k in names if item.get(k) is not None}


def _plain(value: Any) -> Any:
    """Timestamps as ISO 8601 text (boto3 takes them so), for rollback data kept as JSON."""
    return value.isoformat() if isinstance(value, dt.datetime) else value


def capture(ctx: StepContext, cluster: str, service: str) -> Scaling:
    client = ctx.clients.autoscaling
    rid = resource_id(cluster, service)
    targets = client.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=[rid])[
        "ScalableTargets"
    ]
    policies = client.describe_scaling_policies(ServiceNamespace=NAMESPACE, ResourceId=rid)["ScalingPolicies"]
    scheduled = client.describe_scheduled_actions(ServiceNamespace=NAMESPACE, ResourceId=rid)[
        "ScheduledActions"
    ]
    return Scaling(
        [_pick(t, _TARGET_FIELDS) for t in targets],
        [_pick(p, _POLICY_FIELDS) for p in policies],
        [_pick(a, _SCHEDULED_FIELDS) for a in scheduled],
    )


def remove(ctx: StepContext, cluster: str, service: str) -> None:
    """Delete every scaling policy, then deregister every scalable target of the service."""
    live = capture(ctx, cluster, service)
    if not live.policies:
        ctx.log.info(f"Didn't find any Scaling Policies attached to service {service}")
    if not live.targets:
        ctx.log.info(f"Didn't find any Scalable Targets on service {service}")
    _converge(ctx, Scaling(), live, cluster, service)


def attach(ctx: StepContext, scaling: Scaling, cluster: str, service: str) -> None:
    """Register targets then put policies, with resourceId forced to this service."""
    client = ctx.clients.autoscaling
    rid = resource_id(cluster, service)
    for target in scaling.targets:
        request = {"ServiceNamespace": NAMESPACE, "ScalableDimension": DIMENSION, **target, "ResourceId": rid}
        client.register_scalable_target(**request)
        ctx.log.info(
            f"Registered scalable target {rid} ({request.get('MinCapacity')}-{request.get('MaxCapacity')})"
        )
    for policy in scaling.policies:
        request = {"ServiceNamespace": NAMESPACE, "ScalableDimension": DIMENSION, **policy, "ResourceId": rid}
        client.put_scaling_policy(**request)
        ctx.log.info(f"Attached scaling policy {request['PolicyName']} to {rid}")
    for action in scaling.scheduled or []:
        request = {"ServiceNamespace": NAMESPACE, "ScalableDimension": DIMENSION, **action, "ResourceId": rid}
        client.put_scheduled_action(**request)
        ctx.log.info(
            f"Put scheduled action {request['ScheduledActionName']} ({request.get('Schedule')}) on {rid}"
        )


def replace(ctx: StepContext, manifests: Scaling, cluster: str, service: str) -> None:
    """Make the service's autoscaling what the manifests say; no manifests: leave it alone."""
    if manifests.empty():
        ctx.log.info("The service has no scaling manifests; its live autoscaling is left as it is")
        return
    restore(ctx, manifests, cluster, service)


def restore(ctx: StepContext, wanted: Scaling, cluster: str, service: str) -> None:
    """Make the service's autoscaling exactly `wanted` (empty: none at all); no calls when it already is.

    Targets and policies are put first and what `wanted` no longer names is removed after, so the
    service is never left without autoscaling in between.
    """
    live = capture(ctx, cluster, service)
    if matches(live, wanted, cluster, service):
        ctx.log.info(f"The autoscaling of service {service} is already as wanted")
        return
    _converge(ctx, wanted, live, cluster, service)


def matches(live: Scaling, wanted: Scaling, cluster: str, service: str) -> bool:
    """Whether live targets and policies are those of `wanted` (defaults AWS adds do not count)."""
    from .service_requests import contains

    rid = resource_id(cluster, service)

    def full(item: dict[str, Any]) -> dict[str, Any]:
        return {"ServiceNamespace": NAMESPACE, "ScalableDimension": DIMENSION, **item, "ResourceId": rid}

    if len(live.targets) != len(wanted.targets) or len(live.policies) != len(wanted.policies):
        return False
    live_targets = {t["ScalableDimension"]: t for t in live.targets}
    live_policies = {p["PolicyName"]: p for p in live.policies}
    return (
        all(contains(live_targets.get(full(t)["ScalableDimension"]), full(t)) for t in wanted.targets)
        and all(contains(live_policies.get(p["PolicyName"]), full(p)) for p in wanted.policies)
        and _same_scheduled(live.scheduled or [], wanted.scheduled, full)
    )


def _same_scheduled(live: list[dict[str, Any]], wanted: list[dict[str, Any]] | None, full: Any) -> bool:
    """Whether the live scheduled actions are exactly the wanted ones (None: not compared).
    PutScheduledAction replaces an action whole, so every member counts, times as instants."""
    if wanted is None:
        return True
    by_name = {a["ScheduledActionName"]: _instants(a) for a in live}
    return len(live) == len(wanted) and all(
        by_name.get(a["ScheduledActionName"]) == _instants(full(a)) for a in wanted
    )


def _instants(action: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in action.items() if k in _SCHEDULED_FIELDS and v is not None}
    for key in ("StartTime", "EndTime"):
        if key in out:
            out[key] = _instant(out[key])
    return out


def _instant(value: Any) -> float:
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, int | float):
        return float(value)
    else:
        moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)  # boto3 reads a naive time as UTC
    return moment.timestamp()


def _converge(ctx: StepContext, wanted: Scaling, live: Scaling, cluster: str, service: str) -> None:
    wanted_types = {p["PolicyName"]: p.get("PolicyType") for p in wanted.policies}
    # PutScalingPolicy updates a policy in place but does not change its type: delete those first
    retyped = [
        p
        for p in live.policies
        if p["PolicyName"] in wanted_types
        and wanted_types[p["PolicyName"]] not in (None, p.get("PolicyType"))
    ]
    removed = [p for p in live.policies if p["PolicyName"] not in wanted_types]
    dimensions = {t.get("ScalableDimension", DIMENSION) for t in wanted.targets}
    stale_targets = [t for t in live.targets if t["ScalableDimension"] not in dimensions]
    _delete_policies(ctx, retyped, service)
    if wanted.scheduled is not None:
        # PutScheduledAction keeps a Timezone it is not given: an action that must lose it goes first
        zoned = {a["ScheduledActionName"] for a in wanted.scheduled if a.get("Timezone")}
        names = {a["ScheduledActionName"] for a in wanted.scheduled}
        _delete_scheduled(
            ctx,
            [
                a
                for a in live.scheduled or []
                if a.get("Timezone") and a["ScheduledActionName"] in names - zoned
            ],
        )
    attach(ctx, wanted, cluster, service)
    _delete_policies(ctx, removed, service)
    if wanted.scheduled is not None:
        wanted_names = {a["ScheduledActionName"] for a in wanted.scheduled}
        _delete_scheduled(
            ctx, [a for a in live.scheduled or [] if a["ScheduledActionName"] not in wanted_names]
        )
    if stale_targets:
        ctx.log.info(f"Deregistering Scalable Targets from service {service}..")
    for target in stale_targets:
        _removing(
            ctx,
            f"scalable target {target['ResourceId']}",
            ctx.clients.autoscaling.deregister_scalable_target,
            ServiceNamespace=NAMESPACE,
            ResourceId=target["ResourceId"],
            ScalableDimension=target["ScalableDimension"],
        )
        ctx.log.info(f"Deregistered scalable target {target['ResourceId']}")


def _removing(ctx: StepContext, what: str, call: Any, **request: Any) -> None:
    """A delete or deregister that also holds when the item is already gone: the answer to an
    earlier try may have been lost after Application Auto Scaling acted on it (the retry then
    gets ObjectNotFoundException, which these three operations return for a missing item)."""
    from botocore.exceptions import ClientError

    try:
        call(**request)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ObjectNotFoundException":
            raise
        ctx.log.info(f"{what} is already gone")


def _delete_scheduled(ctx: StepContext, actions: list[dict[str, Any]]) -> None:
    for action in actions:
        _removing(
            ctx,
            f"scheduled action {action['ScheduledActionName']}",
            ctx.clients.autoscaling.delete_scheduled_action,
            ServiceNamespace=NAMESPACE,
            ScheduledActionName=action["ScheduledActionName"],
            ResourceId=action["ResourceId"],
            ScalableDimension=action["ScalableDimension"],
        )
        ctx.log.info(f"Deleted scheduled action {action['ScheduledActionName']}")


def _delete_policies(ctx: StepContext, policies: list[dict[str, Any]], service: str) -> None:
    if policies:
        ctx.log.info(f"Deleting Scaling Policies from service {service}..")
    for policy in policies:
        _removing(
            ctx,
            f"scaling policy {policy['PolicyName']}",
            ctx.clients.autoscaling.delete_scaling_policy,
            PolicyName=policy["PolicyName"],
            ServiceNamespace=NAMESPACE,
            ResourceId=policy["ResourceId"],
            ScalableDimension=policy["ScalableDimension"],
        )
        ctx.log.info(f"Deleted scaling policy {policy['PolicyName']}")
