"""Load balancers, listeners and rules for Blue Green, and the traffic-routing interface.

    rule = resolve_rule(ctx, load_balancer="web", listener_arn=arn, rule_arn="")   # default rule
    router = RuleRouter(ctx, rule)
    router.set_weights({green_tg: 25, blue_tg: 75})        # read back and verified
    router.restore(original_actions)                       # exactly as captured

- Resolution follows the reference: DescribeLoadBalancers (by name or ARN) → DescribeListeners →
  DescribeRules; an empty rule ARN means the listener's default rule.
- A rule's actions are read and written as a whole list (ModifyListener for a default rule,
  ModifyRule otherwise); only the forward action is replaced, other actions (authentication,
  their `Order`) and the forward's stickiness are kept.
- Weights are ELBv2 weights (0-999) per target group ARN; `shares` turns them into fractions of
  traffic, which is what read-back verification compares (a single-group forward may be
  answered with weight 1 where 100 was written).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from corral.errors import DeploymentError

if TYPE_CHECKING:
    from corral.aws.clients import Clients

    from .context import StepContext


class HasClients(Protocol):
    """A step's context, or anything else that holds clients (`corral plan` reads through it)."""

    clients: Clients


Actions = list[dict[str, Any]]
Weights = dict[str, int]  # target group ARN -> ELBv2 weight


# ------------------------------------------------------------------ pure helpers on action lists


def forward_action(actions: Actions) -> dict[str, Any] | None:
    return next((a for a in actions if a.get("Type") == "forward"), None)


def forward_weights(actions: Actions) -> Weights:
    """The target groups the rule forwards to, with their weights, in the rule's order."""
    action = forward_action(actions)
    if action is None:
        return {}
    groups = (action.get("ForwardConfig") or {}).get("TargetGroups") or []
    if groups:
        return {g["TargetGroupArn"]: int(g.get("Weight", 1)) for g in groups}
    return {action["TargetGroupArn"]: 1} if action.get("TargetGroupArn") else {}


def live_groups(actions: Actions) -> list[str]:
    """The target groups that receive traffic (weight above 0)."""
    return [arn for arn, weight in forward_weights(actions).items() if weight > 0]


def shares(weights: Weights) -> dict[str, float]:
    """Each group's fraction of the traffic; groups at weight 0 stay in with 0.0."""
    total = sum(weights.values())
    return {arn: (weight / total if total else 0.0) for arn, weight in weights.items()}


def with_forward(actions: Actions, weights: Weights) -> Actions:
    """The action list with its forward action sent to `weights`; everything else kept.

    One group is written as a plain forward (`TargetGroupArn`), as the reference does; several as
    a `ForwardConfig` keeping the rule's stickiness settings.
    """
    if not weights:
        raise ValueError("a forward action needs at least one target group")
    result = copy.deepcopy(actions)
    index = next((i for i, a in enumerate(result) if a.get("Type") == "forward"), None)
    old = result[index] if index is not None else {}
    new: dict[str, Any] = {"Type": "forward"}
    if len(weights) == 1:
        new["TargetGroupArn"] = next(iter(weights))
    else:
        config: dict[str, Any] = {
            "TargetGroups": [{"TargetGroupArn": arn, "Weight": w} for arn, w in weights.items()]
        }
        stickiness = (old.get("ForwardConfig") or {}).get("TargetGroupStickinessConfig")
        if stickiness:
            config["TargetGroupStickinessConfig"] = stickiness
        new["ForwardConfig"] = config
    if "Order" in old:
        new["Order"] = old["Order"]
    if index is None:
        result.append(new)
    else:
        result[index] = new
    return result


def describe_weights(weights: Weights) -> str:
    total = sum(weights.values()) or 1
    return ", ".join(f"{short_arn(arn)} {round(100 * w / total)}%" for arn, w in weights.items())


