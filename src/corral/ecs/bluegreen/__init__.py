"""ECS Blue Green, one module per step, in the order the docs describe them.

create_service.py   ECS Blue Green Create Service (isTrafficShift, stageTargetGroupArn)
swap.py             ECS Blue Green Swap Target Groups
traffic_shift.py    ECS Blue Green Traffic Shift, Inherit (and Corral's earlier weights form)
standalone.py       ECS Blue Green Traffic Shift, Standalone; Stand Alone Traffic Shift Rollback
rollback.py         ECS Blue Green Rollback

layout.py           which service is live and where traffic goes (pure; `corral plan` uses it too)
live.py             reading the listener rules and the `<name>__1` / `<name>__2` pair
state.py            the journaled state (rollback data) every step reads and extends
cutover.py          what Swap and Traffic Shift share: readiness, the cut-over, waiting
preview.py          what `corral plan` shows and checks of a Blue Green stage (read calls only)

setup = blue_green_create_service(ctx, target, BlueGreenCreateServiceOptions(
    load_balancer="web", prod_listener=prod_arn, stage_listener=stage_arn))
swap = blue_green_swap_target_groups(ctx, target, SwapTargetGroupsOptions(setup=setup.checkpoint))
blue_green_rollback(ctx, target, swap.checkpoint)   # the data of the last Blue Green step that ran
"""

from .create_service import BlueGreenCreateServiceOptions, blue_green_create_service, green_request
from .layout import BLUE, GREEN, SUFFIXES, TAG, Found, Plan, plan_layout
from .rollback import blue_green_rollback
from .standalone import StandaloneShiftOptions, standalone_traffic_shift, standalone_traffic_shift_rollback
from .state import BlueGreenState
from .swap import SwapTargetGroupsOptions, blue_green_swap_target_groups
from .traffic_shift import (
    TrafficShiftOptions,
    blue_green_traffic_shift,
    blue_green_traffic_shift_rollback,
    shift_plan,
)

__all__ = [
    "BLUE",
    "GREEN",
    "SUFFIXES",
    "TAG",
    "BlueGreenCreateServiceOptions",
    "BlueGreenState",
    "Found",
    "Plan",
    "StandaloneShiftOptions",
    "SwapTargetGroupsOptions",
    "TrafficShiftOptions",
    "blue_green_create_service",
    "blue_green_rollback",
    "blue_green_swap_target_groups",
    "blue_green_traffic_shift",
    "blue_green_traffic_shift_rollback",
    "green_request",
    "plan_layout",
    "shift_plan",
    "standalone_traffic_shift",
    "standalone_traffic_shift_rollback",
]
