"""ECS Blue Green: Create Service, Swap Target Groups and Rollback, in the order the docs describe.

    setup = blue_green_create_service(ctx, target, BlueGreenCreateServiceOptions(
        load_balancer="web", prod_listener=prod_arn, stage_listener=stage_arn))
    swap = blue_green_swap_target_groups(ctx, target, SwapTargetGroupsOptions(setup=setup.rollback_data))
    blue_green_rollback(ctx, target, swap.rollback_data)   # the data of the last Blue Green step that ran

- Each step first waits while a deployment this execution did not start is in flight on
  `<name>__1` or `<name>__2` (foreign_deployments); rollback always waits, never refuses.
- Services are `<name>__1` and `<name>__2`, tagged `BG_VERSION=BLUE|GREEN`. The stage service is
  the suffix that is not BLUE.
- **Improved on the reference**: BLUE is the service production traffic reaches (registered in the
  target group the prod rule forwards to); tags that disagree are repaired, as are listeners an
  interrupted swap left pointing at one target group, or production traffic an interrupted traffic
  shift left split. A stage target group the live service uses is refused; the reference deletes
  the live service then.
- Each later step (Swap Target Groups, Traffic Shift) takes the rollback data of the step before it
  as `setup` and returns it extended, so Rollback needs only the last one, even in a new process.
- Rollback returns every service, tag, autoscaling target and policy and listener action to what
  Create Service captured (after repairs: the consistent state before this deployment).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from corral.errors import ConfigError, DeploymentError, Problem
from corral.step_log import DEPLOY, PREPARE_ROLLBACK_DATA, ROLLBACK, WAIT_FOR_STEADY_STATE

from . import autoscaling, task_definitions
from .autoscaling import Scaling
from .context import StepAborted, StepContext, StepTimedOut
from .foreign_deployments import wait_turn
from .listeners import (
    Actions,
    ListenerRule,
    RuleRouter,
    describe_weights,
    forward_weights,
    healthy_targets,
    live_groups,
    resolve_rule,
    short_arn,
    target_group_port,
    with_forward,
)
from .result import StepResult
from .service_requests import clear_removed, create_request, request_from_live, update_request
from .services import (
    create_service,
    delete_service,
    describe_service,
    primary_deployment_id,
    reconcile_tags,
    tag_map,
    update_service,
    wait_until_inactive,
)
from .snapshot import ServiceSnapshot
from .steady_state import wait_for_steady_state
from .target import EcsTarget

TAG = "BG_VERSION"
BLUE = "BLUE"
GREEN = "GREEN"
SUFFIXES = ("__1", "__2")
TARGET_GROUP_PLACEHOLDER = "<+targetGroupArn>"
SWAP_TARGET_GROUPS = "Swap Target Groups"


@dataclass
class BlueGreenCreateServiceOptions:
    load_balancer: str
    prod_listener: str
    prod_listener_rule_arn: str = ""
    stage_listener: str = ""
    stage_listener_rule_arn: str = ""
    same_as_already_running_instances: bool = False
    enable_auto_scaling_in_swap_step: bool = False
    update_green_service: bool = False
    # traffic shift flow (EcsBlueGreenTrafficShift): one prod rule forwarding to both target groups
    is_traffic_shift: bool = False
    stage_target_group_arn: str = ""  # inferred from the prod rule when it forwards to exactly two


@dataclass
class SwapTargetGroupsOptions:
    do_not_downsize_old_service: bool = False
    downsize_old_service_delay_in_secs: int = 0
    setup: dict[str, Any] = field(default_factory=dict)  # the Create Service step's rollback data


# ================================================================== Create Service


def blue_green_create_service(
    ctx: StepContext, target: EcsTarget, options: BlueGreenCreateServiceOptions
) -> StepResult:
    """Resolve target groups, find BLUE (repairing half states), refuse what would eat the live
    service, capture rollback data, then (re)create the stage service tagged GREEN and wait."""
    cluster = target.cluster
    ctx.log.section(PREPARE_ROLLBACK_DATA)
    with ctx.calls():
        wait_turns(ctx, cluster, [target.service_name + suffix for suffix in SUFFIXES])
        prod_rule, stage_rule = _resolve_rules(ctx, options)
        found = _read_state(ctx, target, options, prod_rule, stage_rule)
        plan = plan_layout(target.service_name, found)
        _log_plan(ctx, plan)
        _check_placeholder(target)
        _check_target_port(ctx, target, plan.stage_group)
        data = _rollback_data(ctx, target, options, found, plan, prod_rule, stage_rule)
        ctx.checkpoint(data)
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
        action = "update" if options.update_green_service and _active(live_green) else "replace"
        data = {**data, "greenAction": action}
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
            just_started=True,  # _deploy_green always starts a deployment
        )
        if options.enable_auto_scaling_in_swap_step:
            ctx.log.info("Autoscaling is attached to the new service in the swap step")
        else:
            autoscaling.replace(ctx, target.scaling, cluster, plan.green)
    return StepResult(
        outputs=_create_outputs(options, plan, prod_rule, stage_rule, created), rollback_data=data
    )


def _resolve_rules(
    ctx: StepContext, options: BlueGreenCreateServiceOptions
) -> tuple[ListenerRule, ListenerRule | None]:
    ctx.log.info(f"Fetching load balancer {options.load_balancer} and its listeners and rules")
    prod = resolve_rule(
        ctx,
        load_balancer=options.load_balancer,
        listener_arn=options.prod_listener,
        rule_arn=options.prod_listener_rule_arn,
    )
    if options.is_traffic_shift:
        return prod, None
    if not options.stage_listener:
        raise ConfigError(
            [Problem("EcsBlueGreenCreateService", "spec.stageListener", "a stage listener is required")]
        )
    stage = resolve_rule(
        ctx,
        load_balancer=options.load_balancer,
        listener_arn=options.stage_listener,
        rule_arn=options.stage_listener_rule_arn,
    )
    if stage.rule_arn == prod.rule_arn:
        raise DeploymentError(f"The prod and stage listener rules are the same rule: {prod.describe()}")
    return prod, stage


# ------------------------------------------------------------------ what was found, and the plan


@dataclass
class Found:
    """What Create Service read before changing anything."""

    services: dict[str, dict[str, Any] | None]  # <name>__1, <name>__2 -> description, None if MISSING
    prod_actions: Actions
    stage_actions: Actions | None  # None in the traffic shift flow
    traffic_shift: bool = False
    stage_group: str = ""  # given for the traffic shift flow


@dataclass
class Plan:
    """Which service is which and where traffic goes, once half states are repaired."""

    blue: str | None  # the service production traffic reaches; None on a first deployment
    green: str  # the stage service this deployment (re)creates
    prod_group: str
    stage_group: str
    prod_actions: Actions  # after repairs: what rollback restores
    stage_actions: Actions | None
    prepared_prod_actions: Actions  # what Create Service writes (traffic shift: stage group added at 0)
    retag: dict[str, str] = field(default_factory=dict)  # service -> BG_VERSION it must carry
    findings: list[str] = field(default_factory=list)  # half states found, each with its repair


def _active(service: dict[str, Any] | None) -> bool:
    return service is not None and service.get("status") == "ACTIVE"


def _groups(service: dict[str, Any] | None) -> list[str]:
    return [
        lb["targetGroupArn"] for lb in (service or {}).get("loadBalancers", []) if lb.get("targetGroupArn")
    ]


def _tag(service: dict[str, Any] | None) -> str | None:
    return tag_map((service or {}).get("tags")).get(TAG)


def plan_layout(name: str, found: Found) -> Plan:
    """Decide BLUE, GREEN and the target groups from what was found; a pure function.

    Raises DeploymentError for a layout that cannot be repaired safely, and whenever the stage
    target group is one the live service is registered in.
    """
    names = [name + suffix for suffix in SUFFIXES]
    active = {n: s for n in names if (s := found.services.get(n)) is not None and _active(s)}
    findings: list[str] = []

    prod_actions, prod_group = _production_group(found, active, findings)
    serving = [n for n in names if n in active and prod_group in _groups(active[n])]
    if len(serving) > 1:
        raise DeploymentError(
            f"Both {serving[0]} and {serving[1]} are registered in the production target group "
            f"{prod_group}: there is no stage service that production traffic does not reach. "
            "Remove one of them from the target group by hand and run again."
        )
    blue = serving[0] if serving else None
    green = names[1] if blue == names[0] else names[0]
    retag = _tag_repairs(blue, green, active, findings)
    stage_actions, stage_group, prepared = _stage_group(found, prod_actions, prod_group, green, findings)
    if blue is not None and stage_group in _groups(active[blue]):
        raise DeploymentError(
            f"The stage target group {stage_group} is used by {blue}, the live (BLUE) service that "
            f"production traffic reaches through {prod_group}. Deploying to it would replace the live "
            "service; use the other target group as the stage target group."
        )
    return Plan(blue, green, prod_group, stage_group, prod_actions, stage_actions, prepared, retag, findings)


def _production_group(
    found: Found, active: dict[str, dict[str, Any]], findings: list[str]
) -> tuple[Actions, str]:
    weights = forward_weights(found.prod_actions)
    if not weights:
        raise DeploymentError("The production listener rule does not forward to a target group")
    live = live_groups(found.prod_actions)
    if not live:
        raise DeploymentError(
            f"The production listener rule sends no traffic anywhere ({describe_weights(weights)})"
        )
    if len(live) == 1:
        return found.prod_actions, live[0]
    # An interrupted traffic shift leaves production traffic split: it all goes back to BLUE.
    tagged_blue = [g for g in live for s in active.values() if _tag(s) == BLUE and g in _groups(s)]
    prod_group = tagged_blue[0] if tagged_blue else max(live, key=lambda g: weights[g])
    repaired = (
        {g: (100 if g == prod_group else 0) for g in weights} if found.traffic_shift else {prod_group: 1}
    )
    findings.append(
        f"Production traffic is split ({describe_weights(weights)}), as an interrupted traffic shift "
        f"leaves it: all of it goes to {short_arn(prod_group)}"
        + (" (the BLUE service's)" if tagged_blue else " (the largest share)")
    )
    return with_forward(found.prod_actions, repaired), prod_group


def _tag_repairs(
    blue: str | None, green: str, active: dict[str, dict[str, Any]], findings: list[str]
) -> dict[str, str]:
    retag = {}
    if blue is not None and _tag(active[blue]) != BLUE:
        retag[blue] = BLUE
        findings.append(
            f"{blue} serves production traffic but is tagged {TAG}={_tag(active[blue]) or '(none)'}: "
            "it is the BLUE service"
        )
    if green in active and _tag(active[green]) == BLUE:
        retag[green] = GREEN
        findings.append(f"{green} is tagged {TAG}=BLUE but production traffic does not reach it: it is GREEN")
    return retag


def _stage_group(
    found: Found, prod_actions: Actions, prod_group: str, green: str, findings: list[str]
) -> tuple[Actions | None, str, Actions]:
    """(stage actions after repair, stage target group, prod actions Create Service writes)."""
    if found.traffic_shift:
        weights = forward_weights(prod_actions)
        others = [g for g in weights if g != prod_group]
        stage_group = found.stage_group or (others[0] if len(others) == 1 else "")
        if not stage_group:
            raise DeploymentError(
                f"The production listener rule forwards to {describe_weights(weights)}: give the stage "
                "target group (stageTargetGroupArn), the one that does not serve production"
            )
        prepared = prod_actions
        if stage_group not in weights:
            prepared = with_forward(prod_actions, {**weights, stage_group: 0})
        return None, stage_group, prepared
    stage_actions = found.stage_actions or []
    stage_live = live_groups(stage_actions)
    if len(stage_live) != 1:
        raise DeploymentError(
            "The stage listener rule must forward to exactly one target group; it forwards to "
            f"{describe_weights(forward_weights(stage_actions)) or 'none'}"
        )
    stage_group = stage_live[0]
    if stage_group == prod_group:
        other = [g for g in _groups(found.services.get(green)) if g != prod_group]
        if not other:
            raise DeploymentError(
                f"The prod and stage listeners both forward to {prod_group}, as an interrupted swap leaves "
                "them, and no other target group is known. Point the stage listener at the stage "
                "target group and run again."
            )
        stage_group = other[0]
        stage_actions = with_forward(stage_actions, {stage_group: 1})
        findings.append(
            f"The prod and stage listeners both forward to {short_arn(prod_group)}, as an interrupted swap "
            f"leaves them: the stage listener goes back to {short_arn(stage_group)}"
        )
    return stage_actions, stage_group, prod_actions


# ------------------------------------------------------------------ reading and repairing AWS state


def _read_state(
    ctx: StepContext,
    target: EcsTarget,
    options: BlueGreenCreateServiceOptions,
    prod_rule: ListenerRule,
    stage_rule: ListenerRule | None,
) -> Found:
    names = [target.service_name + suffix for suffix in SUFFIXES]
    answer = ctx.clients.ecs.describe_services(cluster=target.cluster, services=names, include=["TAGS"])
    by_name = {s["serviceName"]: s for s in answer["services"]}
    return Found(
        services={n: by_name.get(n) for n in names},
        prod_actions=RuleRouter(ctx, prod_rule).actions(),
        stage_actions=RuleRouter(ctx, stage_rule).actions() if stage_rule is not None else None,
        traffic_shift=options.is_traffic_shift,
        stage_group=options.stage_target_group_arn,
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


def set_version_tag(ctx: StepContext, cluster: str, service: str, value: str) -> None:
    live = describe_service(ctx, cluster, service)
    if not _active(live) or _tag(live) == value:
        return
    assert live is not None
    ctx.log.info(f"Updating tag of service {service}: {TAG}={value}")
    ctx.clients.ecs.tag_resource(resourceArn=live["serviceArn"], tags=[{"key": TAG, "value": value}])


# ------------------------------------------------------------------ the green service


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
        _groups(green) if _active(green) else []
    )
    if serving:
        assert green is not None
        raise DeploymentError(
            f"{green['serviceName']} now serves production traffic (through {', '.join(sorted(serving))}): "
            "the listeners changed while this step ran; it does not replace a live service"
        )


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
    if _active(live):
        ctx.log.info(f"Deleting existing non-blue version Service: {name}")
        autoscaling.remove(ctx, cluster, name)
        delete_service(ctx, cluster, name)
        ctx.log.info(f"Deleted non-blue version Service: {name}")
    elif live is not None and live.get("status") == "DRAINING":
        wait_until_inactive(ctx, cluster, name)
    service = create_service(ctx, request)
    return primary_deployment_id(service), True


def _rollback_data(
    ctx: StepContext,
    target: EcsTarget,
    options: BlueGreenCreateServiceOptions,
    found: Found,
    plan: Plan,
    prod_rule: ListenerRule,
    stage_rule: ListenerRule | None,
) -> dict[str, Any]:
    cluster = target.cluster
    blue = _snapshot(ctx, cluster, plan.blue, plan, found) if plan.blue else None
    blue_count = None
    if blue is not None and blue.request is not None:
        blue_count = int(blue.request.get("desiredCount", 0))
        manifest = int((target.service_definition or {}).get("desiredCount") or 0)
        blue.request["desiredCount"] = max(blue_count, manifest)
    green = _snapshot(ctx, cluster, plan.green, plan, found)
    return {
        "cluster": cluster,
        "serviceName": target.service_name,
        "loadBalancer": options.load_balancer,
        "blueServiceName": plan.blue,
        "greenServiceName": plan.green,
        "prodRule": prod_rule.to_dict(),
        "prodActions": plan.prod_actions,
        "stageRule": stage_rule.to_dict() if stage_rule is not None else None,
        "stageActions": plan.stage_actions,
        "prodTargetGroupArn": plan.prod_group,
        "stageTargetGroupArn": plan.stage_group,
        "trafficShift": options.is_traffic_shift,
        "blue": blue.to_dict() if blue is not None else None,
        "blueDesiredCount": blue_count,
        "green": green.to_dict(),
        "greenAction": None,  # "update" or "replace", set before the green service is touched
        "deferredScaling": target.scaling.to_dict() if options.enable_auto_scaling_in_swap_step else None,
    }


def _snapshot(ctx: StepContext, cluster: str, name: str, plan: Plan, found: Found) -> ServiceSnapshot:
    """The service as it was found (after tag repairs): the request that recreates it, its autoscaling."""
    live = found.services.get(name)
    if not _active(live):
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


def _create_outputs(
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


# ================================================================== Swap Target Groups


def blue_green_swap_target_groups(
    ctx: StepContext, target: EcsTarget, options: SwapTargetGroupsOptions
) -> StepResult:
    """Point prod at the stage target group and stage at the old prod one, retag, move autoscaling
    to the new BLUE service and downsize the old one."""
    setup = require_setup(options.setup, "ECS Blue Green Swap Target")
    if setup.get("trafficShift"):
        raise DeploymentError(
            "ECS Blue Green Create Service ran for traffic shifting: use ECS Blue Green Traffic Shift, not Swap"
        )
    data = {**setup, "swapStarted": True}
    ctx.adopt(setup)
    ctx.log.section(SWAP_TARGET_GROUPS)
    with ctx.calls():
        wait_turns(ctx, setup["cluster"], deployed_pair(setup))
        ctx.checkpoint(data)
        check_green_ready(ctx, setup)
        prod = RuleRouter(ctx, ListenerRule.from_dict(setup["prodRule"]))
        stage = RuleRouter(ctx, ListenerRule.from_dict(setup["stageRule"]))
        new_group, old_group = setup["stageTargetGroupArn"], setup["prodTargetGroupArn"]
        ctx.check()
        ctx.log.info(f"Modifying ELB Prod Listener to forward requests to target group {new_group}")
        prod.set_weights({new_group: 1})
        ctx.log.info("Successfully updated Prod Listener")
        ctx.checkpoint({**data, "prodSwapped": True})
        ctx.log.info(f"Modifying ELB Stage Listener to forward requests to target group {old_group}")
        stage.set_weights({old_group: 1})
        ctx.log.info("Successfully updated Stage Listener")
        finish_cutover(
            ctx,
            setup,
            do_not_downsize=options.do_not_downsize_old_service,
            delay=options.downsize_old_service_delay_in_secs,
        )
    return StepResult(outputs={"trafficShifted": True}, rollback_data=data)


def deployed_pair(setup: dict[str, Any]) -> list[str]:
    """The services a step after Create Service changes: the new one and the old BLUE, if any."""
    return [name for name in (setup.get("greenServiceName"), setup.get("blueServiceName")) if name]


def wait_turns(ctx: StepContext, cluster: str, names: list[str], *, may_refuse: bool = True) -> None:
    """Wait while a deployment this execution did not start is in flight on any of the services."""
    for name in names:
        wait_turn(ctx, cluster, name, may_refuse=may_refuse)


def require_setup(setup: dict[str, Any], step: str) -> dict[str, Any]:
    if not setup or not setup.get("greenServiceName"):
        raise DeploymentError(f"{step} needs an ECS Blue Green Create Service step before it in the stage")
    return setup


def check_green_ready(ctx: StepContext, setup: dict[str, Any]) -> None:
    """Never send production traffic to a stage target group without a healthy target."""
    green, group = setup["greenServiceName"], setup["stageTargetGroupArn"]
    if not _active(describe_service(ctx, setup["cluster"], green)):
        raise DeploymentError(f"The new service {green} is not ACTIVE; production traffic stays where it is")
    if healthy_targets(ctx, group) == 0:
        raise DeploymentError(
            f"The stage target group {group} has no healthy target; production traffic stays where it is"
        )


def finish_cutover(ctx: StepContext, setup: dict[str, Any], *, do_not_downsize: bool, delay: float) -> None:
    """Once production traffic reaches the new service: retag, autoscaling, downsize the old one."""
    cluster, new, old = setup["cluster"], setup["greenServiceName"], setup.get("blueServiceName")
    ctx.log.info(f"Updating tag of new service: {new}")
    set_version_tag(ctx, cluster, new, BLUE)
    if old:
        ctx.log.info(f"Updating tag of old service: {old}")
        set_version_tag(ctx, cluster, old, GREEN)
    if setup.get("deferredScaling") is not None:
        autoscaling.replace(ctx, Scaling.from_dict(setup["deferredScaling"]), cluster, new)
    if not old:
        return
    autoscaling.remove(ctx, cluster, old)
    if do_not_downsize:
        ctx.log.info(f"Not downsizing the old service {old} (doNotDownsizeOldService)")
        return
    if delay > 0:
        ctx.log.info(f"Waiting {delay:g}s before downsizing the old service {old}")
        pause(ctx, delay)
    if _active(describe_service(ctx, cluster, old)):
        update_service(ctx, {"cluster": cluster, "service": old, "desiredCount": 0})
        ctx.log.info(f"Downsized the old service {old} to 0 tasks (kept for a fast rollback)")


def pause(ctx: StepContext, seconds: float) -> None:
    """Sleep within the step's deadline; abort wakes it at once."""
    if ctx.abort.wait(min(seconds, max(ctx.remaining(), 0.0))):
        raise StepAborted("The step was aborted.")
    if ctx.remaining() <= 0:
        raise StepTimedOut(f"The step timed out while waiting {seconds:g}s")


