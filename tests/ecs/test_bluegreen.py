"""ECS Blue Green Create Service, Swap Target Groups and Rollback against the sandbox: services and
their tags, listener actions, target registrations and autoscaling as AWS shows them afterwards."""

from __future__ import annotations

import json

import pytest

from corral.ecs.bluegreen import (
    SwapTargetGroupsOptions,
    blue_green_create_service,
    blue_green_rollback,
    blue_green_swap_target_groups,
)
from corral.ecs.context import OwnDeployments, StepContext
from corral.errors import ConfigError, DeploymentError

from .support import EcsEnv, assert_same, snapshot
from .test_bluegreen_support import (
    TrafficSampler,
    bg_state,
    bg_target,
    create_options,
    forwards,
    live_service,
    registered,
    tag,
    task_ips,
)


def default_rule(env: EcsEnv, listener: str) -> str:
    rules = env.elbv2.describe_rules(ListenerArn=listener)["Rules"]
    return str(next(r["RuleArn"] for r in rules if r["IsDefault"]))


def autoscaling_of(env: EcsEnv, name: str) -> tuple[list[tuple[int, int]], list[str]]:
    state = snapshot(env, name)
    targets = [(t["MinCapacity"], t["MaxCapacity"]) for t in state["scalableTargets"]]
    return targets, [p["PolicyName"] for p in state["scalingPolicies"]]


def test_create_service_brings_up_green_behind_the_stage_listener_and_swap_makes_it_blue(env: EcsEnv) -> None:
    alb = env.alb()
    blue_group, stage_group = alb.groups
    live_service(env, "web__1", "web:1", blue_group)
    target = bg_target(env, "web:2")

    ctx = env.context()
    created = blue_green_create_service(ctx, target, create_options(alb))

    green = env.describe("web__2")
    assert green is not None and green["status"] == "ACTIVE"
    assert green["taskDefinition"].endswith("task-definition/web:2")
    assert green["desiredCount"] == green["runningCount"] == 2
    assert green["loadBalancers"] == [
        {"targetGroupArn": stage_group, "containerName": "app", "containerPort": 80}
    ]
    assert (tag(env, "web__1"), tag(env, "web__2")) == ("BLUE", "GREEN")
    assert registered(env, stage_group) == task_ips(env, "web__2")  # stage listener reaches green
    assert forwards(env, alb.listeners[0]) == {blue_group: 1}  # production untouched
    assert forwards(env, alb.listeners[1]) == {stage_group: 1}
    assert autoscaling_of(env, "web__2") == ([(2, 4)], ["cpu60"])
    assert created.outputs == {
        "serviceName": "web__2",
        "loadBalancer": "corral",
        "prodListener": alb.listeners[0],
        "prodListenerRuleArn": default_rule(env, alb.listeners[0]),  # resolved: the default rule
        "stageListener": alb.listeners[1],
        "stageListenerRuleArn": default_rule(env, alb.listeners[1]),
        "targetGroupArn": stage_group,
        "prodTargetGroupArn": blue_group,
        "isNewServiceCreated": True,
        "greenServiceName": "web__2",
        "blueServiceName": "web__1",
    }
    assert created.checkpoint == env.checkpoint  # journaled as JSON, before anything changed
    assert env.checkpoints[0]["blue"]["request"]["desiredCount"] == 2
    assert env.checkpoints[0]["greenAction"] is None  # the first checkpoint precedes any change
    log = ctx.log.text()
    assert "BLUE (live) service: web__1; the new service is web__2 (GREEN)" in log
    assert "Creating Service web__2" in log and "Service web__2 reached steady state" in log

    swap_ctx = env.context()
    swapped = blue_green_swap_target_groups(swap_ctx, target, SwapTargetGroupsOptions(setup=env.checkpoint))

    assert swapped.outputs == {"trafficShifted": True}
    assert forwards(env, alb.listeners[0]) == {stage_group: 1}
    assert forwards(env, alb.listeners[1]) == {blue_group: 1}
    assert (tag(env, "web__1"), tag(env, "web__2")) == ("GREEN", "BLUE")
    assert registered(env, stage_group) == task_ips(env, "web__2")  # prod now reaches the new tasks
    old = env.describe("web__1")
    assert old is not None and old["status"] == "ACTIVE" and old["desiredCount"] == 0  # kept, not deleted
    assert autoscaling_of(env, "web__2") == ([(2, 4)], ["cpu60"])
    assert autoscaling_of(env, "web__1") == ([], [])  # autoscaling ends on the production service only
    assert swapped.checkpoint["swapStarted"] is True
    assert "Modifying ELB Prod Listener" in swap_ctx.log.text()