def short_arn(arn: str) -> str:
    """`targetgroup/web-blue/0123abcd` -> `web-blue`: what a person recognises in a log line."""
    parts = arn.split(":")[-1].split("/")
    return parts[1] if len(parts) > 2 else arn


# ------------------------------------------------------------------ resolution


@dataclass(frozen=True)
class ListenerRule:
    """One listener rule; `is_default` rules are written through ModifyListener."""

    load_balancer_arn: str
    listener_arn: str
    rule_arn: str
    is_default: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "loadBalancerArn": self.load_balancer_arn,
            "listenerArn": self.listener_arn,
            "ruleArn": self.rule_arn,
            "isDefault": self.is_default,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ListenerRule:
        return cls(data["loadBalancerArn"], data["listenerArn"], data["ruleArn"], bool(data["isDefault"]))

    def describe(self) -> str:
        return f"default rule of listener {self.listener_arn}" if self.is_default else f"rule {self.rule_arn}"


def _client_error(exc: Exception) -> tuple[str, str] | None:
    response = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return None
    error = response.get("Error", {})
    return error.get("Code", ""), error.get("Message", "")


def load_balancer_arn(ctx: HasClients, load_balancer: str) -> str:
    """The ARN of a load balancer given by name or ARN."""
    from botocore.exceptions import ClientError

    key = (
        {"LoadBalancerArns": [load_balancer]}
        if load_balancer.startswith("arn:")
        else {"Names": [load_balancer]}
    )
    try:
        found = ctx.clients.elbv2.describe_load_balancers(**key)["LoadBalancers"]
    except ClientError as exc:
        code, message = _client_error(exc) or ("", str(exc))
        if code == "LoadBalancerNotFound":
            raise DeploymentError(f"Load balancer {load_balancer} was not found: {message}") from exc
        raise
    if not found:
        raise DeploymentError(f"Load balancer {load_balancer} was not found")
    return str(found[0]["LoadBalancerArn"])


def resolve_rule(
    ctx: HasClients, *, load_balancer: str, listener_arn: str, rule_arn: str = ""
) -> ListenerRule:
    """DescribeLoadBalancers → DescribeListeners → DescribeRules; empty `rule_arn`: the default rule."""
    lb_arn = load_balancer_arn(ctx, load_balancer)
    listeners = ctx.clients.elbv2.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]
    if not any(listener["ListenerArn"] == listener_arn for listener in listeners):
        raise DeploymentError(f"Listener {listener_arn} is not a listener of load balancer {load_balancer}")
    rules = ctx.clients.elbv2.describe_rules(ListenerArn=listener_arn)["Rules"]
    if rule_arn:
        rule = next((r for r in rules if r["RuleArn"] == rule_arn), None)
        if rule is None:
            raise DeploymentError(f"Rule {rule_arn} is not a rule of listener {listener_arn}")
    else:
        rule = next((r for r in rules if r.get("IsDefault")), None)
        if rule is None:
            raise DeploymentError(f"Listener {listener_arn} has no default rule")
    return ListenerRule(lb_arn, listener_arn, rule["RuleArn"], bool(rule.get("IsDefault")))


def rule_actions(elbv2: Any, rule: ListenerRule) -> Actions:
    """The rule's action list as ELBv2 answers it (DescribeRules)."""
    return list(elbv2.describe_rules(RuleArns=[rule.rule_arn])["Rules"][0]["Actions"])


def target_group_port(ctx: StepContext, target_group_arn: str) -> int:
    group = ctx.clients.elbv2.describe_target_groups(TargetGroupArns=[target_group_arn])["TargetGroups"][0]
    return int(group["Port"])


def healthy_targets(ctx: StepContext, target_group_arn: str) -> int:
    states = ctx.clients.elbv2.describe_target_health(TargetGroupArn=target_group_arn)[
        "TargetHealthDescriptions"
    ]
    return sum(1 for s in states if s["TargetHealth"]["State"] == "healthy")


