"""The ELBv2 backend of one account and Region: state, lookups, the contract with ECS.

Load balancers, listeners and rules live in their registries (`load_balancers.py`,
`listeners.py`); target groups and their targets are kept here because ECS reaches them
through the contract methods below.
"""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from ..core.world import Backend as _Base
from ..core.world import RegionState
from . import network
from .exceptions import (
    DuplicateTargetGroupName,
    InvalidTarget,
    ResourceInUse,
    TargetGroupNotFound,
    ValidationError,
)
from .listeners import ListenerRegistry
from .load_balancers import LoadBalancerRegistry
from .tagging import tags_from
from .target_groups import TargetGroup, build_target_group, with_health_settings
from .targets import RegisteredTarget, StaticProbe, not_registered


class Backend(_Base):
    service = "elbv2"

    def __init__(self, region: RegionState) -> None:
        super().__init__(region)
        self.target_groups: dict[str, TargetGroup] = {}
        self.load_balancers = LoadBalancerRegistry(self)
        self.listeners = ListenerRegistry(self)

    def new_id(self) -> str:
        return secrets.token_hex(8)

    def elb_arn(self, resource: str) -> str:
        return self.arn("elasticloadbalancing", resource)

    # ================================================================ contract with ECS

    def target_group(self, arn: str) -> TargetGroup:
        found = self.target_groups.get(arn)
        if found is None:
            raise TargetGroupNotFound(f"Target groups '{arn}' not found")
        return found

    def register_service_target(self, tg_arn: str, target_id: str, port: int, probe: Any) -> None:
        """ECS registers a task; its health is then checked against `probe` on sandbox time."""
        group = self.target_group(tg_arn)
        existing = group.targets.get((target_id, port))
        if existing is not None and existing.state != "draining":
            existing.probe = probe
            existing.evaluate(self.now())
            return
        self._add_target(group, target_id, port, None, probe)

    def deregister_service_target(self, tg_arn: str, target_id: str, port: int) -> float:
        """The target drains for the deregistration delay, then disappears; returns the delay."""
        group = self.target_group(tg_arn)
        target = group.targets.get((target_id, port))
        if target is None:
            return 0.0
        return target.drain(self.now())

    def probe_changed(self, tg_arn: str, target_id: str, port: int) -> None:
        group = self.target_groups.get(tg_arn)
        target = group.targets.get((target_id, port)) if group is not None else None
        if target is not None:
            target.evaluate(self.now())

    # ================================================================ admin

    def set_target_probe(
        self, tg_arn: str, target_id: str, port: int | None, *, ok: bool, status_code: int = 200
    ) -> None:
        """What the health check of an API-registered target sees from now on (admin)."""
        group = self.target_group(tg_arn)
        target = group.targets.get((target_id, port if port is not None else group.port))
        if target is None:
            raise InvalidTarget(f"Target '{target_id}' is not registered in target group '{tg_arn}'")
        target.probe = StaticProbe(ok, status_code)
        target.evaluate(self.now())

    # ================================================================ target groups

    def create_target_group(self, params: dict[str, Any]) -> TargetGroup:
        name = params["Name"]
        arn = self.elb_arn(f"targetgroup/{name}/{self.new_id()}")
        group = build_target_group(arn, params)
        if group.vpc_id is not None:
            network.check_vpc(self.account_id, self.region_name, group.vpc_id)
        existing = self.target_group_by_name(name)
        if existing is not None:
            if _same_settings(existing, group):
                return existing  # CreateTargetGroup is idempotent for identical settings
            raise DuplicateTargetGroupName(
                "A target group with the same name exists, but with different settings"
            )
        group.tags = self.tags_from(params.get("Tags"))
        self.target_groups[arn] = group
        return group

    def target_group_by_name(self, name: str) -> TargetGroup | None:
        return next((g for g in self.target_groups.values() if g.name == name), None)

    def describe_target_groups(self, params: dict[str, Any]) -> list[TargetGroup]:
        if params.get("TargetGroupArns"):
            return [self.target_group(arn) for arn in params["TargetGroupArns"]]
        if params.get("Names"):
            found = [self.target_group_by_name(name) for name in params["Names"]]
            missing = [n for n, g in zip(params["Names"], found, strict=True) if g is None]
            if missing:
                raise TargetGroupNotFound(f"One or more target groups not found: {', '.join(missing)}")
            return [g for g in found if g is not None]
        groups = list(self.target_groups.values())
        if params.get("LoadBalancerArn"):
            lb_arn = self.load_balancers.get(params["LoadBalancerArn"]).arn
            groups = [g for g in groups if lb_arn in g.load_balancer_arns]
        return groups

    def modify_target_group(self, params: dict[str, Any]) -> TargetGroup:
        group = self.target_group(params["TargetGroupArn"])
        group.health_check = with_health_settings(group.health_check, params, group.target_type)
        now = self.now()
        for target in list(group.targets.values()):
            target.evaluate(now)
        return group

    def delete_target_group(self, arn: str) -> None:
        group = self.target_groups.get(arn)
        if group is None:
            return  # DeleteTargetGroup of an unknown group succeeds, as in AWS
        users = self.listeners.users_of(arn)
        if users:
            raise ResourceInUse(f"Target group '{arn}' is currently in use by a listener or a rule")
        for target in list(group.targets.values()):
            target.remove()
        del self.target_groups[arn]

    def attachments_changed(self) -> None:
        """Recompute each target group's LoadBalancerArns after listeners or rules changed."""
        attached = self.listeners.load_balancers_by_target_group()
        now = self.now()
        for arn, group in self.target_groups.items():
            new = attached.get(arn, [])
            was, group.load_balancer_arns = bool(group.load_balancer_arns), new
            if was != bool(new):
                for target in list(group.targets.values()):
                    target.evaluate(now)

    def listener_rule_load_balancer(self, rule_arn: str) -> str:
        """The load balancer a listener rule (default rules included) belongs to; RuleNotFound if none."""
        rule = self.listeners.rule(rule_arn)
        return self.listeners.listeners[rule.listener_arn].load_balancer_arn

    def forward_weights(self, rule_arn: str) -> dict[str, int]:
        """Target group ARN -> weight of the rule's forward action (empty if it does not forward)."""
        rule = self.listeners.rule(rule_arn)
        for action in self.listeners.actions_of(rule):
            if action.get("Type") == "forward":
                return {t["TargetGroupArn"]: t["Weight"] for t in action["ForwardConfig"]["TargetGroups"]}
        return {}

    def set_forward_weights(self, rule_arn: str, weights: dict[str, int]) -> None:
        """ECS shifts traffic (blue/green, linear, canary): the rule's forward action becomes a
        weighted forward to exactly these target groups, stickiness kept, other actions untouched."""
        rule = self.listeners.rule(rule_arn)
        actions = [dict(a) for a in self.listeners.actions_of(rule)]
        for action in actions:
            if action.get("Type") != "forward":
                continue
            groups = [{"TargetGroupArn": arn, "Weight": weight} for arn, weight in weights.items()]
            action["ForwardConfig"] = {
                "TargetGroups": groups,
                "TargetGroupStickinessConfig": action["ForwardConfig"]["TargetGroupStickinessConfig"],
            }
            action.pop("TargetGroupArn", None)
            if len(groups) == 1:
                action["TargetGroupArn"] = groups[0]["TargetGroupArn"]
        if rule.is_default:
            self.listeners.listeners[rule.listener_arn].default_actions = actions
        else:
            rule.actions = actions
        self.attachments_changed()

    # ================================================================ targets

    def register_targets(self, tg_arn: str, targets: list[dict[str, Any]]) -> None:
        group = self.target_group(tg_arn)
        checked = [self._checked_target(group, t) for t in targets]
        for target_id, port, zone in checked:
            existing = group.targets.get((target_id, port))
            if existing is None or existing.state == "draining":
                self._add_target(group, target_id, port, zone, StaticProbe())

    def deregister_targets(self, tg_arn: str, targets: list[dict[str, Any]]) -> None:
        group = self.target_group(tg_arn)
        keys = [(t["Id"], t.get("Port", group.port)) for t in targets]
        missing = [target_id for target_id, port in keys if (target_id, port) not in group.targets]
        if missing:
            raise InvalidTarget(
                f"The following targets are not registered in target group '{tg_arn}': {', '.join(missing)}"
            )
        now = self.now()
        for key in keys:
            group.targets[key].drain(now)

    def describe_target_health(
        self, tg_arn: str, targets: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        group = self.target_group(tg_arn)
        if not targets:
            return [t.describe() for t in group.targets.values()]
        out = []
        for wanted in targets:
            target_id, port = wanted["Id"], wanted.get("Port", group.port)
            found = group.targets.get((target_id, port))
            if found is None and "Port" not in wanted:
                found = next((t for t in group.targets.values() if t.target_id == target_id), None)
            out.append(found.describe() if found is not None else not_registered(target_id, port))
        return out

    def _add_target(
        self, group: TargetGroup, target_id: str, port: int | None, zone: str | None, probe: Any
    ) -> None:
        old = group.targets.get((target_id, port))
        if old is not None:
            old.remove()
        target = RegisteredTarget(
            group=group, world=self.world, target_id=target_id, port=port, availability_zone=zone, probe=probe
        )
        group.targets[target.key] = target
        target.start(self.now())

    @staticmethod
    def _checked_target(group: TargetGroup, target: dict[str, Any]) -> tuple[str, int | None, str | None]:
        target_id = target["Id"]
        port = target.get("Port", group.port)
        if group.target_type == "lambda":
            return target_id, None, None
        if port is None:
            raise ValidationError(f"A port must be specified for target '{target_id}'")
        if not 1 <= port <= 65535:
            raise ValidationError(f"Port {port} of target '{target_id}' must be between 1 and 65535")
        if group.target_type == "ip":
            try:
                ipaddress.ip_address(target_id)
            except ValueError as exc:
                raise InvalidTarget(f"The IP address '{target_id}' is not a valid IP address") from exc
        elif group.target_type == "instance" and not target_id.startswith("i-"):
            raise InvalidTarget(f"The following targets are not valid instances: '{target_id}'")
        return target_id, port, target.get("AvailabilityZone")

    # ================================================================ tags

    @staticmethod
    def tags_from(tags: list[dict[str, str]] | None) -> dict[str, str]:
        return tags_from(tags)


def _same_settings(a: TargetGroup, b: TargetGroup) -> bool:
    return (a.protocol, a.port, a.vpc_id, a.target_type) == (b.protocol, b.port, b.vpc_id, b.target_type)
