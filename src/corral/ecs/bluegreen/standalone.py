"""ECS Blue Green Traffic Shift, Standalone, and Stand Alone Traffic Shift Rollback.

    shift = standalone_traffic_shift(ctx, target, StandaloneShiftOptions(
        load_balancer="web", listener=listener_arn, listener_rule_arn=dev_rule,
        forward_config=[(stage_tg, 70), (prod_tg, 30)], setup=previous.checkpoint))
    standalone_traffic_shift_rollback(ctx, target, shift.checkpoint)

Harness's `ecsTrafficShiftWrapper: {type: Standalone, spec: {loadBalancer, listener,
listenerRuleArn, forwardConfig: [{targetGroupArn, weight}]}}`: the step sets the forward of a
listener rule of its own (typically a lower environment's rule over the same two target groups)
to exactly these weights. One tuple sends all of the rule's traffic to that target group.

- Every target group of `forwardConfig` must be one the listener's rules already forward to
  (checked before anything changes), and the rule must not be the prod rule of Create Service
  (Harness fails then too: that rule belongs to the Inherit shifts and ECS Blue Green Rollback).
- The first time a stage's Standalone shift touches a rule, its action list is captured in the
  rollback data (`standaloneRules`), before the change; later shifts carry the captures on.
- No blue or green tags change (Harness: "The Standalone step does not assign blue or green tags").
- Stand Alone Traffic Shift Rollback puts every captured rule back exactly as it was.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corral.errors import ConfigError, Problem
from corral.step_log import ROLLBACK
from corral.step_outcome import StepOutcome

from ..context import OWN_DEPLOYMENTS, StepContext
from ..listeners import HasClients, ListenerRule, RuleRouter, describe_weights, resolve_rule, rule_actions
from ..listeners import forward_weights as weights_of
from ..target import EcsTarget
from .rollback import restore_rule
from .state import BlueGreenState, CapturedRule, captured_rules

STANDALONE_TRAFFIC_SHIFT = "Standalone Traffic Shift"
STEP = "EcsBlueGreenTrafficShift"
FORWARD_CONFIG = "spec.ecsTrafficShiftWrapper.spec.forwardConfig"


@dataclass
class StandaloneShiftOptions:
    load_balancer: str
    listener: str
    listener_rule_arn: str
    forward_config: list[tuple[str, int]]  # (target group ARN, weight), in the rule's order
    setup: dict[str, Any] = field(default_factory=dict)  # rollback data of the step before, if any


def standalone_traffic_shift(
    ctx: StepContext, target: EcsTarget, options: StandaloneShiftOptions
) -> StepOutcome:
    ctx.adopt(options.setup)
    ctx.log.section(STANDALONE_TRAFFIC_SHIFT)
    with ctx.calls():
        ctx.log.info(
            f"Fetching load balancer {options.load_balancer}, listener and rule {options.listener_rule_arn}"
        )
        rule = standalone_rule(ctx, options)
        problems = forward_config_problems(ctx, rule, options.forward_config)
        if problems:
            raise ConfigError([Problem(STEP, path, message) for path, message in problems])
        captured = captured_rules(options.setup)
        if not any(c.rule.rule_arn == rule.rule_arn for c in captured):
            actions = rule_actions(ctx.clients.elbv2, rule)
            ctx.log.info(
                f"Captured the forward of {rule.describe()}: {describe_weights(weights_of(actions))}"
            )
            captured = [*captured, CapturedRule(rule, actions)]
        data = _journal(ctx, options.setup, captured)
        ctx.checkpoint(data)
        ctx.check()
        weights = RuleRouter(ctx, rule).set_weights(dict(options.forward_config))
        ctx.log.info(f"The {rule.describe()} forwards to {describe_weights(weights)}")
    return StepOutcome(outputs={"weights": weights, "listenerRuleArn": rule.rule_arn}, checkpoint=data)


def standalone_rule(reader: HasClients, options: StandaloneShiftOptions) -> ListenerRule:
    """The rule the step changes; never the prod rule of the stage's Create Service."""
    rule = resolve_rule(
        reader,
        load_balancer=options.load_balancer,
        listener_arn=options.listener,
        rule_arn=options.listener_rule_arn,
    )
    if BlueGreenState.in_journal(options.setup):
        prod = BlueGreenState.from_journal(options.setup).prod_rule
        if prod.rule_arn == rule.rule_arn:
            raise ConfigError(
                [
                    Problem(
                        STEP,
                        "spec.ecsTrafficShiftWrapper.spec.listenerRuleArn",
                        f"is the prod listener rule of ECS Blue Green Create Service ({rule.rule_arn}); a "
                        "Standalone shift needs another rule (use type: Inherit to shift the prod rule)",
                    )
                ]
            )
    return rule


def forward_config_problems(
    reader: HasClients, rule: ListenerRule, forward_config: list[tuple[str, int]]
) -> list[tuple[str, str]]:
    """(path, message) for each target group of `forwardConfig` that neither the rule nor any other
    rule of its listener forwards to (a typo'd or foreign ARN would send traffic nowhere known)."""
    rules = reader.clients.elbv2.describe_rules(ListenerArn=rule.listener_arn)["Rules"]
    known = {arn for r in rules for arn in weights_of(r.get("Actions") or [])}
    return [
        (
            f"{FORWARD_CONFIG}[{index}].targetGroupArn",
            f"target group {arn} is not one that listener {rule.listener_arn} or its rules forward to "
            f"(they forward to: {', '.join(sorted(known)) or 'none'})",
        )
        for index, (arn, _weight) in enumerate(forward_config)
        if arn not in known and "<+" not in arn  # an expression: `corral plan` cannot tell yet
    ]


def _journal(ctx: StepContext, setup: dict[str, Any], captured: list[CapturedRule]) -> dict[str, Any]:
    if BlueGreenState.in_journal(setup):
        return BlueGreenState.from_journal(setup).but(standalone_rules=captured).to_journal(ctx)
    data: dict[str, Any] = {"standaloneRules": [c.to_dict() for c in captured]}
    if ctx.own.started or ctx.own.starting:
        data[OWN_DEPLOYMENTS] = ctx.own.to_dict()
    return data


def standalone_traffic_shift_rollback(
    ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]
) -> StepOutcome:
    """Every listener rule a Standalone shift of the stage changed, back to its captured actions."""
    ctx.log.section(ROLLBACK)
    captured = captured_rules(rollback_data)
    if not captured:
        ctx.log.info("No Standalone ECS Blue Green Traffic Shift ran: nothing to roll back")
        return StepOutcome(outputs={"rollbackSkipped": True})
    with ctx.calls():
        for item in captured:
            restore_rule(ctx, item.rule, item.actions, item.rule.describe())  # read back and checked
    return StepOutcome(outputs={"rollbackSkipped": False, "rules": [c.rule.rule_arn for c in captured]})