def target_states(ctx: StepContext, target_group_arn: str) -> list[str]:
    states = ctx.clients.elbv2.describe_target_health(TargetGroupArn=target_group_arn)[
        "TargetHealthDescriptions"
    ]
    return [s["TargetHealth"]["State"] for s in states]


def wait_until_healthy(ctx: StepContext, target_group_arn: str) -> None:
    """Until the group has a healthy target and none still in its first health checks.

    ELBv2 has no waiter that a poller could share, so this polls DescribeTargetHealth itself,
    from 0.2 s growing to 5 s between calls, within the step's deadline.
    """
    from .context import StepAborted, StepTimedOut

    interval = 0.2
    while True:
        states = target_states(ctx, target_group_arn)
        if "healthy" in states and "initial" not in states:
            return
        if ctx.remaining() <= 0:
            raise StepTimedOut(
                f"Timed out waiting for a healthy target in {target_group_arn} (targets: {', '.join(states) or 'none'})"
            )
        if ctx.abort.wait(min(interval, max(ctx.remaining(), 0.0))):
            raise StepAborted("The step was aborted.")
        interval = min(interval * 1.5, 5.0)


# ------------------------------------------------------------------ traffic routing


class TrafficRouter(Protocol):
    """Where production traffic goes: read, set and verify; restore a captured state exactly."""

    def actions(self) -> Actions: ...

    def weights(self) -> Weights: ...

    def set_weights(self, weights: Weights) -> Weights: ...

    def restore(self, actions: Actions) -> None: ...


class RuleRouter:
    """`TrafficRouter` over one ELBv2 listener rule (ALB weighted forward, or NLB single forward)."""

    def __init__(self, ctx: StepContext, rule: ListenerRule) -> None:
        self.ctx = ctx
        self.rule = rule

    def actions(self) -> Actions:
        return rule_actions(self.ctx.clients.elbv2, self.rule)

    def weights(self) -> Weights:
        return forward_weights(self.actions())

    def set_weights(self, weights: Weights) -> Weights:
        """Send the rule's forward to `weights`, read it back, fail if ELB answers otherwise."""
        current = self.actions()
        if forward_weights(current) != weights:
            self._write(with_forward(current, weights))
        found = self.weights()
        if shares(found) != shares(weights):
            raise DeploymentError(
                f"The {self.rule.describe()} forwards to {describe_weights(found)} after it was set to "
                f"{describe_weights(weights)}"
            )
        return found

    def restore(self, actions: Actions) -> None:
        """Write `actions` back as they were captured (from DescribeRules), and check them."""
        if self.actions() == actions:
            return
        self._write(actions)
        found = self.actions()
        if forward_weights(found) != forward_weights(actions):
            raise DeploymentError(
                f"The {self.rule.describe()} forwards to {describe_weights(forward_weights(found))} after "
                f"it was restored to {describe_weights(forward_weights(actions))}"
            )

    def warm_up(self, target_group_arn: str) -> None:
        """Make sure a group has passed its health checks before it gets traffic from this rule.

        A target group no listener uses has `unused` targets; once attached they start `initial`
        and need the health checks' healthy threshold. It is attached here at weight 0 first.
        """
        states = target_states(self.ctx, target_group_arn)
        if "healthy" in states or not states:  # no target at all: nothing would become healthy
            return
        weights = self.weights()
        if target_group_arn not in weights:
            self.ctx.log.info(
                f"Attaching {short_arn(target_group_arn)} at weight 0 until its targets are healthy"
            )
            self.set_weights({**weights, target_group_arn: 0})
        wait_until_healthy(self.ctx, target_group_arn)

    def _write(self, actions: Actions) -> None:
        elbv2 = self.ctx.clients.elbv2
        if self.rule.is_default:
            elbv2.modify_listener(ListenerArn=self.rule.listener_arn, DefaultActions=actions)
        else:
            elbv2.modify_rule(RuleArn=self.rule.rule_arn, Actions=actions)
