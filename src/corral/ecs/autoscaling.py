"""Application Auto Scaling for an ECS service: capture, remove and attach.

The reference strips a service's autoscaling on every update, so a service whose manifests have
no scaling definitions silently loses it. Corral replaces live autoscaling only when the service
has scalable target or scaling policy manifests; otherwise it leaves the live state as it is.
"""

from __future__ import annotations

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
    """Scalable targets and scaling policies as the request documents that recreate them."""

    targets: list[dict[str, Any]] = field(default_factory=list)
    policies: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"targets": self.targets, "policies": self.policies}

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> Scaling:
        data = data or {}
        return cls(list(data.get("targets", [])), list(data.get("policies", [])))

    def empty(self) -> bool:
        return not self.targets and not self.policies


def _pick(item: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {k: item[k] for k in names if item.get(k) is not None}


def capture(ctx: StepContext, cluster: str, service: str) -> Scaling:
    client = ctx.clients.autoscaling
    rid = resource_id(cluster, service)
    targets = client.describe_scalable_targets(ServiceNamespace=NAMESPACE, ResourceIds=[rid])[
        "ScalableTargets"
    ]
    policies = client.describe_scaling_policies(ServiceNamespace=NAMESPACE, ResourceId=rid)["ScalingPolicies"]
    return Scaling([_pick(t, _TARGET_FIELDS) for t in targets], [_pick(p, _POLICY_FIELDS) for p in policies])


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
    return all(
        contains(live_targets.get(full(t)["ScalableDimension"]), full(t)) for t in wanted.targets
    ) and all(contains(live_policies.get(p["PolicyName"]), full(p)) for p in wanted.policies)


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
    attach(ctx, wanted, cluster, service)
    _delete_policies(ctx, removed, service)
    if stale_targets:
        ctx.log.info(f"Deregistering Scalable Targets from service {service}..")
    for target in stale_targets:
        ctx.clients.autoscaling.deregister_scalable_target(
            ServiceNamespace=NAMESPACE,
            ResourceId=target["ResourceId"],
            ScalableDimension=target["ScalableDimension"],
        )
        ctx.log.info(f"Deregistered scalable target {target['ResourceId']}")


def _delete_policies(ctx: StepContext, policies: list[dict[str, Any]], service: str) -> None:
    if policies:
        ctx.log.info(f"Deleting Scaling Policies from service {service}..")
    for policy in policies:
        ctx.clients.autoscaling.delete_scaling_policy(
            PolicyName=policy["PolicyName"],
            ServiceNamespace=NAMESPACE,
            ResourceId=policy["ResourceId"],
            ScalableDimension=policy["ScalableDimension"],
        )
        ctx.log.info(f"Deleted scaling policy {policy['PolicyName']}")
