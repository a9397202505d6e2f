"""Where load balancer traffic goes: listener → rules → target groups (weights, health) → services.

    routes = read_routes(clients.elbv2, {tg_arn: ["web__1"], ...}, roles={prod_rule_arn: "production"})

Read calls only: DescribeTargetGroups (their load balancers), DescribeListeners and DescribeRules
of each of those load balancers, DescribeTargetHealth of each target group. A rule is kept when
its forward action names one of the target groups; the weights are ELBv2's (0-999) and `percent`
each group's share of the rule's traffic. The status model and the UI's traffic picture read
routes through here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from corral.ecs.listeners import forward_weights, short_arn

from .model import Route, RouteTarget


def read_routes(
    elbv2: Any,
    groups: Mapping[str, list[str]],
    *,
    roles: Mapping[str, str] | None = None,
) -> list[Route]:
    """The listener rules forwarding to any of `groups` (target group ARN -> services registered in
    it); `roles` names what some rules are for (rule ARN -> production, test, stage)."""
    if not groups:
        return []
    described = elbv2.describe_target_groups(TargetGroupArns=list(groups)).get("TargetGroups", [])
    balancers = sorted({arn for tg in described for arn in tg.get("LoadBalancerArns") or []})
    health: dict[str, tuple[int, int]] = {}
    routes: list[Route] = []
    for balancer in balancers:
        name = _load_balancer_name(balancer)
        listeners = elbv2.describe_listeners(LoadBalancerArn=balancer).get("Listeners", [])
        for listener in sorted(listeners, key=lambda item: item.get("Port", 0)):
            rules = elbv2.describe_rules(ListenerArn=listener["ListenerArn"]).get("Rules", [])
            for rule in rules:
                weights = forward_weights(rule.get("Actions") or [])
                if not any(arn in groups for arn in weights):
                    continue
                total = sum(weights.values())
                targets = []
                for arn, weight in weights.items():
                    if arn not in health:
                        health[arn] = _health(elbv2, arn)
                    healthy, count = health[arn]
                    targets.append(
                        RouteTarget(
                            arn=arn,
                            name=short_arn(arn),
                            weight=weight,
                            percent=round(100 * weight / total) if total else 0,
                            healthy=healthy,
                            total=count,
                            services=list(groups.get(arn, [])),
                        )
                    )
                routes.append(
                    Route(
                        load_balancer=name,
                        listener_arn=listener["ListenerArn"],
                        listener=f"{listener.get('Protocol', '')}:{listener.get('Port', '')}",
                        rule_arn=rule["RuleArn"],
                        rule=rule_label(rule),
                        role=(roles or {}).get(rule["RuleArn"]),
                        targets=targets,
                    )
                )
    return routes


def rule_label(rule: dict[str, Any]) -> str:
    """`default rule`, or the rule's priority and conditions as a person reads them."""
    if rule.get("IsDefault"):
        return "default rule"
    conditions = []
    for condition in rule.get("Conditions") or []:
        values = list(condition.get("Values") or [])
        for key in ("PathPatternConfig", "HostHeaderConfig"):
            values = values or list((condition.get(key) or {}).get("Values") or [])
        conditions.append(f"{condition.get('Field', '')} {', '.join(values)}".strip())
    return f"priority {rule.get('Priority', '?')}: {'; '.join(conditions) or 'no condition'}"


def _health(elbv2: Any, arn: str) -> tuple[int, int]:
    """(healthy targets, all targets but those draining away)."""
    found = elbv2.describe_target_health(TargetGroupArn=arn).get("TargetHealthDescriptions", [])
    states = [(item.get("TargetHealth") or {}).get("State") for item in found]
    return states.count("healthy"), len([s for s in states if s not in ("draining", "unused")])


def _load_balancer_name(arn: str) -> str:
    """`arn:...:loadbalancer/app/web/50dc6c495c0c9188` -> `web`."""
    parts = arn.split(":")[-1].split("/")
    return parts[2] if len(parts) > 3 else arn
