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
    client = ctx.clients.autoscaling
    live = capture(ctx, cluster, service)
    for policy in live.policies:
        client.delete_scaling_policy(
            PolicyName=policy["PolicyName"],
            ServiceNamespace=NAMESPACE,
            ResourceId=policy["ResourceId"],
            ScalableDimension=policy["ScalableDimension"],
        )
        ctx.log.info(f"Deleted scaling policy {policy['PolicyName']}")
    for target in live.targets:
        client.deregister_scalable_target(
            ServiceNamespace=NAMESPACE,
            ResourceId=target["ResourceId"],
            ScalableDimension=target["ScalableDimension"],
        )
        ctx.log.info(f"Deregistered scalable target {target['ResourceId']}")


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
    remove(ctx, cluster, service)
    attach(ctx, manifests, cluster, service)