def test_three_deployments_in_a_row_alternate_services_and_production_always_has_a_healthy_target(
    env: EcsEnv,
) -> None:
    alb = env.alb()
    names = []
    with TrafficSampler(env, alb.listeners[0], deferred=True) as sampler:
        for release in (1, 2, 3):
            target = bg_target(env, f"web:{release}", scaling=False)
            created = blue_green_create_service(env.context(), target, create_options(alb))
            blue_green_swap_target_groups(
                env.context(), target, SwapTargetGroupsOptions(setup=env.checkpoint)
            )
            names.append(created.outputs["serviceName"])
            if release == 1:
                sampler.start()  # from the first swap on, production has something to reach
            live = env.describe(names[-1])
            assert live is not None and live["taskDefinition"].endswith(f"web:{release}")
            assert tag(env, names[-1]) == "BLUE"
            prod_group = next(iter(forwards(env, alb.listeners[0])))
            assert registered(env, prod_group) == task_ips(env, names[-1])
    assert names == ["web__1", "web__2", "web__1"]
    assert sampler.samples > 10 and sampler.outages == []
    assert tag(env, "web__2") == "GREEN" and env.describe("web__2")["desiredCount"] == 0  # type: ignore[index]


def test_a_non_default_prod_rule_is_modified_with_its_conditions_kept(env: EcsEnv) -> None:
    alb = env.alb()
    blue_group, stage_group = alb.groups
    rules = {}
    for listener, group in zip(alb.listeners, alb.groups, strict=True):
        rules[listener] = env.elbv2.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/api/*"]}],
            Actions=[{"Type": "forward", "TargetGroupArn": group}],
        )["Rules"][0]["RuleArn"]
    live_service(env, "web__1", "web:1", blue_group, scaling=False)
    target = bg_target(env, "web:2", scaling=False)
    options = create_options(
        alb, prod_listener_rule_arn=rules[alb.listeners[0]], stage_listener_rule_arn=rules[alb.listeners[1]]
    )

    blue_green_create_service(env.context(), target, options)
    blue_green_swap_target_groups(env.context(), target, SwapTargetGroupsOptions(setup=env.checkpoint))

    prod_rule = env.elbv2.describe_rules(RuleArns=[rules[alb.listeners[0]]])["Rules"][0]
    assert prod_rule["Actions"][0]["TargetGroupArn"] == stage_group
    assert prod_rule["Conditions"][0]["Values"] == ["/api/*"] and prod_rule["Priority"] == "10"
    stage_rule = env.elbv2.describe_rules(RuleArns=[rules[alb.listeners[1]]])["Rules"][0]
    assert stage_rule["Actions"][0]["TargetGroupArn"] == blue_group
    assert forwards(env, alb.listeners[0]) == {blue_group: 1}  # the default rules were not touched


def test_autoscaling_deferred_to_the_swap_and_the_old_service_kept_running(env: EcsEnv) -> None:
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0], desired=3)
    target = bg_target(env, "web:2", desired=1)
    options = create_options(
        alb, enable_auto_scaling_in_swap_step=True, same_as_already_running_instances=True
    )

    blue_green_create_service(env.context(), target, options)

    green = env.describe("web__2")
    assert green is not None and green["desiredCount"] == 3  # sameAsAlreadyRunningInstances
    assert autoscaling_of(env, "web__2") == ([], [])  # not yet: the swap attaches it

    swap = SwapTargetGroupsOptions(do_not_downsize_old_service=True, setup=env.checkpoint)
    blue_green_swap_target_groups(env.context(), target, swap)

    assert autoscaling_of(env, "web__2") == ([(2, 4)], ["cpu60"])
    assert autoscaling_of(env, "web__1") == ([], [])
    old = env.describe("web__1")
    assert old is not None and old["desiredCount"] == 3 and tag(env, "web__1") == "GREEN"


def test_update_green_service_updates_the_stage_service_in_place(env: EcsEnv) -> None:
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0])
    live_service(env, "web__2", "web:0", alb.groups[1], version="GREEN", desired=0, scaling=False)
    before = env.describe("web__2")
    assert before is not None

    created = blue_green_create_service(
        env.context(), bg_target(env, "web:2"), create_options(alb, update_green_service=True)
    )

    after = env.describe("web__2")
    assert after is not None and after["serviceArn"] == before["serviceArn"]
    assert after["createdAt"] == before["createdAt"]  # the same service, updated
    assert after["taskDefinition"].endswith("web:3") and after["runningCount"] == 2
    assert created.outputs["isNewServiceCreated"] is False and tag(env, "web__2") == "GREEN"


def test_rollback_after_the_swap_returns_services_listeners_tags_and_autoscaling(env: EcsEnv) -> None:
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0])
    live_service(env, "web__2", "web:0", alb.groups[1], version="GREEN", desired=0, scaling=False)
    before = bg_state(env, alb)
    target = bg_target(env, "web:2")

    blue_green_create_service(env.context(), target, create_options(alb))
    blue_green_swap_target_groups(env.context(), target, SwapTargetGroupsOptions(setup=env.checkpoint))
    assert forwards(env, alb.listeners[0]) == {alb.groups[1]: 1}
    rollback_data = json.loads(json.dumps(env.checkpoint))  # as a new process reads it from the journal

    with TrafficSampler(env, alb.listeners[0]) as sampler:
        result = blue_green_rollback(env.context(), target, rollback_data)

    assert_same(before, bg_state(env, alb))
    assert sampler.outages == []
    assert result.outputs == {"rollbackSkipped": False, "serviceName": "web__1"}


def test_rollback_without_a_create_service_step_is_skipped(env: EcsEnv) -> None:
    ctx = env.context()
    result = blue_green_rollback(ctx, bg_target(env, "web:2"), {})
    assert result.outputs == {"rollbackSkipped": True}
    assert "nothing to roll back" in ctx.log.text()


def test_swap_without_create_service_fails_with_a_sentence(env: EcsEnv) -> None:
    with pytest.raises(DeploymentError, match="needs an ECS Blue Green Create Service step"):
        blue_green_swap_target_groups(env.context(), bg_target(env, "web:2"), SwapTargetGroupsOptions())


def test_a_stage_target_group_the_live_service_uses_is_refused_and_the_live_service_untouched(
    env: EcsEnv,
) -> None:
    alb = env.alb()
    # the live service is registered in both target groups, so the stage one serves production too
    target = env.target(
        "web__1", "web:1", family="web", load_balancer=alb.groups[0], tags={"BG_VERSION": "BLUE"}
    )
    assert target.service_definition is not None
    target.service_definition["loadBalancers"].append(
        {"targetGroupArn": alb.groups[1], "containerName": "app", "containerPort": 80}
    )
    env.create_live_service(target)
    before = bg_state(env, alb)
    calls = env.admin.last_call()

    with pytest.raises(DeploymentError, match=r"stage target group .* is used by web__1, the live \(BLUE\)"):
        blue_green_create_service(env.context(), bg_target(env, "web:2"), create_options(alb))

    assert_same(before, bg_state(env, alb))
    changes = [
        c["operation"]
        for c in env.admin.calls(since=calls)
        if not c["operation"].startswith(("Describe", "List"))
    ]
    assert changes == []  # refused before any change


def test_a_container_without_the_target_group_port_fails_with_the_reference_message(env: EcsEnv) -> None:
    alb = env.alb()
    target = bg_target(env, "web:2")
    assert target.task_definition is not None
    target.task_definition["containerDefinitions"][0]["portMappings"] = [{"containerPort": 9000}]

    with pytest.raises(
        ConfigError, match="No container definition has port mapping that matches the target port: 80"
    ):
        blue_green_create_service(env.context(), target, create_options(alb))
    assert env.describe("web__1") is None


def test_a_service_definition_without_the_placeholder_is_an_input_error(env: EcsEnv) -> None:
    alb = env.alb()
    target = env.target("web", "web:2", load_balancer=alb.groups[1])
    with pytest.raises(ConfigError, match=r"loadBalancers: a Blue Green service definition needs"):
        blue_green_create_service(env.context(), target, create_options(alb))


class Crash(Exception):
    """The step's process dying right after it journaled the deployment it started."""


def test_a_re_run_after_a_crash_keeps_the_new_service_its_first_attempt_created(env: EcsEnv) -> None:
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0])

    def checkpoint_then_die(data: dict[str, object]) -> None:
        env.checkpoints.append(data)
        if (data.get("ecsDeployments") or {}).get("started"):  # type: ignore[union-attr]
            raise Crash  # CreateService answered and journaled

    with pytest.raises(Crash):
        blue_green_create_service(
            StepContext.with_timeout(env.clients, 60, checkpoint=checkpoint_then_die),
            bg_target(env, "web:2"),
            create_options(alb),
        )
    first = env.checkpoint
    seq = env.admin.last_call()

    again = blue_green_create_service(
        env.context(own=OwnDeployments.merged(first["ecsDeployments"])),
        bg_target(env, "web:2"),
        create_options(alb),
    )

    made = [
        c["operation"] for c in env.admin.calls(seq) if c["operation"] in ("CreateService", "DeleteService")
    ]
    assert made == []  # not deleted and created again
    green = env.describe("web__2")
    assert green is not None and green["status"] == "ACTIVE" and green["runningCount"] == 2
    assert [d["id"] for d in green["deployments"]] == first["ecsDeployments"]["started"]
    assert again.outputs["greenServiceName"] == "web__2" and again.outputs["isNewServiceCreated"] is True
    assert registered(env, alb.groups[1]) == task_ips(env, "web__2")
