"""What `corral plan` shows of a Blue Green stage, decided by the same code the steps run.

    view = preview(clients, cluster="staging", service_name="myapp", create_spec=spec)
    view.live          # the BLUE service (by traffic, as Create Service decides), compared with the manifests
    view.stage_group   # where the new service will register
    view.listeners     # (now, after the cut-over): where the prod and stage rules forward

Only read calls. A spec whose listener fields are not known yet (run-time inputs left open) gives
no view; a layout Create Service would refuse gives a note saying why.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from corral.errors import CorralError

from ..listeners import describe_weights, forward_weights, resolve_rule
from .layout import plan_layout
from .live import Listeners, read_found, resolve_rules
from .standalone import forward_config_problems

if TYPE_CHECKING:
    from corral.aws.clients import Clients


@dataclass
class Preview:
    live: dict[str, Any] | None = None
    stage_group: str | None = None
    listeners: tuple[dict[str, str], dict[str, str]] = field(default_factory=lambda: ({}, {}))
    note: str | None = None


@dataclass
class _Reader:
    clients: Clients


def known(value: Any) -> bool:
    """A concrete value (not empty, no expression or run-time input left)."""
    return isinstance(value, str) and bool(value) and "<+" not in value and "${" not in value


def create_listeners(spec: Mapping[str, Any]) -> Listeners | None:
    """The Create Service spec's listeners, when every one it names is known."""
    shift = str(spec.get("isTrafficShift", "")).lower() == "true"
    listeners = Listeners(
        load_balancer=str(spec.get("loadBalancer") or ""),
        prod_listener=str(spec.get("prodListener") or ""),
        prod_listener_rule_arn=str(spec.get("prodListenerRuleArn") or ""),
        stage_listener=str(spec.get("stageListener") or ""),
        stage_listener_rule_arn=str(spec.get("stageListenerRuleArn") or ""),
        is_traffic_shift=shift,
        stage_target_group_arn=str(spec.get("stageTargetGroupArn") or ""),
    )
    needed = [listeners.load_balancer, listeners.prod_listener]
    optional = [listeners.prod_listener_rule_arn, listeners.stage_target_group_arn]
    if not shift:
        needed.append(listeners.stage_listener)
        optional.append(listeners.stage_listener_rule_arn)
    if not all(known(v) for v in needed) or any(v and not known(v) for v in optional):
        return None
    return listeners


def preview(clients: Clients, *, cluster: str, service_name: str, create_spec: Mapping[str, Any]) -> Preview:
    listeners = create_listeners(create_spec)
    if listeners is None:
        return Preview(note="Blue Green: the listeners are run-time inputs without a value; not compared")
    reader = _Reader(clients)
    try:
        prod_rule, stage_rule = resolve_rules(reader, listeners)
        found = read_found(reader, cluster, service_name, listeners, prod_rule, stage_rule)
        plan = plan_layout(service_name, found)
    except (CorralError, ClientError) as error:
        return Preview(note=f"Blue Green: Create Service would stop here: {error}")
    live = found.services.get(plan.blue) if plan.blue else None
    if listeners.is_traffic_shift:
        now = {"prod rule": describe_weights(forward_weights(plan.prepared_prod_actions))}
        shifted = {plan.prod_group: 0, plan.stage_group: 100}
        after = {"prod rule": describe_weights(shifted)}
    else:
        now = {"prod listener": _tail(plan.prod_group), "stage listener": _tail(plan.stage_group)}
        after = {"prod listener": _tail(plan.stage_group), "stage listener": _tail(plan.prod_group)}
    note = None
    if plan.findings:
        note = "Blue Green: Create Service will repair: " + "; ".join(plan.findings)
    return Preview(dict(live) if live else None, plan.stage_group, (now, after), note)


def _tail(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def standalone_problems(
    clients: Clients, shift: Mapping[str, Any], *, prod_rule_arn: str = ""
) -> list[tuple[str, str]]:
    """(path in the step, message) for a Standalone shift whose rule or target groups are wrong,
    once its fields are known: what the step would refuse before changing anything."""
    body = shift.get("spec") or {}
    where = "spec.ecsTrafficShiftWrapper.spec"
    fields = [body.get("loadBalancer"), body.get("listener")]
    rule_arn = body.get("listenerRuleArn") or ""
    config = body.get("forwardConfig") or []
    arns = [item.get("targetGroupArn") for item in config if isinstance(item, Mapping)]
    if not all(known(v) for v in fields) or (rule_arn and not known(rule_arn)):
        return []
    reader = _Reader(clients)
    try:
        rule = resolve_rule(
            reader,
            load_balancer=str(body["loadBalancer"]),
            listener_arn=str(body["listener"]),
            rule_arn=rule_arn,
        )
    except (CorralError, ClientError) as error:
        return [(f"{where}.listenerRuleArn", str(error))]
    if prod_rule_arn and rule.rule_arn == prod_rule_arn:
        return [
            (
                f"{where}.listenerRuleArn",
                "is the prod listener rule of ECS Blue Green Create Service; use another rule",
            )
        ]
    return forward_config_problems(reader, rule, [(str(arn), 0) for arn in arns])
