"""The load balancer side of an ECS-native strategy, checked with the account's answers (read
calls only: DescribeRules, DescribeListeners, DescribeTargetGroups); `corral plan` runs it.

What native_rules.py cannot see in the ARNs alone: each listener rule (ALB) or listener (NLB) of
an `advancedConfiguration` exists, each target group exists, and the service's target group and
the alternate one are on no load balancer other than the one the rules are on (ECS moves traffic
between the two on those rules; an ALB or NLB target group serves one load balancer).
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from corral.errors import Problem, format_path
from corral.manifests.native_rules import LISTENER_ARN, NATIVE_STRATEGIES, strategy_of

NOT_FOUND = {"RuleNotFound", "ListenerNotFound", "TargetGroupNotFound"}  # elbv2's error codes


def native_load_balancer_problems(elbv2: Any, service: dict[str, Any], source: str) -> list[Problem]:
    """Every problem AWS's answers show in the service's advancedConfiguration blocks."""
    if strategy_of(service) not in NATIVE_STRATEGIES:
        return []
    problems: list[Problem] = []
    for i, balancer in enumerate(service.get("loadBalancers") or []):
        advanced = balancer.get("advancedConfiguration") if isinstance(balancer, dict) else None
        if isinstance(advanced, dict):
            at: list[str | int] = ["loadBalancers", i]
            for path, message in _balancer_problems(elbv2, balancer, advanced):
                problems.append(Problem(source, format_path([*at, *path]), message))
    return problems


def _balancer_problems(
    elbv2: Any, balancer: dict[str, Any], advanced: dict[str, Any]
) -> list[tuple[list[str | int], str]]:
    found: list[tuple[list[str | int], str]] = []
    load_balancer = None
    for key in ("productionListenerRule", "testListenerRule"):
        arn = advanced.get(key)
        match = LISTENER_ARN.match(arn) if isinstance(arn, str) else None
        if not isinstance(arn, str) or match is None:
            continue  # not an ARN yet, or not one of these: native_rules.py says so
        missing = _missing(elbv2, arn, rule=match.group(3) == "listener-rule")
        if missing:
            found.append((["advancedConfiguration", key], missing))
        load_balancer = load_balancer or _load_balancer_arn(arn)
    groups: list[tuple[list[str | int], str, dict[str, Any]]] = [
        ([], "targetGroupArn", balancer),
        (["advancedConfiguration"], "alternateTargetGroupArn", advanced),
    ]
    for prefix, key, holder in groups:
        arn = holder.get(key)
        if not isinstance(arn, str) or not arn.startswith("arn:"):
            continue  # e.g. <+targetGroupArn>, filled in by the step
        try:
            group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") not in NOT_FOUND:
                raise
            found.append(([*prefix, key], f"no such target group in the account ({arn})"))
            continue
        attached = list(group.get("LoadBalancerArns") or [])
        if load_balancer and attached and load_balancer not in attached:
            found.append(
                (
                    [*prefix, key],
                    f"target group {group.get('TargetGroupName', arn)} is on load balancer "
                    f"{', '.join(attached)}, not on {load_balancer} where the listener rules are",
                )
            )
    return found


def _missing(elbv2: Any, arn: str, *, rule: bool) -> str | None:
    try:
        if rule:
            elbv2.describe_rules(RuleArns=[arn])
        else:
            elbv2.describe_listeners(ListenerArns=[arn])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in NOT_FOUND:
            raise
        return f"no such {'listener rule' if rule else 'listener'} in the account ({arn})"
    return None


def _load_balancer_arn(listener_or_rule_arn: str) -> str:
    """arn:...:listener-rule/app/NAME/ID/L/R (or listener/net/NAME/ID/L) -> arn:...:loadbalancer/app/NAME/ID."""
    head, resource = listener_or_rule_arn.split(":listener", 1)
    kind, name, lb_id = resource.split("/", 1)[1].split("/")[:3]
    return f"{head}:loadbalancer/{kind}/{name}/{lb_id}"
