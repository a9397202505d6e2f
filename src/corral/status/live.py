"""What AWS says about one ECS service now (read calls only).

    state = read_live(clients, cluster="corral-demo", service_name="demo-bg", rule_roles={arn: "production"})

The service is looked up under its own name and, for Harness blue green, as the `<name>__1` /
`<name>__2` pair (BLUE / GREEN by their `BG_VERSION` tag). For each ECS service found: its
revision (task definition) and images, running / desired / pending tasks, the deployments
DescribeServices lists with their rolloutState, the newest service deployment when ECS runs
its own blue/green, linear or canary strategy, its target groups and their roles, and its
Application Auto Scaling range. Then the listener rules that forward to those target groups
(traffic.read_routes), so a reader sees which service production traffic reaches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from corral.ecs.autoscaling import DIMENSION, NAMESPACE, resource_id
from corral.ecs.bluegreen.layout import pair_names, version_tag
from corral.ecs.listeners import short_arn
from corral.ecs.native.steering import list_deployments

from .model import (
    EcsDeployment,
    LiveService,
    LiveState,
    Route,
    ServiceDeployment,
    TargetGroupUse,
    TaskCounts,
    family_revision,
)
from .traffic import read_routes

NATIVE_STRATEGIES = ("BLUE_GREEN", "LINEAR", "CANARY")
_KINDS = {"BLUE_GREEN": "ECS blue/green", "LINEAR": "ECS linear", "CANARY": "ECS canary"}


def read_live(
    clients: Any, *, cluster: str, service_name: str, rule_roles: Mapping[str, str] | None = None
) -> LiveState:
    """The service (or its blue green pair) as AWS describes it; `rule_roles`: listener rule ARN ->
    production / stage, as the last blue green deployment used them."""
    ecs = clients.ecs
    names = [service_name, *pair_names(service_name)]
    answer = ecs.describe_services(cluster=cluster, services=names, include=["TAGS"])
    found = {s["serviceName"]: s for s in answer.get("services", []) if s.get("status") != "INACTIVE"}
    pair = [found[n] for n in pair_names(service_name) if n in found]
    described = pair if pair else ([found[service_name]] if service_name in found else [])
    if not described:
        return LiveState(exists=False, kind="missing", services=[], routes=[])
    roles = dict(rule_roles or {})
    for service in described:
        roles |= _native_rule_roles(service)
    images = _images(ecs, {s["taskDefinition"] for s in described if s.get("taskDefinition")})
    scaling = _scaling(clients.autoscaling, cluster, [s["serviceName"] for s in described])
    groups = {arn: [] for s in described for arn in _target_groups(s)}  # type: dict[str, list[str]]
    for service in described:
        for arn in _target_groups(service):
            groups[arn].append(service["serviceName"])
    routes = read_routes(clients.elbv2, groups, roles=roles)
    services = [
        _service(ecs, cluster, s, images, scaling.get(s["serviceName"]), routes, is_pair=bool(pair))
        for s in described
    ]
    services.sort(key=lambda s: (s.role != "BLUE", s.name))  # the live one first
    strategy = services[0].strategy
    kind = "blue green" if pair else _KINDS.get(strategy or "", "rolling")
    if services[0].controller != "ECS":
        kind = {"CODE_DEPLOY": "CodeDeploy", "EXTERNAL": "external (task sets)"}.get(
            services[0].controller, services[0].controller
        )
    return LiveState(exists=True, kind=kind, services=services, routes=routes)


def _service(
    ecs: Any,
    cluster: str,
    service: dict[str, Any],
    images: Mapping[str, list[str]],
    scaling: dict[str, int] | None,
    routes: list[Route],
    *,
    is_pair: bool,
) -> LiveService:
    controller = str((service.get("deploymentController") or {}).get("type") or "ECS")
    strategy = (service.get("deploymentConfiguration") or {}).get("strategy")
    native = None
    if controller == "ECS" and strategy in NATIVE_STRATEGIES:
        newest = list_deployments(ecs, cluster, service["serviceName"], limit=1)
        native = _service_deployment(newest[0], strategy) if newest else None
    groups = _target_groups(service)
    uses = [TargetGroupUse(arn, short_arn(arn), _group_role(arn, routes)) for arn in groups]
    production = [r for r in routes if r.role == "production"]
    serves = None
    if groups and production:
        serves = any(t.arn in groups and t.weight > 0 for r in production for t in r.targets)
    return LiveService(
        name=service["serviceName"],
        status=str(service.get("status", "")),
        role=version_tag(service) if is_pair else None,
        serves_production=serves,
        task_definition=family_revision(service.get("taskDefinition")),
        images=images.get(service.get("taskDefinition") or "", []),
        counts=_counts(service),
        deployments=[
            EcsDeployment(
                id=str(d.get("id", "")),
                status=str(d.get("status", "")),
                rollout_state=d.get("rolloutState"),
                task_definition=family_revision(d.get("taskDefinition")) or "",
                counts=_counts(d),
            )
            for d in service.get("deployments") or []
        ],
        controller=controller,
        strategy=strategy,
        service_deployment=native,
        target_groups=uses,
        autoscaling=scaling,
    )


def _counts(item: Mapping[str, Any]) -> TaskCounts:
    return TaskCounts(
        running=int(item.get("runningCount") or 0),
        desired=int(item.get("desiredCount") or 0),
        pending=int(item.get("pendingCount") or 0),
    )


def _target_groups(service: Mapping[str, Any]) -> list[str]:
    """The target groups the service registers tasks in, ECS's alternate (blue/green) one included."""
    found: list[str] = []
    for balancer in service.get("loadBalancers") or []:
        advanced = balancer.get("advancedConfiguration") or {}
        for arn in (balancer.get("targetGroupArn"), advanced.get("alternateTargetGroupArn")):
            if arn and arn not in found:
                found.append(arn)
    return found


