"""ECS Blue Green Traffic Shift: production traffic moves to the new service by weights.

    setup = blue_green_create_service(ctx, target, BlueGreenCreateServiceOptions(
        load_balancer="web", prod_listener=arn, is_traffic_shift=True, stage_target_group_arn=tg))
    shift = blue_green_traffic_shift(ctx, target, TrafficShiftOptions(
        weights=[25, 50, 100], pause_seconds=60, setup=setup.rollback_data))
    blue_green_traffic_shift_rollback(ctx, target, shift.rollback_data)

- The prod rule gets a weighted forward (ForwardConfig) to the old (BLUE) and new (GREEN) target
  groups: the new one gets `weight` percent, the old one the rest. After each change the rule is
  read back and must say exactly that, else the step fails.
- One weight per step (`weight_percentage`, the reference's form: a pipeline repeats the step), or
  a list of `weights` applied in order with `pause_seconds` between them.
- At 100 the new service becomes BLUE: tags, autoscaling (if deferred to this step), the stage
  listener (if Create Service used one) pointed at the old target group, and the old service
  downsized to 0 unless `do_not_downsize_old_service`. Both target groups stay in the prod rule
  (old at weight 0), so the next deployment shifts back the same way.
- Rollback restores the prod rule's action list exactly as Create Service captured it, and
  undoes the cut-over (tags, the old service's count and autoscaling); the new service itself is
  left to ECS Blue Green Rollback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corral.errors import ConfigError, DeploymentError, Problem
from corral.step_log import ROLLBACK

from .bluegreen import (
    BLUE,
    GREEN,
    check_green_ready,
    deployed_pair,
    finish_cutover,
    pause,
    require_setup,
    restore_blue,
    restore_routes,
    set_version_tag,
    wait_turns,
)
from .context import StepContext
from .listeners import ListenerRule, RuleRouter, Weights, describe_weights, forward_weights
from .result import StepResult
from .target import EcsTarget

TRAFFIC_SHIFT = "Traffic Shift"


@dataclass
class TrafficShiftOptions:
    weight_percentage: int | None = None  # the new service's share after this step
    weights: list[int] = field(default_factory=list)  # ... or several shares, in order
    pause_seconds: float = 0.0  # between two weights of `weights`
    do_not_downsize_old_service: bool = False
    downsize_old_service_delay_in_secs: int = 0
    setup: dict[str, Any] = field(default_factory=dict)  # rollback data of the step before


def shift_plan(options: TrafficShiftOptions) -> list[int]:
    """The new service's weights, in order; 0-100 each."""
    plan = list(options.weights) or (
        [options.weight_percentage] if options.weight_percentage is not None else []
    )
    problems = [
        Problem("EcsBlueGreenTrafficShift", f"spec.weights[{i}]", f"expected a percentage 0-100, got {w}")
        for i, w in enumerate(plan)
        if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w <= 100
    ]
    if not plan:
        problems.append(Problem("EcsBlueGreenTrafficShift", "spec.weightPercentage", "a weight is required"))
    if problems:
        raise ConfigError(problems)
    return plan


def blue_green_traffic_shift(ctx: StepContext, target: EcsTarget, options: TrafficShiftOptions) -> StepResult:
    plan = shift_plan(options)
    setup = require_setup(options.setup, "ECS Blue Green Traffic Shift")
    data = {**setup, "trafficShiftStarted": True}
    ctx.adopt(setup)
    new_group, old_group = setup["stageTargetGroupArn"], setup["prodTargetGroupArn"]
    router = RuleRouter(ctx, ListenerRule.from_dict(setup["prodRule"]))
    ctx.log.section(TRAFFIC_SHIFT)
    with ctx.calls():
        wait_turns(ctx, setup["cluster"], deployed_pair(setup))
        ctx.checkpoint(data)
        if any(plan):
            check_green_ready(ctx, setup)
        weights: Weights = {}
        for index, weight in enumerate(plan):
            if index:
                ctx.log.info(f"Waiting {options.pause_seconds:g}s before the next shift")
                pause(ctx, options.pause_seconds)
            ctx.check()
            weights = router.set_weights(_split(router.weights(), new_group, old_group, weight))
            ctx.log.info(
                f"Production traffic: {weight}% to {setup['greenServiceName']}, {100 - weight}% to "
                f"{setup.get('blueServiceName') or 'the old target group'} ({describe_weights(weights)})"
            )
        shifted = plan[-1] == 100
        if shifted:
            _cut_over(ctx, setup, options)
    return StepResult(outputs={"trafficShifted": shifted, "weights": weights}, rollback_data=data)


def _split(current: Weights, new_group: str, old_group: str, weight: int) -> Weights:
    """The rule's weights with the new group at `weight` and the old at the rest; any other group
    the rule forwards to keeps its place at weight 0."""
    split = {arn: 0 for arn in current}
    if old_group not in split:
        split = {old_group: 0, **split}
    split[old_group] = 100 - weight
    split[new_group] = weight
    return split


def _cut_over(ctx: StepContext, setup: dict[str, Any], options: TrafficShiftOptions) -> None:
    if setup.get("stageRule") is not None:
        ctx.log.info(f"Modifying ELB Stage Listener to forward requests to {setup['prodTargetGroupArn']}")
        RuleRouter(ctx, ListenerRule.from_dict(setup["stageRule"])).set_weights(
            {setup["prodTargetGroupArn"]: 1}
        )
    finish_cutover(
        ctx,
        setup,
        do_not_downsize=options.do_not_downsize_old_service,
        delay=options.downsize_old_service_delay_in_secs,
    )


def blue_green_traffic_shift_rollback(
    ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]
) -> StepResult:
    """Old service back up if it was downsized, the listeners' original action lists, tags back."""
    ctx.log.section(ROLLBACK)
    if not rollback_data or not rollback_data.get("trafficShiftStarted"):
        ctx.log.info("No ECS Blue Green Traffic Shift ran: nothing to roll back")
        return StepResult(outputs={"rollbackSkipped": True})
    data = rollback_data
    ctx.adopt(data)
    with ctx.calls():
        wait_turns(ctx, data["cluster"], deployed_pair(data), may_refuse=False)
        restore_blue(ctx, data)
        restore_routes(ctx, data)
        set_version_tag(ctx, data["cluster"], data["greenServiceName"], GREEN)
        if data.get("blueServiceName"):
            set_version_tag(ctx, data["cluster"], data["blueServiceName"], BLUE)
        weights = RuleRouter(ctx, ListenerRule.from_dict(data["prodRule"])).weights()
        if weights != forward_weights(data["prodActions"]):
            raise DeploymentError(
                f"The production rule forwards to {describe_weights(weights)} after rollback"
            )
    return StepResult(outputs={"rollbackSkipped": False, "weights": weights})
