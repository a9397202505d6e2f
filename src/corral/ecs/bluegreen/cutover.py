"""What Swap Target Groups and Traffic Shift share: waiting their turn, checking the new service
is ready for production traffic, and the cut-over once it has all of it (tags, autoscaling, the
old service downsized)."""

from __future__ import annotations

from corral.errors import DeploymentError

from .. import autoscaling
from ..context import StepAborted, StepContext, StepTimedOut
from ..foreign_deployments import wait_turn
from ..listeners import healthy_targets
from ..services import describe_service, update_service
from .layout import BLUE, GREEN, TAG, is_active, version_tag
from .state import BlueGreenState


def wait_turns(ctx: StepContext, cluster: str, names: list[str], *, may_refuse: bool = True) -> None:
    """Wait while a deployment this execution did not start is in flight on any of the services."""
    for name in names:
        wait_turn(ctx, cluster, name, may_refuse=may_refuse)


def check_green_ready(ctx: StepContext, state: BlueGreenState) -> None:
    """Never send production traffic to a stage target group without a healthy target."""
    green, group = state.green_service_name, state.stage_target_group_arn
    if not is_active(describe_service(ctx, state.cluster, green)):
        raise DeploymentError(f"The new service {green} is not ACTIVE; production traffic stays where it is")
    if healthy_targets(ctx, group) == 0:
        raise DeploymentError(
            f"The stage target group {group} has no healthy target; production traffic stays where it is"
        )


def set_version_tag(ctx: StepContext, cluster: str, service: str, value: str) -> None:
    live = describe_service(ctx, cluster, service)
    if not is_active(live) or version_tag(live) == value:
        return
    assert live is not None
    ctx.log.info(f"Updating tag of service {service}: {TAG}={value}")
    ctx.clients.ecs.tag_resource(resourceArn=live["serviceArn"], tags=[{"key": TAG, "value": value}])


def finish_cutover(ctx: StepContext, state: BlueGreenState, *, do_not_downsize: bool, delay: float) -> None:
    """Once production traffic reaches the new service: retag, autoscaling, downsize the old one."""
    cluster, new, old = state.cluster, state.green_service_name, state.blue_service_name
    ctx.log.info(f"Updating tag of new service: {new}")
    set_version_tag(ctx, cluster, new, BLUE)
    if old:
        ctx.log.info(f"Updating tag of old service: {old}")
        set_version_tag(ctx, cluster, old, GREEN)
    if state.deferred_scaling is not None:
        autoscaling.replace(ctx, state.deferred_scaling, cluster, new)
    if not old:
        return
    autoscaling.remove(ctx, cluster, old)
    if do_not_downsize:
        ctx.log.info(f"Not downsizing the old service {old} (doNotDownsizeOldService)")
        return
    if delay > 0:
        ctx.log.info(f"Waiting {delay:g}s before downsizing the old service {old}")
        pause(ctx, delay)
    if is_active(describe_service(ctx, cluster, old)):
        update_service(ctx, {"cluster": cluster, "service": old, "desiredCount": 0})
        ctx.log.info(f"Downsized the old service {old} to 0 tasks (kept for a fast rollback)")


def pause(ctx: StepContext, seconds: float) -> None:
    """Sleep within the step's deadline; abort wakes it at once."""
    if ctx.abort.wait(min(seconds, max(ctx.remaining(), 0.0))):
        raise StepAborted("The step was aborted.")
    if ctx.remaining() <= 0:
        raise StepTimedOut(f"The step timed out while waiting {seconds:g}s")
