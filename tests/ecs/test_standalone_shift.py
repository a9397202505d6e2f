"""ECS Blue Green Traffic Shift, Standalone, and Stand Alone Traffic Shift Rollback against the
sandbox: a rule of its own set to exactly the forward config, checked before any change, and put
back exactly as it was before the stage's first change."""

from __future__ import annotations

import pytest

from corral.ecs.bluegreen import (
    BlueGreenCreateServiceOptions,
    StandaloneShiftOptions,
    blue_green_create_service,
    blue_green_rollback,
    standalone_traffic_shift,
    standalone_traffic_shift_rollback,
)
from corral.ecs.listeners import forward_weights
from corral.errors import ConfigError

from .support import EcsEnv, assert_same
from .test_bluegreen_support import bg_state, bg_target, live_service

pytestmark = pytest.mark.sandbox(speed=200)


def dev_rule(env: EcsEnv) -> str:
    """A rule of the :80 listener for a lower environment, forwarding to both target groups."""
    alb = env.alb()
    both = {"TargetGroups": [{"TargetGroupArn": alb.groups[0], "Weight": 100},
                             {"TargetGroupArn": alb.groups[1], "Weight": 0}]}  # fmt: skip
    return str(
        env.elbv2.create_rule(
            ListenerArn=alb.listeners[0],
            Priority=10,
            Conditions=[{"Field": "host-header", "Values": ["dev.example.com"]}],
            Actions=[{"Type": "forward", "ForwardConfig": both}],
        )["Rules"][0]["RuleArn"]
    )


def weights(env: EcsEnv, rule: str) -> dict[str, int]:
    return forward_weights(env.elbv2.describe_rules(RuleArns=[rule])["Rules"][0]["Actions"])


def options(
    env: EcsEnv, rule: str, config: list[tuple[str, int]], setup: dict | None = None
) -> StandaloneShiftOptions:
    return StandaloneShiftOptions(
        load_balancer="corral", listener=env.alb().listeners[0], listener_rule_arn=rule,
        forward_config=config, setup=setup or {},
    )  # fmt: skip


def test_two_shifts_of_one_rule_and_the_rollback_restores_it_as_before_the_first(env: EcsEnv) -> None:
    alb = env.alb()
    rule = dev_rule(env)
    before = bg_state(env, alb)
    target = bg_target(env, "web:2")

    first = standalone_traffic_shift(
        env.context(), target, options(env, rule, [(alb.groups[1], 25), (alb.groups[0], 75)])
    )
    assert weights(env, rule) == {alb.groups[1]: 25, alb.groups[0]: 75} == first.outputs["weights"]
    second = standalone_traffic_shift(
        env.context(), target, options(env, rule, [(alb.groups[1], 100)], env.checkpoint)
    )
    assert weights(env, rule) == {alb.groups[1]: 1}  # one target group: all of the rule's traffic
    assert len(second.checkpoint["standaloneRules"]) == 1  # the capture before the first change

    standalone_traffic_shift_rollback(env.context(), target, second.checkpoint)
    assert_same(before, bg_state(env, alb))


def test_a_target_group_the_listener_does_not_forward_to_is_refused_before_any_change(env: EcsEnv) -> None:
    alb = env.alb()
    rule = dev_rule(env)
    stray = env.elbv2.create_target_group(
        Name="stray", Protocol="HTTP", Port=80, VpcId=env.vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    before = bg_state(env, alb)

    with pytest.raises(ConfigError) as raised:
        standalone_traffic_shift(
            env.context(), bg_target(env, "web:2"), options(env, rule, [(alb.groups[0], 50), (stray, 50)])
        )

    [problem] = raised.value.problems
    assert problem.path == "spec.ecsTrafficShiftWrapper.spec.forwardConfig[1].targetGroupArn"
    assert stray in problem.message
    assert env.checkpoints == []
    assert_same(before, bg_state(env, alb))


def test_the_prod_rule_of_create_service_is_refused(env: EcsEnv) -> None:
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0])
    target = bg_target(env, "web:2")
    create = BlueGreenCreateServiceOptions(
        load_balancer="corral", prod_listener=alb.listeners[0], is_traffic_shift=True,
        stage_target_group_arn=alb.groups[1],
    )  # fmt: skip
    created = blue_green_create_service(env.context(), target, create)
    prod_rule = created.checkpoint["prodRule"]["ruleArn"]

    with pytest.raises(ConfigError, match="is the prod listener rule of ECS Blue Green Create Service"):
        standalone_traffic_shift(
            env.context(),
            target,
            options(env, prod_rule, [(alb.groups[1], 50), (alb.groups[0], 50)], created.checkpoint),
        )
    assert weights(env, prod_rule) == {alb.groups[0]: 1, alb.groups[1]: 0}
    blue_green_rollback(env.context(), target, created.checkpoint)
