"""Where traffic goes now, for the services a deployment touched, as AWS says it:
load balancer -> listener -> rules -> target groups (weight, healthy / total targets) -> services.

Read top down from the services (DescribeServices): their target groups (`loadBalancers[]`,
ECS blue/green's `advancedConfiguration.alternateTargetGroupArn`), the load balancers those
belong to (DescribeTargetGroups), every listener and rule there (DescribeListeners,
DescribeRules) whose forward action names one of them, and the health of each target group a
kept rule forwards to (DescribeTargetHealth). A forward action's weights are shares of the
traffic (ELBv2's `ForwardConfig.TargetGroups[].Weight`; a plain `TargetGroupArn` is all of it).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from corral.ecs.listeners import forward_weights, shares, short_arn
from corral.server.routes_ui import _rule_label  # the run form's label of the same rule

MAX_DESCRIBE_SERVICES = 10  # DescribeServices takes at most 10 services per call
MAX_DESCRIBE_TARGET_GROUPS = 20  # DescribeTargetGroups: at most 20 ARNs per call
BG_TAG = "BG_VERSION"  # the Blue Green flow's role tag (ecs/bluegreen/layout.py)


def traffic_picture(clients: Any, *, cluster: str, services: Iterable[str]) -> dict[str, Any]:
    """{"services": [...], "load_balancers": [{"name", "listeners": [{"rules": [{"targets": [...]}]}]}]}"""
    described = _services(clients.client("ecs"), cluster, sorted(set(services)))
    elb = clients.client("elbv2")
    serving: dict[str, list[dict[str, str]]] = {}  # target group ARN -> [{service, role}]
    for service in described:
        for arn, role in _service_groups(service):
            serving.setdefault(arn, []).append({"service": service["serviceName"], "role": role})
    groups = _target_groups(elb, list(serving))
    balancers = []
    for lb_arn in sorted({lb for g in groups.values() for lb in g.get("LoadBalancerArns", [])}):
        listeners = _listeners(elb, lb_arn, set(serving))
        if listeners:
            balancers.append({"arn": lb_arn, "name": _lb_name(lb_arn), "listeners": listeners})
    targets = [t for b in balancers for li in b["listeners"] for r in li["rules"] for t in r["targets"]]
    shown = {t["arn"] for t in targets}
    groups |= _target_groups(elb, [arn for arn in shown if arn not in groups])
    health = {arn: _health(elb, arn) for arn in shown}
    for target in targets:
        arn = target["arn"]
        target["name"] = groups.get(arn, {}).get("TargetGroupName") or short_arn(arn)
        target.update(health[arn])
        target["services"] = serving.get(arn, [])
    return {
        "cluster": cluster,
        "services": [_service_view(s) for s in described],
        "load_balancers": balancers,
    }


def _services(ecs: Any, cluster: str, names: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for start in range(0, len(names), MAX_DESCRIBE_SERVICES):
        batch = names[start : start + MAX_DESCRIBE_SERVICES]
        answer = ecs.describe_services(cluster=cluster, services=batch, include=["TAGS"])
        found += [s for s in answer.get("services", []) if s.get("status") != "INACTIVE"]
    return found


def _service_groups(service: dict[str, Any]) -> list[tuple[str, str]]:
    """(target group ARN, role) of each load balancer entry: `primary`, or `alternate` for ECS
    blue/green's second target group."""
    out = []
    for entry in service.get("loadBalancers") or []:
        if entry.get("targetGroupArn"):
            out.append((entry["targetGroupArn"], "primary"))
        alternate = (entry.get("advancedConfiguration") or {}).get("alternateTargetGroupArn")
        if alternate:
            out.append((alternate, "alternate"))
    return out


def _service_view(service: dict[str, Any]) -> dict[str, Any]:
    tags = {t.get("key"): t.get("value") for t in service.get("tags") or []}
    primary = next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), {})
    return {
        "name": service["serviceName"],
        "status": service.get("status"),
        "running": service.get("runningCount", 0),
        "desired": service.get("desiredCount", 0),
        "pending": service.get("pendingCount", 0),
        "task_definition": (service.get("taskDefinition") or "").rsplit("/", 1)[-1],
        "rollout": primary.get("rolloutState"),
        "bg_role": tags.get(BG_TAG),
        "strategy": (service.get("deploymentConfiguration") or {}).get("strategy"),
    }


def _target_groups(elb: Any, arns: list[str]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(arns), MAX_DESCRIBE_TARGET_GROUPS):
        batch = arns[start : start + MAX_DESCRIBE_TARGET_GROUPS]
        for group in elb.describe_target_groups(TargetGroupArns=batch).get("TargetGroups", []):
            found[group["TargetGroupArn"]] = group
    return found


def _listeners(elb: Any, lb_arn: str, ours: set[str]) -> list[dict[str, Any]]:
    """The load balancer's listeners that forward to one of `ours`, with only those rules."""
    out = []
    for listener in elb.describe_listeners(LoadBalancerArn=lb_arn).get("Listeners", []):
        rules = []
        for rule in elb.describe_rules(ListenerArn=listener["ListenerArn"]).get("Rules", []):
            weights = forward_weights(rule.get("Actions") or [])
            if not ours.intersection(weights):
                continue
            percent = shares(weights)
            rules.append(
                {
                    "arn": rule["RuleArn"],
                    "label": _rule_label(rule),
                    "is_default": bool(rule.get("IsDefault")),
                    "targets": [
                        {"arn": arn, "weight": weight, "percent": round(percent[arn] * 100, 1)}
                        for arn, weight in weights.items()
                    ],
                }
            )
        if rules:
            out.append(
                {
                    "arn": listener["ListenerArn"],
                    "label": f"{listener.get('Protocol', '')}:{listener.get('Port', '')}",
                    "rules": rules,
                }
            )
    return sorted(out, key=lambda item: item["label"])


def _health(elb: Any, arn: str) -> dict[str, int]:
    targets = elb.describe_target_health(TargetGroupArn=arn).get("TargetHealthDescriptions", [])
    healthy = sum(1 for t in targets if (t.get("TargetHealth") or {}).get("State") == "healthy")
    return {"healthy": healthy, "total": len(targets)}


def _lb_name(arn: str) -> str:
    # arn:aws:elasticloadbalancing:region:account:loadbalancer/app/NAME/ID
    parts = arn.split("/")
    return parts[-2] if len(parts) >= 3 else arn
