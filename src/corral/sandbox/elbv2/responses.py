"""Thin handlers: read the parsed parameters, call the backend, shape the result."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import tagging
from .backend import Backend
from .exceptions import ValidationError

Params = dict[str, Any]
Handler = Callable[[Backend, Params], dict[str, Any]]


def paginate(items: list[Any], params: Params) -> tuple[list[Any], str | None]:
    """Marker/PageSize paging; the marker is the index of the next item."""
    size = params.get("PageSize", 400)
    if not 1 <= size <= 400:
        raise ValidationError("PageSize must be between 1 and 400")
    marker = params.get("Marker")
    try:
        start = int(marker) if marker else 0
    except ValueError as exc:
        raise ValidationError(f"Invalid marker '{marker}'") from exc
    page = items[start : start + size]
    return page, str(start + size) if start + size < len(items) else None


# ---------------------------------------------------------------- load balancers


def create_load_balancer(backend: Backend, params: Params) -> dict[str, Any]:
    lb = backend.load_balancers.create(params)
    # AWS answers `provisioning`; the sandbox provisions at once, so the next describe says `active`
    return {"LoadBalancers": [lb.to_api(state="provisioning")]}


def describe_load_balancers(backend: Backend, params: Params) -> dict[str, Any]:
    page, marker = paginate(backend.load_balancers.describe(params), params)
    return {"LoadBalancers": [lb.to_api() for lb in page], "NextMarker": marker}


def delete_load_balancer(backend: Backend, params: Params) -> dict[str, Any]:
    backend.load_balancers.delete(params["LoadBalancerArn"])
    return {}


def describe_load_balancer_attributes(backend: Backend, params: Params) -> dict[str, Any]:
    return {"Attributes": backend.load_balancers.get(params["LoadBalancerArn"]).describe_attributes()}


def modify_load_balancer_attributes(backend: Backend, params: Params) -> dict[str, Any]:
    lb = backend.load_balancers.get(params["LoadBalancerArn"])
    lb.modify_attributes(params["Attributes"])
    return {"Attributes": lb.describe_attributes()}


# ---------------------------------------------------------------- listeners


def create_listener(backend: Backend, params: Params) -> dict[str, Any]:
    return {"Listeners": [backend.listeners.create_listener(params).to_api()]}


def describe_listeners(backend: Backend, params: Params) -> dict[str, Any]:
    page, marker = paginate(backend.listeners.describe_listeners(params), params)
    return {"Listeners": [lsn.to_api() for lsn in page], "NextMarker": marker}


def modify_listener(backend: Backend, params: Params) -> dict[str, Any]:
    return {"Listeners": [backend.listeners.modify_listener(params).to_api()]}


def delete_listener(backend: Backend, params: Params) -> dict[str, Any]:
    backend.listeners.delete_listener(params["ListenerArn"])
    return {}


# ---------------------------------------------------------------- rules


def create_rule(backend: Backend, params: Params) -> dict[str, Any]:
    rule = backend.listeners.create_rule(params)
    return {"Rules": [backend.listeners.rule_to_api(rule)]}


def describe_rules(backend: Backend, params: Params) -> dict[str, Any]:
    page, marker = paginate(backend.listeners.describe_rules(params), params)
    return {"Rules": [backend.listeners.rule_to_api(r) for r in page], "NextMarker": marker}


def modify_rule(backend: Backend, params: Params) -> dict[str, Any]:
    rule = backend.listeners.modify_rule(params)
    return {"Rules": [backend.listeners.rule_to_api(rule)]}


def set_rule_priorities(backend: Backend, params: Params) -> dict[str, Any]:
    rules = backend.listeners.set_rule_priorities(params["RulePriorities"])
    return {"Rules": [backend.listeners.rule_to_api(r) for r in rules]}


def delete_rule(backend: Backend, params: Params) -> dict[str, Any]:
    backend.listeners.delete_rule(params["RuleArn"])
    return {}


# ---------------------------------------------------------------- target groups


def create_target_group(backend: Backend, params: Params) -> dict[str, Any]:
    return {"TargetGroups": [backend.create_target_group(params).to_api()]}


def describe_target_groups(backend: Backend, params: Params) -> dict[str, Any]:
    page, marker = paginate(backend.describe_target_groups(params), params)
    return {"TargetGroups": [g.to_api() for g in page], "NextMarker": marker}


def modify_target_group(backend: Backend, params: Params) -> dict[str, Any]:
    return {"TargetGroups": [backend.modify_target_group(params).to_api()]}


def delete_target_group(backend: Backend, params: Params) -> dict[str, Any]:
    backend.delete_target_group(params["TargetGroupArn"])
    return {}


def describe_target_group_attributes(backend: Backend, params: Params) -> dict[str, Any]:
    return {"Attributes": backend.target_group(params["TargetGroupArn"]).describe_attributes()}


def modify_target_group_attributes(backend: Backend, params: Params) -> dict[str, Any]:
    group = backend.target_group(params["TargetGroupArn"])
    group.modify_attributes(params["Attributes"])
    return {"Attributes": group.describe_attributes()}


# ---------------------------------------------------------------- targets


def register_targets(backend: Backend, params: Params) -> dict[str, Any]:
    backend.register_targets(params["TargetGroupArn"], params["Targets"])
    return {}


def deregister_targets(backend: Backend, params: Params) -> dict[str, Any]:
    backend.deregister_targets(params["TargetGroupArn"], params["Targets"])
    return {}


def describe_target_health(backend: Backend, params: Params) -> dict[str, Any]:
    found = backend.describe_target_health(params["TargetGroupArn"], params.get("Targets"))
    return {"TargetHealthDescriptions": found}


# ---------------------------------------------------------------- tags


def add_tags(backend: Backend, params: Params) -> dict[str, Any]:
    tagging.add_tags(backend, params["ResourceArns"], params["Tags"])
    return {}


def remove_tags(backend: Backend, params: Params) -> dict[str, Any]:
    tagging.remove_tags(backend, params["ResourceArns"], params["TagKeys"])
    return {}


def describe_tags(backend: Backend, params: Params) -> dict[str, Any]:
    return {"TagDescriptions": tagging.describe_tags(backend, params["ResourceArns"])}


OPERATIONS: dict[str, Handler] = {
    "CreateLoadBalancer": create_load_balancer,
    "DescribeLoadBalancers": describe_load_balancers,
    "DeleteLoadBalancer": delete_load_balancer,
    "DescribeLoadBalancerAttributes": describe_load_balancer_attributes,
    "ModifyLoadBalancerAttributes": modify_load_balancer_attributes,
    "CreateListener": create_listener,
    "DescribeListeners": describe_listeners,
    "ModifyListener": modify_listener,
    "DeleteListener": delete_listener,
    "CreateRule": create_rule,
    "DescribeRules": describe_rules,
    "ModifyRule": modify_rule,
    "SetRulePriorities": set_rule_priorities,
    "DeleteRule": delete_rule,
    "CreateTargetGroup": create_target_group,
    "DescribeTargetGroups": describe_target_groups,
    "ModifyTargetGroup": modify_target_group,
    "DeleteTargetGroup": delete_target_group,
    "DescribeTargetGroupAttributes": describe_target_group_attributes,
    "ModifyTargetGroupAttributes": modify_target_group_attributes,
    "RegisterTargets": register_targets,
    "DeregisterTargets": deregister_targets,
    "DescribeTargetHealth": describe_target_health,
    "AddTags": add_tags,
    "RemoveTags": remove_tags,
    "DescribeTags": describe_tags,
}
