"""ECS Blue Green Create Service: the stage (GREEN) service beside the live (BLUE) one.

    setup = blue_green_create_service(ctx, target, BlueGreenCreateServiceOptions(
        load_balancer="web", prod_listener=prod_arn, stage_listener=stage_arn))

In the order the docs describe: wait while a deployment this execution did not start is in flight
on `<name>__1` or `<name>__2` (foreign_deployments); fetch the load balancer, its listeners and
rules; decide which service is live by traffic (layout.plan_layout), repairing half states;
capture the rollback data; then (re)create the stage service, tagged GREEN, in the stage target
group, wait for its steady state and attach its autoscaling (or leave that to the cut-over).

With `is_traffic_shift` (Harness's `isTrafficShift`) there is no stage listener: the prod rule
forwards to both target groups, the stage one (`stageTargetGroupArn`, else the rule's other group)
at weight 0, and ECS Blue Green Traffic Shift moves the weights.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from corral.errors import ConfigError, DeploymentError, Problem
from corral.step_log import DEPLOY, PREPARE_ROLLBACK_DATA, WAIT_FOR_STEADY_STATE
from corral.step_outcome import StepOutcome

from .. import autoscaling, task_definitions
from ..context import StepContext
from ..listeners import ListenerRule, RuleRouter, live_groups, target_group_port
from ..native.started import refuse_native_strategy
from ..service_requests import clear_removed, create_request, request_from_live, update_request
from ..services import (
    create_service,
    delete_service,
    describe_service,
    primary_deployment,
    primary_deployment_id,
    reconcile_tags,
    update_service,
    wait_until_inactive,
)
from ..snapshot import ServiceSnapshot
from ..steady_state import wait_for_steady_state
from ..target import EcsTarget
from .cutover import set_version_tag, wait_turns
from .layout import GREEN, TAG, Found, Plan, is_active, pair_names, plan_layout, target_groups_of
from .live import Listeners, read_found, resolve_rules
from .state import BlueGreenState

TARGET_GROUP_PLACEHOLDER = "<+targetGroupArn>"


@dataclass
class BlueGreenCreateServiceOptions(Listeners):
    same_as_already_running_instances: bool = False
    enable_auto_scaling_in_swap_step: bool = False
    update_green_service: bool = False


def blue_green_create_service(
    ctx: StepContext, target: EcsTarget, options: BlueGreenCreateServiceOptions
) -> StepOutcome:
    """Resolve target groups, find BLUE (repairing half states), refuse what would eat the live
    service, capture rollback data, then (re)create the stage service tagged GREEN and wait."""
    cluster = target.cluster
    refuse_native_strategy(target.service_definition, target.service_name, "ECS Blue Green Create Service")
    ctx.log.section(PREPARE_ROLLBACK_DATA)
    with ctx.calls():
        wait_turns(ctx, cluster, pair_names(target.service_name))
        ctx.log.info(f"Fetching load balancer {options.load_balancer} and its listeners and rules")
        prod_rule, stage_rule = resolve_rules(ctx, options)
        found = read_found(ctx, cluster, target.service_name, options, prod_rule, stage_rule)
        plan = plan_layout(target.service_name, found)
        _log_plan(ctx, plan)
        _check_placeholder(target)
        _check_target_port(ctx, target, plan.stage_group)
        state = _capture(ctx, target, options, found, plan, prod_rule, stage_rule)
        ctx.checkpoint(state.to_journal(ctx))
        _repair(ctx, found, plan, prod_rule, stage_rule, cluster)

    ctx.log.section(DEPLOY)
    ctx.check()
    with ctx.calls():
        task_definition_arn, _ = task_definitions.for_target(ctx, target)
        request = green_request(
            target, plan, task_definition_arn, _desired_count(target, options, found, plan)
        )
        live_green = describe_service(ctx, cluster, plan.green)
        _never_the_live_service(ctx, prod_rule, live_green)
        action = "update" if options.update_green_service and is_active(live_green) else "replace"
        state.green_action = action
        adopted = _made_by_an_earlier_attempt(ctx, plan.green, live_green, task_definition_arn)
        deployment_id: str | None
        if adopted is not None:  # a re-run after a crash: the new service is not made again
            ctx.log.info(
                f"Service {plan.green} is the one an earlier attempt of this step created; it is kept"
            )
            deployment_id, created = adopted, True
        else:
            data = state.to_journal(ctx)
            ctx.starting(data, plan.green, task_definition_arn, primary_deployment_id(live_green or {}))
            deployment_id, created = _deploy_green(ctx, request, live_green, action)
            ctx.started(data, deployment_id)

    ctx.log.section(WAIT_FOR_STEADY_STATE)
    ctx.check()
    with ctx.calls():
        wait_for_steady_state(
            ctx,
            cluster,
            plan.green,
            deployment_id=deployment_id,
            task_definition_arn=task_definition_arn,
            just_started=adopted is None,  # _deploy_green always starts a deployment
        )
        if options.enable_auto_scaling_in_swap_step:
            ctx.log.info("Autoscaling is attached to the new service in the swap step")
        else:
            autoscaling.replace(ctx, target.scaling, cluster, plan.green)
    return StepOutcome(
        outputs=_outputs(options, plan, prod_rule, stage_rule, created), checkpoint=state.to_journal(ctx)
    )


def _log_plan(ctx: StepContext, plan: Plan) -> None:
    for finding in plan.findings:
        ctx.log.warn(f"Found an interrupted Blue Green deployment: {finding}")
    ctx.log.info(f"Prod target group: {plan.prod_group}")
    ctx.log.info(f"Stage target group: {plan.stage_group}")
    if plan.blue is None:
        ctx.log.info(f"No service serves production traffic yet; the new service is {plan.green}")
    else:
        ctx.log.info(f"BLUE (live) service: {plan.blue}; the new service is {plan.green} (GREEN)")


def _check_placeholder(target: EcsTarget) -> None:
    balancers = (target.service_definition or {}).get("loadBalancers") or []
    if not any(lb.get("targetGroupArn") == TARGET_GROUP_PLACEHOLDER for lb in balancers):
        source = target.sources.get("EcsServiceDefinition", "service definition")
        message = (
            f"a Blue Green service definition needs a load balancer with targetGroupArn: "
            f"{TARGET_GROUP_PLACEHOLDER} (the stage target group is put there)"
        )
        raise ConfigError([Problem(source, "loadBalancers", message)])


def _check_target_port(ctx: StepContext, target: EcsTarget, stage_group: str) -> None:
    """A container must map the stage target group's port (the reference's check and message)."""
    from corral.manifests import check_target_port

    if target.task_definition is not None:
        body = target.task_definition
    else:
        body = ctx.clients.ecs.describe_task_definition(taskDefinition=target.task_definition_arn)[
            "taskDefinition"
        ]
    source = target.sources.get("EcsTaskDefinition", "task definition")
    check_target_port(body, target_group_port(ctx, stage_group), stage_group, source=source)


# ------------------------------------------------------------------ the state before, and repairs


def _capture(
    ctx: StepContext,
    target: EcsTarget,
    options: BlueGreenCreateServiceOptions,
    found: Found,
    plan: Plan,
    prod_rule: ListenerRule,
    stage_rule: ListenerRule | None,
) -> BlueGreenState:
    cluster = target.cluster
    blue = _snapshot(ctx, cluster, plan.blue, plan, found) if plan.blue else None
    blue_count = None
    if blue is not None and blue.request is not None:
        blue_count = int(blue.request.get("desiredCount", 0))
        manifest = int((target.service_definition or {}).get("desiredCount") or 0)
        blue.request["desiredCount"] = max(blue_count, manifest)
    return BlueGreenState(
        cluster=cluster,
        service_name=target.service_name,
        load_balancer=options.load_balancer,
        blue_service_name=plan.blue,
        green_service_name=plan.green,
        prod_rule=prod_rule,
        prod_actions=plan.prod_actions,
        stage_rule=stage_rule,
        stage_actions=plan.stage_actions,
        prod_target_group_arn=plan.prod_group,
        stage_target_group_arn=plan.stage_group,
        traffic_shift=options.is_traffic_shift,
        blue=blue,
        blue_desired_count=blue_count,
        green=_snapshot(ctx, cluster, plan.green, plan, found),
        deferred_scaling=target.scaling if options.enable_auto_scaling_in_swap_step else None,
    )


def _snapshot(ctx: StepContext, cluster: str, name: str, plan: Plan, found: Found) -> ServiceSnapshot:
    """The service as it was found (after tag repairs): the request that recreates it, its autoscaling."""
    live = found.services.get(name)
    if not is_active(live):
        ctx.log.info(f"Service {name} is {(live or {}).get('status', 'MISSING')}")
        return ServiceSnapshot(cluster, name, exists=False, status=(live or {}).get("status", "MISSING"))
    assert live is not None
    request = request_from_live(live, cluster=cluster)
    if name in plan.retag:  # the repaired tag is the state to return to
        tags = [t for t in request.get("tags", []) if t.get("key") != TAG]
        request["tags"] = [*tags, {"key": TAG, "value": plan.retag[name]}]
    scaling = autoscaling.capture(ctx, cluster, name)
    ctx.log.info(
        f"Captured service {name}: task definition {live['taskDefinition']}, desired count "
        f"{live['desiredCount']}, {len(scaling.targets)} scalable target(s), {len(scaling.policies)} scaling policy(ies)"
    )
    return ServiceSnapshot(cluster, name, True, request, scaling, "ACTIVE")


def _repair(
    ctx: StepContext,
    found: Found,
    plan: Plan,
    prod_rule: ListenerRule,
    stage_rule: ListenerRule | None,
    cluster: str,
) -> None:
    """Make listeners and tags consistent (BLUE = what prod reaches) before deploying anything."""
    # only what the plan changes is written: a listener someone changed meanwhile is not reverted
    if plan.prepared_prod_actions != found.prod_actions:
        RuleRouter(ctx, prod_rule).restore(plan.prepared_prod_actions)
    if (
        stage_rule is not None
        and plan.stage_actions is not None
        and plan.stage_actions != found.stage_actions
    ):
        RuleRouter(ctx, stage_rule).restore(plan.stage_actions)
    for service, value in plan.retag.items():
        set_version_tag(ctx, cluster, service, value)
    if plan.findings:
        ctx.log.info("Repaired the Blue Green state: production traffic reaches the BLUE service")


# ------------------------------------------------------------------ the green service


def _desired_count(
    target: EcsTarget, options: BlueGreenCreateServiceOptions, found: Found, plan: Plan
) -> int | None:
    if options.same_as_already_running_instances and plan.blue is not None:
        blue = found.services[plan.blue]
        assert blue is not None
        return int(blue["desiredCount"])
    count = (target.service_definition or {}).get("desiredCount")
    return None if count is None else int(count)


def green_request(
    target: EcsTarget, plan: Plan, task_definition_arn: str, desired: int | None
) -> dict[str, Any]:
    """The CreateService request of the stage service: named `<name>__N`, registered in the stage
    target group in place of `<+targetGroupArn>`, tagged GREEN."""
    definition = copy.deepcopy(target.service_definition or {})
    balancers = definition.get("loadBalancers") or []
    for lb in balancers:
        if lb.get("targetGroupArn") == TARGET_GROUP_PLACEHOLDER:
            lb["targetGroupArn"] = plan.stage_group
    request = create_request(definition, cluster=target.cluster, task_definition_arn=task_definition_arn)
    request["serviceName"] = plan.green
    if desired is not None:
        request["desiredCount"] = desired
    tags = [t for t in request.get("tags", []) if t.get("key") != TAG]
    request["tags"] = [*tags, {"key": TAG, "value": GREEN}]
    return request


def _never_the_live_service(ctx: StepContext, prod_rule: ListenerRule, green: dict[str, Any] | None) -> None:
    """Read production's target groups again right before the stage service is replaced: another
    deployment may have swapped since the plan was made."""
    serving = set(live_groups(RuleRouter(ctx, prod_rule).actions())) & set(
        target_groups_of(green) if is_active(green) else []
    )
    if serving:
        assert green is not None
        raise DeploymentError(
            f"{green['serviceName']} now serves production traffic (through {', '.join(sorted(serving))}): "
            "the listeners changed while this step ran; it does not replace a live service"
        )


def _made_by_an_earlier_attempt(
    ctx: StepContext, name: str, live: dict[str, Any] | None, task_definition_arn: str
) -> str | None:
    """The PRIMARY deployment of `live`, the new service, when it runs this task definition and
    this execution journaled it as its own (an attempt of this step that died after making it)."""
    if live is None or not is_active(live) or not (ctx.own.started or ctx.own.starting):
        return None
    primary = primary_deployment(live)
    if primary is None or primary.get("taskDefinition") != task_definition_arn:
        return None
    return str(primary.get("id")) if ctx.own.is_ours(name, primary) else None


def _deploy_green(
    ctx: StepContext, request: dict[str, Any], live: dict[str, Any] | None, action: str
) -> tuple[str | None, bool]:
    """(deployment id to wait for, whether a new service was created)."""
    cluster, name = request["cluster"], request["serviceName"]
    if action == "update":
        assert live is not None
        update = clear_removed(update_request(request), live)
        update["forceNewDeployment"] = True
        service = update_service(ctx, update)
        reconcile_tags(ctx, live["serviceArn"], live.get("tags"), request["tags"])
        return primary_deployment_id(service), False
    if is_active(live):
        ctx.log.info(f"Deleting existing non-blue version Service: {name}")
        autoscaling.remove(ctx, cluster, name)
        delete_service(ctx, cluster, name)
        ctx.log.info(f"Deleted non-blue version Service: {name}")
    elif live is not None and live.get("status") == "DRAINING":
        wait_until_inactive(ctx, cluster, name)
    service = create_service(ctx, request)
    return primary_deployment_id(service), True


def _outputs(
    options: BlueGreenCreateServiceOptions,
    plan: Plan,
    prod_rule: ListenerRule,
    stage_rule: ListenerRule | None,
    created: bool,
) -> dict[str, Any]:
    return {
        "serviceName": plan.green,
        "loadBalancer": options.load_balancer,
        "prodListener": options.prod_listener,
        "prodListenerRuleArn": prod_rule.rule_arn,  # the default rule's ARN when none was given
        "stageListener": options.stage_listener,
        "stageListenerRuleArn": stage_rule.rule_arn if stage_rule is not None else "",
        "targetGroupArn": plan.stage_group,
        "prodTargetGroupArn": plan.prod_group,
        "isNewServiceCreated": created,
        "greenServiceName": plan.green,
        "blueServiceName": plan.blue,
    }
