"""ECS Blue Green Swap Target Groups: production traffic to the new service, all at once.

    swap = blue_green_swap_target_groups(ctx, target, SwapTargetGroupsOptions(setup=setup.checkpoint))

In the order the docs describe: the prod listener forwards to the stage target group, the stage
listener to the old prod one; then the cut-over: the new service is tagged BLUE and the old one
GREEN, autoscaling moves to the new service, and the old one is downsized to 0 (after
`downsizeOldServiceDelayInSecs`) unless `doNotDownsizeOldService`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corral.errors import DeploymentError
from corral.step_outcome import StepOutcome

from ..context import StepContext
from ..listeners import RuleRouter
from ..target import EcsTarget
from .cutover import check_green_ready, finish_cutover, wait_turns
from .state import BlueGreenState

SWAP_TARGET_GROUPS = "Swap Target Groups"


@dataclass
class SwapTargetGroupsOptions:
    do_not_downsize_old_service: bool = False
    downsize_old_service_delay_in_secs: int = 0
    setup: dict[str, Any] = field(default_factory=dict)  # the Create Service step's rollback data


def blue_green_swap_target_groups(
    ctx: StepContext, target: EcsTarget, options: SwapTargetGroupsOptions
) -> StepOutcome:
    """Point prod at the stage target group and stage at the old prod one, retag, move autoscaling
    to the new BLUE service and downsize the old one."""
    setup = BlueGreenState.require(options.setup, "ECS Blue Green Swap Target")
    if setup.traffic_shift or setup.stage_rule is None:
        raise DeploymentError(
            "ECS Blue Green Create Service ran for traffic shifting: use ECS Blue Green Traffic Shift, not Swap"
        )
    state = setup.but(swap_started=True)
    ctx.adopt(options.setup)
    ctx.log.section(SWAP_TARGET_GROUPS)
    with ctx.calls():
        wait_turns(ctx, state.cluster, state.deployed_pair)
        ctx.checkpoint(state.to_journal(ctx))
        check_green_ready(ctx, state)
        prod, stage = RuleRouter(ctx, state.prod_rule), RuleRouter(ctx, setup.stage_rule)
        new_group, old_group = state.stage_target_group_arn, state.prod_target_group_arn
        ctx.check()
        ctx.log.info(f"Modifying ELB Prod Listener to forward requests to target group {new_group}")
        prod.set_weights({new_group: 1})
        ctx.log.info("Successfully updated Prod Listener")
        ctx.checkpoint(state.but(prod_swapped=True).to_journal(ctx))
        ctx.log.info(f"Modifying ELB Stage Listener to forward requests to target group {old_group}")
        stage.set_weights({old_group: 1})
        ctx.log.info("Successfully updated Stage Listener")
        finish_cutover(
            ctx,
            state,
            do_not_downsize=options.do_not_downsize_old_service,
            delay=options.downsize_old_service_delay_in_secs,
        )
    return StepOutcome(outputs={"trafficShifted": True}, checkpoint=state.to_journal(ctx))
