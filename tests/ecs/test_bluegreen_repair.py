"""Blue Green never eats the live service: the next Create Service after an interrupted swap (or
traffic shift) finds the half state, says what it found, repairs it so that the service production
traffic reaches is BLUE, and deploys."""

from __future__ import annotations

from typing import Any

import pytest

from corral.ecs.bluegreen import (
    SwapTargetGroupsOptions,
    blue_green_create_service,
    blue_green_swap_target_groups,
)
from corral.ecs.context import StepContext
from corral.errors import DeploymentError

from .support import EcsEnv
from .test_bluegreen_support import (
    TrafficSampler,
    bg_target,
    create_options,
    forwards,
    live_service,
    registered,
    tag,
    task_ips,
)


def blue_and_green(env: EcsEnv) -> None:
    """web__1 BLUE in the prod target group, web__2 GREEN (new release, healthy) in the stage one."""
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0], scaling=False)
    live_service(env, "web__2", "web:2", alb.groups[1], version="GREEN", scaling=False)


def assert_consistent_after_next_release(env: EcsEnv, *, live: str, new: str) -> None:
    """After the next Create Service: `live` is BLUE and reached by prod, `new` GREEN on stage."""
    alb = env.alb()
    (prod_group,) = forwards(env, alb.listeners[0])
    (stage_group,) = forwards(env, alb.listeners[1])
    assert prod_group != stage_group
    assert registered(env, prod_group) == task_ips(env, live) != set()
    assert registered(env, stage_group) == task_ips(env, new) != set()
    assert (tag(env, live), tag(env, new)) == ("BLUE", "GREEN")
    service = env.describe(new)
    assert service is not None and service["taskDefinition"].endswith("web:3")


def test_a_swap_killed_between_its_two_listener_changes_is_repaired_by_the_next_run(env: EcsEnv) -> None:
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0], scaling=False)
    target = bg_target(env, "web:2", scaling=False)
    blue_green_create_service(env.context(), target, create_options(alb))

    def die_between_modifications(data: dict[str, Any]) -> None:
        if data.get("prodSwapped"):
            raise SystemExit("the worker was killed")

    killed = StepContext.with_timeout(env.clients, 60, checkpoint=die_between_modifications)
    with pytest.raises(SystemExit):
        blue_green_swap_target_groups(killed, target, SwapTargetGroupsOptions(setup=env.checkpoint))
    assert forwards(env, alb.listeners[0]) == forwards(env, alb.listeners[1]) == {alb.groups[1]: 1}
    assert (tag(env, "web__1"), tag(env, "web__2")) == ("BLUE", "GREEN")  # tags say the opposite

    ctx = env.context()
    with TrafficSampler(env, alb.listeners[0]) as sampler:
        created = blue_green_create_service(ctx, bg_target(env, "web:3", scaling=False), create_options(alb))

    log = ctx.log.text()
    assert (
        "Found an interrupted Blue Green deployment: The prod and stage listeners both forward to corral-green"
        in log
    )
    assert "web__2 serves production traffic but is tagged BG_VERSION=GREEN: it is the BLUE service" in log
    assert created.outputs["blueServiceName"] == "web__2" and created.outputs["serviceName"] == "web__1"
    assert_consistent_after_next_release(env, live="web__2", new="web__1")
    assert sampler.outages == []

    blue_green_swap_target_groups(env.context(), target, SwapTargetGroupsOptions(setup=env.checkpoint))
    assert forwards(env, alb.listeners[0]) == {alb.groups[0]: 1}
    assert (tag(env, "web__1"), tag(env, "web__2")) == ("BLUE", "GREEN")


def test_listeners_half_swapped_the_other_way_round_send_stage_back_to_the_green_group(env: EcsEnv) -> None:
    alb = env.alb()
    blue_and_green(env)
    # the stage listener was changed, the prod one not: both reach the live web__1
    env.elbv2.modify_listener(
        ListenerArn=alb.listeners[1], DefaultActions=[{"Type": "forward", "TargetGroupArn": alb.groups[0]}]
    )

    ctx = env.context()
    blue_green_create_service(ctx, bg_target(env, "web:3", scaling=False), create_options(alb))

    assert "the stage listener goes back to corral-green" in ctx.log.text()
    assert_consistent_after_next_release(env, live="web__1", new="web__2")


def test_tags_that_disagree_with_the_listeners_are_repaired(env: EcsEnv) -> None:
    alb = env.alb()
    blue_and_green(env)
    # a swap that changed both listeners and died before retagging
    for listener, group in ((alb.listeners[0], alb.groups[1]), (alb.listeners[1], alb.groups[0])):
        env.elbv2.modify_listener(
            ListenerArn=listener, DefaultActions=[{"Type": "forward", "TargetGroupArn": group}]
        )

    ctx = env.context()
    with TrafficSampler(env, alb.listeners[0]) as sampler:
        blue_green_create_service(ctx, bg_target(env, "web:3", scaling=False), create_options(alb))

    log = ctx.log.text()
    assert "web__2 serves production traffic but is tagged BG_VERSION=GREEN" in log
    assert "web__1 is tagged BG_VERSION=BLUE but production traffic does not reach it" in log
    assert_consistent_after_next_release(env, live="web__2", new="web__1")
    assert sampler.outages == []


def test_an_unrepairable_layout_is_refused_without_touching_anything(env: EcsEnv) -> None:
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0], scaling=False)
    # both listeners on the live group and no other service to say where stage should go
    env.elbv2.modify_listener(
        ListenerArn=alb.listeners[1], DefaultActions=[{"Type": "forward", "TargetGroupArn": alb.groups[0]}]
    )
    with pytest.raises(DeploymentError, match=r"both forward to .* no other target group is known"):
        blue_green_create_service(env.context(), bg_target(env, "web:3"), create_options(alb))
    assert tag(env, "web__1") == "BLUE" and env.describe("web__2") is None


def test_a_stage_service_that_starts_serving_production_meanwhile_is_not_replaced(env: EcsEnv) -> None:
    alb = env.alb()
    blue_and_green(env)

    def another_pipeline_swaps(data: dict[str, Any]) -> None:
        env.elbv2.modify_listener(
            ListenerArn=alb.listeners[0],
            DefaultActions=[{"Type": "forward", "TargetGroupArn": alb.groups[1]}],
        )

    ctx = StepContext.with_timeout(env.clients, 60, checkpoint=another_pipeline_swaps)
    with pytest.raises(DeploymentError, match="web__2 now serves production traffic"):
        blue_green_create_service(ctx, bg_target(env, "web:3", scaling=False), create_options(alb))

    assert forwards(env, alb.listeners[0]) == {alb.groups[1]: 1}  # the other pipeline's swap stands
    green = env.describe("web__2")
    assert green is not None and green["taskDefinition"].endswith("web:2") and green["runningCount"] == 2
