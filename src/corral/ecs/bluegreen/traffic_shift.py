"""ECS Blue Green Traffic Shift, Inherit: production traffic moves to the new service by weights.

    setup = blue_green_create_service(ctx, target, BlueGreenCreateServiceOptions(
        load_balancer="web", prod_listener=arn, is_traffic_shift=True, stage_target_group_arn=tg))
    shift = blue_green_traffic_shift(ctx, target, TrafficShiftOptions(
        weight_percentage=25, setup=setup.checkpoint))

Harness's `ecsTrafficShiftWrapper: {type: Inherit, spec: {weightPercentage: N}}`: the load
balancer, listener and rule are the ones Create Service used (its data is `setup`).

- The prod rule gets a weighted forward (ForwardConfig) to the old (BLUE) and new (GREEN) target
  groups: the new one gets `weight` percent, the old one the rest. After each change the rule is
  read back and must say exactly that, else the step fails.
- One weight per step (Harness's form: a pipeline repeats the step), or Corral's earlier form, a
  list of `weights` applied in order with `pause_seconds` between them.
- At 100 the new service becomes BLUE (Harness tags only then): tags, autoscaling (if deferred to
  this step), the stage listener (if Create Service used one) pointed at the old target group,
  and the old service downsized to 0 unless `do_not_downsize_old_service`. Both target groups stay
  in the prod rule (old at weight 0), so the next deployment shifts back the same way.
- ECS Blue Green Rollback undoes it all; Corral's earlier `EcsBlueGreenTrafficShiftRollback`
  (`blue_green_traffic_shift_rollback`) restores the listeners and the cut-over only, leaving the
  new service to ECS Blue Green Rollback.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corral.errors import ConfigError, DeploymentError, Problem
from corral.step_log import ROLLBACK
from corral.step_outcome import StepOutcome

from ..context import StepContext
from ..listeners import RuleRouter, Weights, describe_weights, forward_weights
from ..target import EcsTarget
from .cutover import check_green_ready, finish_cutover, pause, set_version_tag, wait_turns
from .layout import BLUE, GREEN
from .rollback import restore_blue, restore_routes
from .state import BlueGreenState

TRAFFIC_SHIFT = "Traffic Shift"
STEP = "EcsBlueGreenTrafficShift"


@dataclass
class TrafficShiftOptions:
    weight_percentage: int | None = None  # the new service's share after this step
    weights: list[int] = field(default_factory=list)  # ... or several shares, in order (Corral's form)
    pause_seconds: float = 0.0  # between two weights of `weights`
    do_not_downsize_old_service: bool = False
    downsize_old_service_delay_in_secs: int = 0
    setup: dict[str, Any] = field(default_factory=dict)  # rollback data of the step before


def shift_plan(options: TrafficShiftOptions) -> list[int]:
    """The new service's weights, in order; 0-100 each."""
    plan = list(options.weights) or (
        [options.weight_percentage] if options.weight_percentage is not None else []
    )
    field_name = (
        "spec.weights[{}]" if options.weights else "spec.ecsTrafficShiftWrapper.spec.weightPercentage"
    )
    problems = [
        Problem(STEP, field_name.format(i), f"expected a percentage 0-100, got {w}")
        for i, w in enumerate(plan)
        if not isinstance(w, int) or isinstance(w, bool) or not 0 <= w <= 100
    ]
    if not plan:
        problems.append(
            Problem(STEP, "spec.ecsTrafficShiftWrapper.spec.weightPercentage", "a weight is required")
        )
    if problems:
        raise ConfigError(problems)
    return plan


def blue_green_traffic_shift(
    ctx: StepContext, target: EcsTarget, options: TrafficShiftOptions
) -> StepOutcome:
    plan = shift_plan(options)
    setup = BlueGreenState.require(options.setup, "ECS Blue Green Traffic Shift")
    state = setup.but(traffic_shift_started=True)
    ctx.adopt(options.setup)
    new_group, old_group = state.stage_target_group_arn, state.prod_target_group_arn
    router = RuleRouter(ctx, state.prod_rule)
    ctx.log.section(TRAFFIC_SHIFT)
    with ctx.calls():
        wait_turns(ctx, state.cluster, state.deployed_pair)
        ctx.checkpoint(state.to_journal(ctx))
        if any(plan):
            check_green_ready(ctx, state)
        weights: Weights = {}
        for index, weight in enumerate(plan):
            if index:
                ctx.log.info(f"Waiting {options.pause_seconds:g}s before the next shift")
                pause(ctx, options.pause_seconds)
            ctx.check()
            weights = router.set_weights(_split(router.weights(), new_group, old_group, weight))
            ctx.log.info(
                f"Production traffic: {weight}% to {state.green_service_name}, {100 - weight}% to "
                f"{state.blue_service_name or 'the old target group'} ({describe_weights(weights)})"
            )
        shifted = plan[-1] == 100
        if shifted:
            _cut_over(ctx, state, options)
    return StepOutcome(
        outputs={"trafficShifted": shifted, "weights": weights}, checkpoint=state.to_journal(ctx)
    )


def _split(current: Weights, new_group: str, old_group: str, weight: int) -> Weights:
    """The rule's weights with the new group at `weight` and the old at the rest; any other group
    the rule forwards to keeps its place at weight 0."""
    split = {arn: 0 for arn in current}
    if old_group not in split:
        split = {old_group: 0, **split}
    split[old_group] = 100 - weight
    split[new_group] = weight
    return split


def _cut_over(ctx: StepContext, state: BlueGreenState, options: TrafficShiftOptions) -> None:
    if state.stage_rule is not None:
        ctx.log.info(f"Modifying ELB Stage Listener to forward requests to {state.prod_target_group_arn}")
        RuleRouter(ctx, state.stage_rule).set_weights({state.prod_target_group_arn: 1})
    finish_cutover(
        ctx,
        state,
        do_not_downsize=options.do_not_downsize_old_service,
        delay=options.downsize_old_service_delay_in_secs,
    )


def blue_green_traffic_shift_rollback(
    ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]
) -> StepOutcome:
    """Corral's EcsBlueGreenTrafficShiftRollback: old service back up if it was downsized, the
    listeners' original action lists, tags back."""
    ctx.log.section(ROLLBACK)
    if not BlueGreenState.in_journal(rollback_data) or not rollback_data.get("trafficShiftStarted"):
        ctx.log.info("No ECS Blue Green Traffic Shift ran: nothing to roll back")
        return StepOutcome(outputs={"rollbackSkipped": True})
    state = BlueGreenState.from_journal(rollback_data)
    ctx.adopt(rollback_data)
    with ctx.calls():
        wait_turns(ctx, state.cluster, state.deployed_pair, may_refuse=False)
        restore_blue(ctx, state)
        restore_routes(ctx, state)
        set_version_tag(ctx, state.cluster, state.green_service_name, GREEN)
        if state.blue_service_name:
            set_version_tag(ctx, state.cluster, state.blue_service_name, BLUE)
        weights = RuleRouter(ctx, state.prod_rule).weights()
        if weights != forward_weights(state.prod_actions):
            raise DeploymentError(
                f"The production rule forwards to {describe_weights(weights)} after rollback"
            )
    return StepOutcome(outputs={"rollbackSkipped": False, "weights": weights})
