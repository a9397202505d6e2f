"""Reading what is live for Blue Green (read calls only): the prod and stage rules, their actions,
and the `<name>__1` / `<name>__2` services. Create Service and `corral plan` read through here and
decide with layout.plan_layout."""

from __future__ import annotations

from dataclasses import dataclass

from corral.errors import ConfigError, DeploymentError, Problem

from ..listeners import HasClients, ListenerRule, resolve_rule, rule_actions
from .layout import Found, pair_names


@dataclass
class Listeners:
    """The listeners of a Create Service step (its spec's fields)."""

    load_balancer: str
    prod_listener: str
    prod_listener_rule_arn: str = ""
    stage_listener: str = ""
    stage_listener_rule_arn: str = ""
    is_traffic_shift: bool = False
    stage_target_group_arn: str = ""


def resolve_rules(reader: HasClients, listeners: Listeners) -> tuple[ListenerRule, ListenerRule | None]:
    """The prod rule, and the stage rule (None in the traffic shift flow)."""
    prod = resolve_rule(
        reader,
        load_balancer=listeners.load_balancer,
        listener_arn=listeners.prod_listener,
        rule_arn=listeners.prod_listener_rule_arn,
    )
    if listeners.is_traffic_shift:
        return prod, None
    if not listeners.stage_listener:
        raise ConfigError(
            [Problem("EcsBlueGreenCreateService", "spec.stageListener", "a stage listener is required")]
        )
    stage = resolve_rule(
        reader,
        load_balancer=listeners.load_balancer,
        listener_arn=listeners.stage_listener,
        rule_arn=listeners.stage_listener_rule_arn,
    )
    if stage.rule_arn == prod.rule_arn:
        raise DeploymentError(f"The prod and stage listener rules are the same rule: {prod.describe()}")
    return prod, stage


def read_found(
    reader: HasClients,
    cluster: str,
    service_name: str,
    listeners: Listeners,
    prod_rule: ListenerRule,
    stage_rule: ListenerRule | None,
) -> Found:
    names = pair_names(service_name)
    answer = reader.clients.ecs.describe_services(cluster=cluster, services=names, include=["TAGS"])
    by_name = {s["serviceName"]: s for s in answer["services"]}
    elbv2 = reader.clients.elbv2
    return Found(
        services={n: by_name.get(n) for n in names},
        prod_actions=rule_actions(elbv2, prod_rule),
        stage_actions=rule_actions(elbv2, stage_rule) if stage_rule is not None else None,
        traffic_shift=listeners.is_traffic_shift,
        stage_group=listeners.stage_target_group_arn,
    )