# ================================================================== Rollback


def blue_green_rollback(ctx: StepContext, target: EcsTarget, rollback_data: dict[str, Any]) -> StepResult:
    """Old BLUE back to its count (recreated if gone) with its autoscaling, listeners back to the
    captured actions, tags back, and the green service removed or returned to its prior state."""
    ctx.log.section(ROLLBACK)
    if not rollback_data or not rollback_data.get("greenServiceName"):
        ctx.log.info("No ECS Blue Green Create Service ran: nothing to roll back")
        return StepResult(outputs={"rollbackSkipped": True})
    data = rollback_data
    ctx.adopt(data)
    with ctx.calls():
        wait_turns(ctx, data["cluster"], deployed_pair(data), may_refuse=False)
        restore_blue(ctx, data)
        restore_routes(ctx, data)
        _restore_green(ctx, data)
    return StepResult(outputs={"rollbackSkipped": False, "serviceName": data.get("blueServiceName")})


def restore_blue(ctx: StepContext, data: dict[str, Any]) -> None:
    if data.get("blue") is None:
        return
    snap = ServiceSnapshot.from_dict(data["blue"])
    assert snap.request is not None
    cluster, name = snap.cluster, snap.service_name
    live = describe_service(ctx, cluster, name)
    if not _active(live):
        ctx.log.info(f"Service {name} is {live['status'] if live else 'MISSING'}; recreating it")
        if live is not None and live.get("status") == "DRAINING":
            wait_until_inactive(ctx, cluster, name)
        service = create_service(ctx, copy.deepcopy(snap.request))
        _wait(ctx, cluster, name, primary_deployment_id(service), snap.request["taskDefinition"])
    else:
        assert live is not None
        if int(live["desiredCount"]) < int(data.get("blueDesiredCount") or 0):
            count = max(int(snap.request.get("desiredCount", 0)), int(live["desiredCount"]))
            ctx.log.info(f"Bringing {name} back to {count} tasks")
            seen = {e["id"] for e in live.get("events", [])}
            update_service(ctx, {"cluster": cluster, "service": name, "desiredCount": count})
            wait_until_scaled(ctx, cluster, name, seen)
        reconcile_tags(ctx, live["serviceArn"], live.get("tags"), snap.request.get("tags", []))
    autoscaling.restore(ctx, snap.scaling, cluster, name)


