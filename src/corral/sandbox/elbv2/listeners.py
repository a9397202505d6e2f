"""Listeners and their rules.

Every listener has a default rule (`IsDefault: true`, priority `default`) whose actions are
the listener's default actions: ModifyListener and ModifyRule on the default rule change
the same list. After each change the backend recomputes which load balancers each target
group is attached to (`LoadBalancerArns`, and `unused` target health when none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .actions import normalize_actions, target_group_arns
from .conditions import normalize_conditions
from .exceptions import (
    DuplicateListener,
    InvalidConfigurationRequest,
    ListenerNotFound,
    OperationNotPermitted,
    PriorityInUse,
    RuleNotFound,
    TargetGroupAssociationLimit,
    TargetGroupNotFound,
    UnsupportedProtocol,
    ValidationError,
)
from .load_balancers import LoadBalancer
from .target_groups import ALB_PROTOCOLS, NLB_PROTOCOLS, TargetGroup

if TYPE_CHECKING:
    from .backend import Backend

DEFAULT_SSL_POLICY = "ELBSecurityPolicy-2016-08"
SECURE = ("HTTPS", "TLS")
MAX_LISTENERS = 50
MAX_RULES = 100


@dataclass(eq=False)
class Listener:
    arn: str
    load_balancer_arn: str
    port: int
    protocol: str
    default_actions: list[dict[str, Any]]
    default_rule_arn: str
    certificates: list[dict[str, Any]] = field(default_factory=list)
    ssl_policy: str | None = None
    alpn_policy: list[str] | None = None
    tags: dict[str, str] = field(default_factory=dict)

    def settings(self) -> tuple[Any, ...]:
        return (self.protocol, self.default_actions, self.certificates, self.ssl_policy, self.alpn_policy)

    def to_api(self) -> dict[str, Any]:
        return {
            "ListenerArn": self.arn,
            "LoadBalancerArn": self.load_balancer_arn,
            "Port": self.port,
            "Protocol": self.protocol,
            "Certificates": self.certificates or None,
            "SslPolicy": self.ssl_policy,
            "DefaultActions": self.default_actions,
            "AlpnPolicy": self.alpn_policy,
        }


@dataclass(eq=False)
class Rule:
    arn: str
    listener_arn: str
    priority: int | None  # None for the default rule
    conditions: list[dict[str, Any]]
    actions: list[dict[str, Any]]  # unused for the default rule: it shows its listener's
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def is_default(self) -> bool:
        return self.priority is None

    def sort_key(self) -> tuple[int, int]:
        return (1, 0) if self.priority is None else (0, self.priority)


class ListenerRegistry:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.listeners: dict[str, Listener] = {}
        self.rules: dict[str, Rule] = {}

    # ================================================================ lookups

    def listener(self, arn: str) -> Listener:
        found = self.listeners.get(arn)
        if found is None:
            raise ListenerNotFound(f"Listener '{arn}' not found")
        return found

    def rule(self, arn: str) -> Rule:
        found = self.rules.get(arn)
        if found is None:
            raise RuleNotFound(f"Rule '{arn}' not found")
        return found

    def actions_of(self, rule: Rule) -> list[dict[str, Any]]:
        return self.listeners[rule.listener_arn].default_actions if rule.is_default else rule.actions

    def rule_to_api(self, rule: Rule) -> dict[str, Any]:
        return {
            "RuleArn": rule.arn,
            "Priority": "default" if rule.priority is None else str(rule.priority),
            "Conditions": rule.conditions,
            "Actions": self.actions_of(rule),
            "IsDefault": rule.is_default,
        }

    def users_of(self, tg_arn: str) -> list[str]:
        """Listeners and rules that forward to a target group."""
        users = [
            arn for arn, lsn in self.listeners.items() if tg_arn in target_group_arns(lsn.default_actions)
        ]
        users += [arn for arn, rule in self.rules.items() if tg_arn in target_group_arns(rule.actions)]
        return users

    def load_balancers_by_target_group(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for listener in self.listeners.values():
            rules = [r.actions for r in self.rules.values() if r.listener_arn == listener.arn]
            for actions in [listener.default_actions, *rules]:
                for tg_arn in target_group_arns(actions):
                    lbs = out.setdefault(tg_arn, [])
                    if listener.load_balancer_arn not in lbs:
                        lbs.append(listener.load_balancer_arn)
        return out

    # ================================================================ listeners

    def create_listener(self, params: dict[str, Any]) -> Listener:
        lb = self.backend.load_balancers.get(params["LoadBalancerArn"])
        port, protocol = params.get("Port"), params.get("Protocol")
        if port is None or protocol is None:
            raise ValidationError("A listener port and protocol must be specified")
        self._check_port_protocol(lb, port, protocol)
        actions = self._actions(lb, protocol, params.get("DefaultActions"))
        certificates, ssl_policy = self._tls(protocol, params.get("Certificates"), params.get("SslPolicy"))
        siblings = [lsn for lsn in self.listeners.values() if lsn.load_balancer_arn == lb.arn]
        existing = next((lsn for lsn in siblings if lsn.port == port), None)
        candidate = (protocol, actions, certificates, ssl_policy, params.get("AlpnPolicy"))
        if existing is not None:
            if existing.settings() == candidate:
                return existing  # CreateListener is idempotent for identical settings
            raise DuplicateListener("A listener already exists on this port for this load balancer")
        if len(siblings) >= MAX_LISTENERS:
            raise InvalidConfigurationRequest(f"A load balancer can have at most {MAX_LISTENERS} listeners")
        self._check_association(lb, actions)
        arn = lb.arn.replace(":loadbalancer/", ":listener/", 1) + "/" + self.backend.new_id()
        default_rule = Rule(self._rule_arn(arn), arn, None, [], [])
        listener = Listener(
            arn=arn,
            load_balancer_arn=lb.arn,
            port=port,
            protocol=protocol,
            default_actions=actions,
            default_rule_arn=default_rule.arn,
            certificates=certificates,
            ssl_policy=ssl_policy,
            alpn_policy=params.get("AlpnPolicy"),
            tags=self.backend.tags_from(params.get("Tags")),
        )
        self.listeners[arn] = listener
        self.rules[default_rule.arn] = default_rule
        self.backend.attachments_changed()
        return listener

    def describe_listeners(self, params: dict[str, Any]) -> list[Listener]:
        if params.get("ListenerArns"):
            return [self.listener(arn) for arn in params["ListenerArns"]]
        if not params.get("LoadBalancerArn"):
            raise ValidationError("You must specify either listener ARNs or a load balancer ARN")
        lb = self.backend.load_balancers.get(params["LoadBalancerArn"])
        return sorted(
            (lsn for lsn in self.listeners.values() if lsn.load_balancer_arn == lb.arn), key=lambda x: x.port
        )

    def modify_listener(self, params: dict[str, Any]) -> Listener:
        listener = self.listener(params["ListenerArn"])
        lb = self.backend.load_balancers.get(listener.load_balancer_arn)
        port = params.get("Port", listener.port)
        protocol = params.get("Protocol", listener.protocol)
        self._check_port_protocol(lb, port, protocol)
        if port != listener.port and any(
            lsn.port == port for lsn in self.listeners.values() if lsn.load_balancer_arn == lb.arn
        ):
            raise DuplicateListener("A listener already exists on this port for this load balancer")
        raw = params.get("DefaultActions")
        actions = self._actions(lb, protocol, raw) if raw is not None else listener.default_actions
        keep_tls = protocol in SECURE and listener.protocol in SECURE
        certificates, ssl_policy = self._tls(
            protocol,
            params.get("Certificates", listener.certificates if keep_tls else None),
            params.get("SslPolicy", listener.ssl_policy if keep_tls else None),
        )
        self._check_association(lb, actions)
        listener.port, listener.protocol, listener.default_actions = port, protocol, actions
        listener.certificates, listener.ssl_policy = certificates, ssl_policy
        if "AlpnPolicy" in params:
            listener.alpn_policy = params["AlpnPolicy"]
        self.backend.attachments_changed()
        return listener

    def delete_listener(self, arn: str) -> None:
        self.listener(arn)
        self._drop_listener(arn)
        self.backend.attachments_changed()

    def delete_for_load_balancer(self, lb_arn: str) -> None:
        for arn in [a for a, lsn in self.listeners.items() if lsn.load_balancer_arn == lb_arn]:
            self._drop_listener(arn)
        self.backend.attachments_changed()

    def _drop_listener(self, arn: str) -> None:
        for rule_arn in [a for a, r in self.rules.items() if r.listener_arn == arn]:
            del self.rules[rule_arn]
        del self.listeners[arn]

    # ================================================================ rules

    def create_rule(self, params: dict[str, Any]) -> Rule:
        listener = self.listener(params["ListenerArn"])
        lb = self.backend.load_balancers.get(listener.load_balancer_arn)
        if lb.type != "application":
            raise InvalidConfigurationRequest(
                "Rules can only be added to listeners of Application Load Balancers"
            )
        priority = params["Priority"]
        self._check_priority(listener.arn, priority)
        if len(self._rules_of(listener.arn)) > MAX_RULES:
            raise InvalidConfigurationRequest(f"A listener can have at most {MAX_RULES} rules")
        conditions = normalize_conditions(params.get("Conditions"))
        actions = self._actions(lb, listener.protocol, params.get("Actions"))
        self._check_association(lb, actions)
        rule = Rule(self._rule_arn(listener.arn), listener.arn, priority, conditions, actions)
        rule.tags = self.backend.tags_from(params.get("Tags"))
        self.rules[rule.arn] = rule
        self.backend.attachments_changed()
        return rule

    def describe_rules(self, params: dict[str, Any]) -> list[Rule]:
        if params.get("RuleArns"):
            return [self.rule(arn) for arn in params["RuleArns"]]
        if not params.get("ListenerArn"):
            raise ValidationError("You must specify either listener ARN or rule ARNs")
        return sorted(self._rules_of(self.listener(params["ListenerArn"]).arn), key=Rule.sort_key)

    def modify_rule(self, params: dict[str, Any]) -> Rule:
        rule = self.rule(params["RuleArn"])
        listener = self.listeners[rule.listener_arn]
        lb = self.backend.load_balancers.get(listener.load_balancer_arn)
        if "Conditions" in params and rule.is_default:
            raise OperationNotPermitted("The conditions of a default rule cannot be modified")
        conditions = normalize_conditions(params["Conditions"]) if "Conditions" in params else rule.conditions
        actions = self._actions(lb, listener.protocol, params["Actions"]) if "Actions" in params else None
        if actions is not None:
            self._check_association(lb, actions)
            if rule.is_default:
                listener.default_actions = actions
            else:
                rule.actions = actions
        rule.conditions = conditions
        self.backend.attachments_changed()
        return rule

    def set_rule_priorities(self, pairs: list[dict[str, Any]]) -> list[Rule]:
        changes = [(self.rule(p["RuleArn"]), p["Priority"]) for p in pairs]
        for rule, priority in changes:
            if rule.is_default:
                raise OperationNotPermitted("The priority of a default rule cannot be changed")
            if not 1 <= priority <= 50000:
                raise ValidationError("Rule priority must be between 1 and 50000")
        moving = {rule.arn for rule, _ in changes}
        for listener_arn in {rule.listener_arn for rule, _ in changes}:
            taken = [
                r.priority for r in self._rules_of(listener_arn) if r.arn not in moving and not r.is_default
            ]
            taken += [p for rule, p in changes if rule.listener_arn == listener_arn]
            if len(taken) != len(set(taken)):
                raise PriorityInUse("The specified priority is in use")
        for rule, priority in changes:
            rule.priority = priority
        return [rule for rule, _ in changes]

    def delete_rule(self, arn: str) -> None:
        rule = self.rule(arn)
        if rule.is_default:
            raise OperationNotPermitted("A default rule cannot be deleted")
        del self.rules[arn]
        self.backend.attachments_changed()

    # ================================================================ helpers

    def _rules_of(self, listener_arn: str) -> list[Rule]:
        return [r for r in self.rules.values() if r.listener_arn == listener_arn]

    def _rule_arn(self, listener_arn: str) -> str:
        return listener_arn.replace(":listener/", ":listener-rule/", 1) + "/" + self.backend.new_id()

    def _check_priority(self, listener_arn: str, priority: int) -> None:
        if not 1 <= priority <= 50000:
            raise ValidationError("Rule priority must be between 1 and 50000")
        if any(r.priority == priority for r in self._rules_of(listener_arn)):
            raise PriorityInUse("The specified priority is in use")

    def _actions(
        self, lb: LoadBalancer, protocol: str, actions: list[dict[str, Any]] | None
    ) -> list[dict[str, Any]]:
        return normalize_actions(
            actions, lb_type=lb.type, listener_protocol=protocol, lookup=self._target_group
        )

    def _target_group(self, arn: str) -> TargetGroup:
        found = self.backend.target_groups.get(arn)
        if found is None:
            raise TargetGroupNotFound(f"Target group '{arn}' not found")
        return found

    def _check_association(self, lb: LoadBalancer, actions: list[dict[str, Any]]) -> None:
        """A target group serves one load balancer only."""
        elsewhere = [
            arn
            for arn in target_group_arns(actions)
            if any(other != lb.arn for other in self.backend.target_groups[arn].load_balancer_arns)
        ]
        if elsewhere:
            raise TargetGroupAssociationLimit(
                "The following target groups cannot be associated with more than one load balancer: "
                + ", ".join(elsewhere)
            )

    @staticmethod
    def _check_port_protocol(lb: LoadBalancer, port: int, protocol: str) -> None:
        allowed = ALB_PROTOCOLS if lb.type == "application" else NLB_PROTOCOLS
        if protocol not in allowed:
            raise UnsupportedProtocol(
                f"Protocol '{protocol}' is not supported for {lb.type} load balancers; use one of {', '.join(allowed)}"
            )
        if not 1 <= port <= 65535:
            raise ValidationError("Listener port must be between 1 and 65535")

    @staticmethod
    def _tls(
        protocol: str, certificates: list[dict[str, Any]] | None, ssl_policy: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        if protocol not in SECURE:
            return [], None
        if not certificates:
            raise ValidationError(f"A certificate must be specified for {protocol} listeners")
        return [
            {"CertificateArn": c["CertificateArn"]} for c in certificates
        ], ssl_policy or DEFAULT_SSL_POLICY