def _native_rule_roles(service: Mapping[str, Any]) -> dict[str, str]:
    """ECS blue/green's own rules: advancedConfiguration.productionListenerRule / testListenerRule."""
    roles = {}
    for balancer in service.get("loadBalancers") or []:
        advanced = balancer.get("advancedConfiguration") or {}
        for key, role in (("productionListenerRule", "production"), ("testListenerRule", "test")):
            if advanced.get(key):
                roles[str(advanced[key])] = role
    return roles


def _group_role(arn: str, routes: list[Route]) -> str | None:
    """production when a production rule sends it traffic; else test / stage likewise."""
    for role in ("production", "test", "stage"):
        if any(r.role == role and any(t.arn == arn and t.weight > 0 for t in r.targets) for r in routes):
            return role
    return None


def _service_deployment(described: Mapping[str, Any], strategy: str | None) -> ServiceDeployment:
    target = described.get("targetServiceRevision") or {}
    return ServiceDeployment(
        arn=str(described.get("serviceDeploymentArn", "")),
        status=str(described.get("status", "")),
        lifecycle_stage=described.get("lifecycleStage"),
        strategy=(described.get("deploymentConfiguration") or {}).get("strategy") or strategy,
        target_revision=str(target.get("arn", "")).rsplit("/", 1)[-1] or None,
    )


def _images(ecs: Any, arns: set[str]) -> dict[str, list[str]]:
    out = {}
    for arn in sorted(arns):
        definition = ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]
        out[arn] = [str(c.get("image", "")) for c in definition.get("containerDefinitions") or []]
    return out


def _scaling(autoscaling: Any, cluster: str, names: list[str]) -> dict[str, dict[str, int]]:
    """Each service's scalable target range (DescribeScalableTargets, one call for all)."""
    ids = {resource_id(cluster, name): name for name in names}
    answer = autoscaling.describe_scalable_targets(
        ServiceNamespace=NAMESPACE, ResourceIds=list(ids), ScalableDimension=DIMENSION
    )
    return {
        ids[t["ResourceId"]]: {"min": int(t["MinCapacity"]), "max": int(t["MaxCapacity"])}
        for t in answer.get("ScalableTargets", [])
        if t.get("ResourceId") in ids
    }
