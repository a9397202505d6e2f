"""Listener and rule actions: validation and the normal form ELBv2 answers with.

A forward action is returned the way AWS returns it: `ForwardConfig` always present (each
group with its `Weight`, `TargetGroupStickinessConfig` with `Enabled`), and `TargetGroupArn`
as well when exactly one target group is forwarded to.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .exceptions import IncompatibleProtocols, InvalidLoadBalancerAction, TooManyActions, ValidationError
from .target_groups import ALB_PROTOCOLS, TargetGroup

TERMINAL = ("forward", "redirect", "fixed-response")
AUTHENTICATE = ("authenticate-oidc", "authenticate-cognito")
MAX_FORWARD_GROUPS = {"application": 5, "network": 1, "gateway": 1}
# NLB listener protocol -> target group protocols it can forward to
NLB_COMPATIBLE = {
    "TCP": ("TCP", "TCP_UDP"),
    "TLS": ("TLS", "TCP"),
    "UDP": ("UDP", "TCP_UDP"),
    "TCP_UDP": ("TCP_UDP",),
}
CONTENT_TYPES = ("text/plain", "text/css", "text/html", "application/javascript", "application/json")
REDIRECT_DEFAULTS = {
    "Protocol": "#{protocol}",
    "Port": "#{port}",
    "Host": "#{host}",
    "Path": "/#{path}",
    "Query": "#{query}",
}

Lookup = Callable[[str], TargetGroup]


def normalize_actions(
    actions: list[dict[str, Any]] | None, *, lb_type: str, listener_protocol: str | None, lookup: Lookup
) -> list[dict[str, Any]]:
    """Validated actions in the form DescribeListeners/DescribeRules return them, in order."""
    if not actions:
        raise ValidationError("At least one action must be specified")
    if len(actions) > 1 and any("Order" not in a for a in actions):
        raise ValidationError(
            "An order must be specified for each action when a rule has more than one action"
        )
    orders = [a["Order"] for a in actions if "Order" in a]
    if any(not 1 <= o <= 50000 for o in orders):
        raise ValidationError("Action order must be between 1 and 50000")
    if len(set(orders)) != len(orders):
        raise InvalidLoadBalancerAction("Each action must have a unique order")
    ordered = sorted(actions, key=lambda a: a.get("Order", 0))
    terminal = [a for a in ordered if a.get("Type") in TERMINAL]
    if len(terminal) > 1:
        raise TooManyActions("A rule can have only one forward, redirect or fixed-response action")
    if not terminal or ordered[-1] is not terminal[0]:
        raise InvalidLoadBalancerAction(
            "The last action must be a forward, redirect or fixed-response action"
        )
    return [_normalize(a, lb_type, listener_protocol, lookup) for a in ordered]


def _normalize(
    action: dict[str, Any], lb_type: str, listener_protocol: str | None, lookup: Lookup
) -> dict[str, Any]:
    kind = action.get("Type")
    if lb_type != "application" and kind != "forward":
        raise InvalidLoadBalancerAction(
            f"Action type '{kind}' is only supported by Application Load Balancers"
        )
    out: dict[str, Any] = {"Type": kind}
    if kind == "forward":
        out.update(_forward(action, lb_type, listener_protocol, lookup))
    elif kind == "fixed-response":
        out["FixedResponseConfig"] = _fixed_response(action.get("FixedResponseConfig"))
    elif kind == "redirect":
        out["RedirectConfig"] = _redirect(action.get("RedirectConfig"))
    elif kind in AUTHENTICATE:
        if listener_protocol != "HTTPS":
            raise InvalidLoadBalancerAction("Authentication actions are only supported on HTTPS listeners")
        key = "AuthenticateOidcConfig" if kind == "authenticate-oidc" else "AuthenticateCognitoConfig"
        if not action.get(key):
            raise ValidationError(f"{key} must be specified for '{kind}' actions")
        out[key] = action[key]
    else:
        raise ValidationError(f"Action type '{kind}' is not valid")
    if "Order" in action:
        out["Order"] = action["Order"]
    return out


def _forward(
    action: dict[str, Any], lb_type: str, listener_protocol: str | None, lookup: Lookup
) -> dict[str, Any]:
    config = action.get("ForwardConfig") or {}
    tuples = [dict(t) for t in config.get("TargetGroups") or []]
    arn = action.get("TargetGroupArn")
    if arn and tuples and (len(tuples) != 1 or tuples[0].get("TargetGroupArn") != arn):
        raise ValidationError(
            "You cannot specify a target group ARN and a forward config with other target groups in the same action"
        )
    if not tuples:
        if not arn:
            raise ValidationError("A target group ARN must be specified for forward actions")
        tuples = [{"TargetGroupArn": arn}]
    limit = MAX_FORWARD_GROUPS.get(lb_type, 1)
    if len(tuples) > limit:
        raise ValidationError(f"Up to '{limit}' target groups can be specified in a forward action")
    seen: set[str] = set()
    for item in tuples:
        tg_arn = item.get("TargetGroupArn", "")
        if tg_arn in seen:
            raise ValidationError(
                f"Target group '{tg_arn}' is specified more than once in the forward action"
            )
        seen.add(tg_arn)
        item.setdefault("Weight", 1)
        if not 0 <= item["Weight"] <= 999:
            raise ValidationError(f"Target group weight must be between 0 and 999, got {item['Weight']}")
        _check_compatible(lookup(tg_arn), lb_type, listener_protocol)
    out: dict[str, Any] = {
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": t["TargetGroupArn"], "Weight": t["Weight"]} for t in tuples],
            "TargetGroupStickinessConfig": _stickiness(config.get("TargetGroupStickinessConfig")),
        }
    }
    if len(tuples) == 1:
        out["TargetGroupArn"] = tuples[0]["TargetGroupArn"]
    return out


def _check_compatible(group: TargetGroup, lb_type: str, listener_protocol: str | None) -> None:
    if lb_type == "application":
        ok = group.target_type == "lambda" or group.protocol in ALB_PROTOCOLS
    else:
        ok = group.protocol in NLB_COMPATIBLE.get(listener_protocol or "", ()) or (
            group.target_type == "alb" and listener_protocol == "TCP"
        )
    if not ok:
        raise IncompatibleProtocols(
            f"Listener protocol '{listener_protocol}' is not supported with a target group "
            f"with the protocol '{group.protocol}'"
        )


def _stickiness(config: dict[str, Any] | None) -> dict[str, Any]:
    if not config or not config.get("Enabled"):
        return {"Enabled": False}
    duration = config.get("DurationSeconds")
    if duration is None or not 1 <= duration <= 604800:
        raise ValidationError("Target group stickiness duration must be between 1 and 604800 seconds")
    return {"Enabled": True, "DurationSeconds": duration}


def _fixed_response(config: dict[str, Any] | None) -> dict[str, Any]:
    if not config or "StatusCode" not in config:
        raise ValidationError("A status code must be specified for fixed-response actions")
    if not re.fullmatch(r"[245]\d\d", config["StatusCode"]):
        raise ValidationError(f"Status code '{config['StatusCode']}' must be a 2XX, 4XX or 5XX code")
    if "ContentType" in config and config["ContentType"] not in CONTENT_TYPES:
        raise ValidationError(
            f"Content type '{config['ContentType']}' is not one of {', '.join(CONTENT_TYPES)}"
        )
    if len(config.get("MessageBody", "")) > 1024:
        raise ValidationError("A fixed-response message body can have at most 1024 characters")
    return dict(config)


def _redirect(config: dict[str, Any] | None) -> dict[str, Any]:
    if not config or config.get("StatusCode") not in ("HTTP_301", "HTTP_302"):
        raise ValidationError("A redirect action needs a status code, HTTP_301 or HTTP_302")
    return {**REDIRECT_DEFAULTS, **config}


def target_group_arns(actions: list[dict[str, Any]]) -> list[str]:
    """The target groups normalized actions forward to, in order."""
    return [
        item["TargetGroupArn"]
        for action in actions
        if action["Type"] == "forward"
        for item in action["ForwardConfig"]["TargetGroups"]
    ]
