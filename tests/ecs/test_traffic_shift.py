"""ECS Blue Green Traffic Shift against the sandbox: weighted forwards on the prod rule, read back
after every change, the cut-over at 100 %, and rollbacks that restore the original actions exactly."""

from __future__ import annotations

from typing import Any

import pytest

from corral.ecs.bluegreen import (
    BlueGreenCreateServiceOptions,
    TrafficShiftOptions,
    blue_green_create_service,
    blue_green_rollback,
    blue_green_traffic_shift,
    blue_green_traffic_shift_rollback,
)
from corral.errors import ConfigError, DeploymentError

from .support import Alb, EcsEnv, assert_same, snapshot
from .test_bluegreen_support import (
    TrafficSampler,
    bg_state,
    bg_target,
    default_actions,
    forwards,
    live_service,
    registered,
    tag,
    task_ips,
)


def shift_options(alb: Alb, **extra: Any) -> BlueGreenCreateServiceOptions:
    """The traffic shift flow: one prod rule (the :80 listener's default), no stage listener."""
    return BlueGreenCreateServiceOptions(
        load_balancer="corral", prod_listener=alb.listeners[0], is_traffic_shift=True, **extra
    )


def detach_second_group(env: EcsEnv, alb: Alb) -> None:
    """The :8080 listener answers by itself, so the second target group starts attached to nothing."""
    env.elbv2.modify_listener(
        ListenerArn=alb.listeners[1],
        DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "503"}}],
    )


def test_shift_0_25_50_100_reads_back_every_weight_and_rollback_restores_the_original_actions(
    env: EcsEnv,
) -> None:
    alb = env.alb()
    old_group, new_group = alb.groups
    detach_second_group(env, alb)
    live_service(env, "web__1", "web:1", old_group)
    before = bg_state(env, alb)
    original = default_actions(env, alb.listeners[0])
    target = bg_target(env, "web:2")

    created = blue_green_create_service(
        env.context(), target, shift_options(alb, stage_target_group_arn=new_group)
    )
    assert created.outputs["targetGroupArn"] == new_group and created.outputs["serviceName"] == "web__2"
    assert forwards(env, alb.listeners[0]) == {old_group: 1, new_group: 0}  # attached, no traffic yet

    data = env.checkpoint
    with TrafficSampler(env, alb.listeners[0]) as sampler:
        for weight in (0, 25, 50, 100):
            result = blue_green_traffic_shift(
                env.context(), target, TrafficShiftOptions(weight_percentage=weight, setup=data)
            )
            data = env.checkpoint
            expected = {old_group: 100 - weight, new_group: weight}
            assert forwards(env, alb.listeners[0]) == expected == result.outputs["weights"]
            assert result.outputs["trafficShifted"] is (weight == 100)
            if weight < 100:
                assert (tag(env, "web__1"), tag(env, "web__2")) == ("BLUE", "GREEN")
    assert sampler.outages == []

    assert (tag(env, "web__1"), tag(env, "web__2")) == ("GREEN", "BLUE")
    assert registered(env, new_group) == task_ips(env, "web__2")
    old = env.describe("web__1")
    assert old is not None and old["desiredCount"] == 0
    assert [p["PolicyName"] for p in snapshot(env, "web__2")["scalingPolicies"]] == ["cpu60"]
    assert snapshot(env, "web__1")["scalableTargets"] == []

    with TrafficSampler(env, alb.listeners[0]) as sampler:
        rolled = blue_green_traffic_shift_rollback(env.context(), target, data)
    assert default_actions(env, alb.listeners[0]) == original  # the original action list, exactly
    assert rolled.outputs["weights"] == {old_group: 1}
    assert (tag(env, "web__1"), tag(env, "web__2")) == ("BLUE", "GREEN")
    assert sampler.outages == []

    blue_green_rollback(env.context(), target, data)
    assert_same(before, bg_state(env, alb))


def test_a_list_of_weights_with_pauses_and_the_next_release_shifts_back(env: EcsEnv) -> None:
    alb = env.alb()
    first, second = alb.groups
    live_service(env, "web__1", "web:1", first, scaling=False)
    target = bg_target(env, "web:2", scaling=False)
    blue_green_create_service(env.context(), target, shift_options(alb, stage_target_group_arn=second))

    ctx = env.context()
    shifted = blue_green_traffic_shift(
        ctx, target, TrafficShiftOptions(weights=[10, 50, 100], pause_seconds=0.1, setup=env.checkpoint)
    )

    log = ctx.log.text()
    for weight in (10, 50, 100):
        assert f"Production traffic: {weight}% to web__2, {100 - weight}% to web__1" in log
    assert log.count("Waiting 0.1s before the next shift") == 2
    assert shifted.outputs == {"trafficShifted": True, "weights": {first: 0, second: 100}}

    # the next release: the stage target group is the one without traffic, found by itself
    nxt = bg_target(env, "web:3", scaling=False)
    created = blue_green_create_service(env.context(), nxt, shift_options(alb))
    assert created.outputs["serviceName"] == "web__1" and created.outputs["targetGroupArn"] == first
    blue_green_traffic_shift(
        env.context(), nxt, TrafficShiftOptions(weight_percentage=100, setup=env.checkpoint)
    )
    assert forwards(env, alb.listeners[0]) == {first: 100, second: 0}
    assert (tag(env, "web__1"), tag(env, "web__2")) == ("BLUE", "GREEN")


def test_an_interrupted_shift_is_repaired_by_the_next_create_service(env: EcsEnv) -> None:
    alb = env.alb()
    first, second = alb.groups
    live_service(env, "web__1", "web:1", first, scaling=False)
    target = bg_target(env, "web:2", scaling=False)
    blue_green_create_service(env.context(), target, shift_options(alb, stage_target_group_arn=second))
    blue_green_traffic_shift(
        env.context(), target, TrafficShiftOptions(weight_percentage=50, setup=env.checkpoint)
    )
    # the pipeline died here: half the traffic on each service, web__1 still BLUE

    ctx = env.context()
    created = blue_green_create_service(ctx, bg_target(env, "web:3", scaling=False), shift_options(alb))

    assert "Production traffic is split (corral-blue 50%, corral-green 50%)" in ctx.log.text()
    assert forwards(env, alb.listeners[0]) == {first: 100, second: 0}
    assert created.outputs["blueServiceName"] == "web__1" and created.outputs["serviceName"] == "web__2"
    green = env.describe("web__2")
    assert green is not None and green["taskDefinition"].endswith("web:3")


def test_the_live_target_group_as_stage_is_refused_and_nothing_changes(env: EcsEnv) -> None:
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0])
    before = bg_state(env, alb)

    with pytest.raises(DeploymentError, match=r"is used by web__1, the live \(BLUE\) service"):
        blue_green_create_service(
            env.context(), bg_target(env, "web:2"), shift_options(alb, stage_target_group_arn=alb.groups[0])
        )
    assert_same(before, bg_state(env, alb))


def test_weights_outside_0_to_100_are_input_errors(env: EcsEnv) -> None:
    with pytest.raises(ConfigError, match=r"spec.weights\[1\]: expected a percentage 0-100, got 120"):
        blue_green_traffic_shift(
            env.context(), bg_target(env, "web:2"), TrafficShiftOptions(weights=[50, 120])
        )