def restore_routes(ctx: StepContext, data: dict[str, Any]) -> None:
    for key, what in (("prod", "Prod"), ("stage", "Stage")):
        rule, actions = data.get(f"{key}Rule"), data.get(f"{key}Actions")
        if rule is None or actions is None:
            continue
        router = RuleRouter(ctx, ListenerRule.from_dict(rule))
        if router.actions() != actions:
            for group in live_groups(actions):
                router.warm_up(group)
            ctx.log.info(f"Pointing the {what} Listener back to {describe_weights(forward_weights(actions))}")
            router.restore(actions)


def _restore_green(ctx: StepContext, data: dict[str, Any]) -> None:
    cluster, name, action = data["cluster"], data["greenServiceName"], data.get("greenAction")
    prior = ServiceSnapshot.from_dict(data["green"])
    live = describe_service(ctx, cluster, name)
    if action is None:  # the deployment never touched it; its tag may have been repaired
        if _active(live) and prior.request is not None:
            assert live is not None
            reconcile_tags(ctx, live["serviceArn"], live.get("tags"), prior.request.get("tags", []))
        return
    if action == "update" and prior.request is not None and _active(live):
        assert live is not None
        ctx.log.info(f"Returning {name} to its state before the deployment")
        update = clear_removed(update_request(copy.deepcopy(prior.request)), live)
        update["forceNewDeployment"] = True
        service = update_service(ctx, update)
        _wait(ctx, cluster, name, primary_deployment_id(service), prior.request["taskDefinition"])
        reconcile_tags(ctx, live["serviceArn"], live.get("tags"), prior.request.get("tags", []))
        autoscaling.restore(ctx, prior.scaling, cluster, name)
        return
    if _active(live):
        ctx.log.info(f"Deleting {name}, created by the failed deployment")
        autoscaling.remove(ctx, cluster, name)
        delete_service(ctx, cluster, name)
    if prior.exists and prior.request is not None:
        ctx.log.info(f"Recreating {name} as it was before the deployment")
        service = create_service(ctx, copy.deepcopy(prior.request))
        _wait(ctx, cluster, name, primary_deployment_id(service), prior.request["taskDefinition"])
        autoscaling.restore(ctx, prior.scaling, cluster, name)


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
