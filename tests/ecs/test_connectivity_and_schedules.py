"""Service Connect, VPC Lattice and scheduled actions through the service steps (issue 15): a
deploy sends and puts them, a failed deploy's rollback puts back exactly what was live, and
skipApplicationScaling makes no Application Auto Scaling call at all."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from corral.ecs.bluegreen import (
    SwapTargetGroupsOptions,
    blue_green_create_service,
    blue_green_rollback,
    blue_green_swap_target_groups,
)
from corral.ecs.canary import CanaryDeployOptions, canary_deploy, canary_rollback
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy, rolling_rollback

from .support import FAILURES, EcsEnv, assert_same, cpu_policy, scalable_target, scheduled_action, snapshot
from .test_bluegreen_support import bg_state, bg_target, create_options

pytestmark = pytest.mark.sandbox(speed=200)

NAMESPACE = "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-apps"


def connect(alias: str) -> dict[str, Any]:
    return {
        "enabled": True,
        "namespace": NAMESPACE,
        "services": [
            {"portName": "http", "discoveryName": "web", "clientAliases": [{"port": 80, "dnsName": alias}]}
        ],
    }


LATTICE = [
    {
        "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
        "targetGroupArn": "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-0123456789abcdef0",
        "portName": "http",
    }
]
NIGHT = scheduled_action(
    "night",
    "cron(0 22 ? * MON-FRI *)",
    1,
    2,
    Timezone="Europe/Paris",
    StartTime=dt.datetime(2030, 1, 1, tzinfo=dt.UTC),
)
PEAK = scheduled_action("peak", "rate(6 hours)", 3, 6)


def live(env: EcsEnv, **changes: Any) -> Any:
    settings: dict[str, Any] = {
        "desired": 2,
        "serviceConnectConfiguration": connect("web.v1"),
        "load_balancer": env.alb().groups[0],
        "health_check": True,
    }
    merged = {k: v for k, v in {**settings, **changes}.items() if v is not None}  # None: left out
    return env.target("web", "web:1", **merged)


def release(env: EcsEnv, image: str = "web:2", **changes: Any) -> Any:
    target = live(
        env,
        serviceConnectConfiguration=connect("web.v2"),
        vpcLatticeConfigurations=LATTICE,
        scalable_targets=[scalable_target(1, 6)],
        scaling_policies=[cpu_policy()],
        scheduled_actions=[PEAK],
        **changes,
    )
    target.task_definition["containerDefinitions"][0]["image"] = image  # type: ignore[index]
    return target


def primary(env: EcsEnv) -> dict[str, Any]:
    service = env.describe("web")
    assert service is not None
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def actions(env: EcsEnv) -> list[str]:
    found = env.autoscaling.describe_scheduled_actions(
        ServiceNamespace="ecs", ResourceId=f"service/{env.cluster}/web"
    )
    return sorted(a["ScheduledActionName"] for a in found["ScheduledActions"])


def make_live(env: EcsEnv) -> dict[str, Any]:
    env.create_live_service(live(env), scalable_targets=[scalable_target(1, 4)], scheduled_actions=[NIGHT])
    return snapshot(env, "web")


def test_a_rolling_deploy_sends_service_connect_and_lattice_and_replaces_the_scheduled_actions(
    env: EcsEnv,
) -> None:
    make_live(env)
    rolling_deploy(env.context(), release(env), RollingDeployOptions())
    deployed = primary(env)
    assert deployed["serviceConnectConfiguration"] == connect("web.v2")
    assert deployed["vpcLatticeConfigurations"] == LATTICE
    assert actions(env) == ["peak"]  # the manifests' only: night is gone


@pytest.mark.parametrize("case", list(FAILURES), ids=list(FAILURES))
def test_a_failed_rolling_deploy_restores_service_connect_and_scheduled_actions(
    env: EcsEnv, case: str
) -> None:
    failure = FAILURES[case]
    before = make_live(env)
    env.admin.set_images({"image": "web:2", **failure.image})
    ctx = env.context(timeout=failure.timeout)
    with pytest.raises(failure.error):
        rolling_deploy(ctx, release(env, circuit_breaker=failure.circuit_breaker), RollingDeployOptions())
    rolling_rollback(env.context(), release(env), env.checkpoint)
    assert_same(before, snapshot(env, "web"))
    assert primary(env)["serviceConnectConfiguration"] == connect("web.v1")
    assert actions(env) == ["night"]


def test_a_rollback_after_a_successful_deploy_turns_off_what_the_release_added(env: EcsEnv) -> None:
    env.create_live_service(
        live(env, serviceConnectConfiguration=None), scalable_targets=[scalable_target(1, 4)]
    )
    before = snapshot(env, "web")
    rolling_deploy(env.context(), release(env, image="web:1"), RollingDeployOptions())
    assert actions(env) == ["peak"] and primary(env)["vpcLatticeConfigurations"] == LATTICE
    rolling_rollback(env.context(), release(env), env.checkpoint)  # a later step failed
    after = snapshot(env, "web")
    assert after["deployments"][0]["serviceConnectConfiguration"] == {"enabled": False}
    after["deployments"][0]["serviceConnectConfiguration"] = None  # off, as before (AWS reports it so)
    assert_same(before, after)
    assert actions(env) == []


def test_skip_application_scaling_makes_no_autoscaling_call_in_deploy_or_rollback(env: EcsEnv) -> None:
    before = make_live(env)
    env.admin.clear_calls()
    rolling_deploy(
        env.context(), release(env, image="web:1"), RollingDeployOptions(skip_application_scaling=True)
    )
    rolling_rollback(env.context(), release(env), env.checkpoint)
    services = {call["service"] for call in env.admin.calls()}
    assert "application-autoscaling" not in services, services
    assert_same(before, snapshot(env, "web"))


def test_a_failed_canary_restores_the_service_it_found(env: EcsEnv) -> None:
    before = make_live(env)
    env.admin.set_images({"image": "web:2", "healthCheck": "fail"})
    with pytest.raises(Exception, match="Tasks keep failing"):
        canary_deploy(env.context(timeout=60), release(env), CanaryDeployOptions(desired_count=1))
    canary_rollback(env.context(), release(env), env.checkpoint)
    assert_same(before, snapshot(env, "web"))


def test_blue_green_rollback_after_the_swap_restores_both_services_settings(env: EcsEnv) -> None:
    alb = env.alb()
    blue = env.target(
        "web__1",
        "web:1",
        family="web",
        load_balancer=alb.groups[0],
        desired=2,
        tags={"BG_VERSION": "BLUE"},
        serviceConnectConfiguration=connect("web.v1"),
    )
    env.create_live_service(blue, scalable_targets=[scalable_target(2, 4)], scheduled_actions=[NIGHT])
    green = env.target(
        "web__2",
        "web:0",
        family="web",
        load_balancer=alb.groups[1],
        desired=0,
        tags={"BG_VERSION": "GREEN"},
        vpcLatticeConfigurations=LATTICE,
    )
    env.create_live_service(green)
    before = bg_state(env, alb)
    target = bg_target(env, "web:2", serviceConnectConfiguration=connect("web.v2"), scheduled_actions=[PEAK])
    blue_green_create_service(env.context(), target, create_options(alb))
    setup = env.checkpoint
    deployed = env.describe("web__2")
    assert deployed is not None
    assert deployed["deployments"][0]["serviceConnectConfiguration"] == connect("web.v2")
    assert "vpcLatticeConfigurations" not in deployed["deployments"][0]  # the release has none
    blue_green_swap_target_groups(env.context(), target, SwapTargetGroupsOptions(setup=setup))
    blue_green_rollback(env.context(), target, env.checkpoint)  # a later step failed
    after = bg_state(env, alb)
    assert_same(before, after)
