"""ECS Blue Green Rollback: everything back as Create Service found it.

    blue_green_rollback(ctx, target, last.checkpoint)   # the data of the last Blue Green step that ran

In order: wait (never refuse) while a deployment this execution did not start is in flight; the
old BLUE service back to its count (recreated if gone) with its autoscaling and tags; the prod and
stage listener rules back to the captured action lists (weights included); then the green service
deleted, or returned to its state before the deployment (`updateGreenService`, or a service that
existed under that name).
"""

from __future__ import annotations

import copy
from typing import Any

from corral.errors import DeploymentError
from corral.step_log import ROLLBACK
from corral.step_outcome import StepOutcome

from .. import autoscaling
from ..context import StepAborted, StepContext, StepTimedOut
from ..listeners import ListenerRule, RuleRouter, describe_weights, forward_weights, live_groups
from ..service_requests import clear_removed, update_request
from ..services import (
    create_service,
    delete_service,
    describe_service,
    primary_deployment_id,
    reconcile_tags,
    update_service,
    wait_until_inactive,
)
from ..snapshot import ServiceSnapshot
from ..steady_state import wait_for_steady_state
from ..target import EcsTarget
from .cutover import wait_turns
from .layout import is_active
from .state import BlueGreenState


def blue_green_rollback(ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]) -> StepOutcome:
    """Old BLUE back to its count (recreated if gone) with its autoscaling, listeners back to the
    captured actions, tags back, and the green service removed or returned to its prior state."""
    ctx.log.section(ROLLBACK)
    if not BlueGreenState.in_journal(rollback_data):
        ctx.log.info("No ECS Blue Green Create Service ran: nothing to roll back")
        return StepOutcome(outputs={"rollbackSkipped": True})
    state = BlueGreenState.from_journal(rollback_data)
    ctx.adopt(rollback_data)
    with ctx.calls():
        wait_turns(ctx, state.cluster, state.deployed_pair, may_refuse=False)
        restore_blue(ctx, state)
        restore_routes(ctx, state)
        _restore_green(ctx, state)
    return StepOutcome(outputs={"rollbackSkipped": False, "serviceName": state.blue_service_name})


def restore_blue(ctx: StepContext, state: BlueGreenState) -> None:
    if state.blue is None:
        return
    snap = state.blue
    assert snap.request is not None
    cluster, name = snap.cluster, snap.service_name
    live = describe_service(ctx, cluster, name)
    if not is_active(live):
        ctx.log.info(f"Service {name} is {live['status'] if live else 'MISSING'}; recreating it")
        if live is not None and live.get("status") == "DRAINING":
            wait_until_inactive(ctx, cluster, name)
        service = create_service(ctx, copy.deepcopy(snap.request))
        _wait(ctx, cluster, name, primary_deployment_id(service), snap.request["taskDefinition"])
    else:
        assert live is not None
        if int(live["desiredCount"]) < int(state.blue_desired_count or 0):
            count = max(int(snap.request.get("desiredCount", 0)), int(live["desiredCount"]))
            ctx.log.info(f"Bringing {name} back to {count} tasks")
            seen = {e["id"] for e in live.get("events", [])}
            update_service(ctx, {"cluster": cluster, "service": name, "desiredCount": count})
            wait_until_scaled(ctx, cluster, name, seen)
        reconcile_tags(ctx, live["serviceArn"], live.get("tags"), snap.request.get("tags", []))
    autoscaling.restore(ctx, snap.scaling, cluster, name)


def restore_routes(ctx: StepContext, state: BlueGreenState) -> None:
    restore_rule(ctx, state.prod_rule, state.prod_actions, "Prod Listener")
    if state.stage_rule is not None and state.stage_actions is not None:
        restore_rule(ctx, state.stage_rule, state.stage_actions, "Stage Listener")


def restore_rule(ctx: StepContext, rule: ListenerRule, actions: list[dict[str, Any]], what: str) -> None:
    """The rule's action list back as captured; a target group about to get traffic again first
    passes its health checks."""
    router = RuleRouter(ctx, rule)
    if router.actions() == actions:
        return
    for group in live_groups(actions):
        router.warm_up(group)
    ctx.log.info(f"Pointing the {what} back to {describe_weights(forward_weights(actions))}")
    router.restore(actions)


def _restore_green(ctx: StepContext, state: BlueGreenState) -> None:
    cluster, name, action = state.cluster, state.green_service_name, state.green_action
    prior = state.green
    live = describe_service(ctx, cluster, name)
    if action is None:  # the deployment never touched it; its tag may have been repaired
        if is_active(live) and prior.request is not None:
            assert live is not None
            reconcile_tags(ctx, live["serviceArn"], live.get("tags"), prior.request.get("tags", []))
        return
    if action == "update" and prior.request is not None and is_active(live):
        assert live is not None
        ctx.log.info(f"Returning {name} to its state before the deployment")
        update = clear_removed(update_request(copy.deepcopy(prior.request)), live)
        update["forceNewDeployment"] = True
        service = update_service(ctx, update)
        _wait(ctx, cluster, name, primary_deployment_id(service), prior.request["taskDefinition"])
        reconcile_tags(ctx, live["serviceArn"], live.get("tags"), prior.request.get("tags", []))
        autoscaling.restore(ctx, prior.scaling, cluster, name)
        return
    if is_active(live):
        ctx.log.info(f"Deleting {name}, created by the failed deployment")
        autoscaling.remove(ctx, cluster, name)
        delete_service(ctx, cluster, name)
    if prior.exists and prior.request is not None:
        ctx.log.info(f"Recreating {name} as it was before the deployment")
        _recreate(ctx, prior)


def _recreate(ctx: StepContext, prior: ServiceSnapshot) -> None:
    assert prior.request is not None
    service = create_service(ctx, copy.deepcopy(prior.request))
    _wait(
        ctx,
        prior.cluster,
        prior.service_name,
        primary_deployment_id(service),
        prior.request["taskDefinition"],
    )
    autoscaling.restore(ctx, prior.scaling, prior.cluster, prior.service_name)


def wait_until_scaled(ctx: StepContext, cluster: str, name: str, seen_events: set[str]) -> None:
    """After a desired-count change (no new deployment): wait for all tasks running and a new
    `has reached a steady state.` event, which ECS emits only once load balancer targets are healthy."""
    from corral.aws.poller import ServicePoller
    from corral.aws.retry import Aborted

    def scaled(service: dict[str, Any]) -> bool:
        if service.get("status") != "ACTIVE":
            raise DeploymentError(f"Service {name} is {service.get('status', 'MISSING')}")
        steady = any(
            e["id"] not in seen_events and e["message"].endswith("has reached a steady state.")
            for e in service.get("events", [])
        )
        return steady and service.get("runningCount") == service.get("desiredCount")

    ctx.log.info(f"Waiting for Service {name} to reach steady state")
    with ServicePoller.for_cluster(ctx.clients, cluster).watch(name) as watch:
        try:
            watch.wait(scaled, deadline=ctx.deadline, abort=ctx.abort)
        except TimeoutError as exc:
            raise StepTimedOut(f"Timed out waiting for service {name} to reach a steady state") from exc
        except Aborted as exc:
            raise StepAborted(f"Aborted while waiting for service {name}") from exc
    ctx.log.info(f"Service {name} reached steady state")


def _wait(ctx: StepContext, cluster: str, name: str, deployment_id: str | None, task_definition: str) -> None:
    wait_for_steady_state(
        ctx, cluster, name, deployment_id=deployment_id, task_definition_arn=task_definition
    )
