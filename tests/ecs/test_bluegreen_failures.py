"""ECS Blue Green Create Service under injected failures: the step fails with ECS's reason (or, for a
throttling storm, does not fail), and ECS Blue Green Rollback returns AWS to exactly what it was."""

from __future__ import annotations

import json
from typing import Any

import pytest

from corral.ecs.bluegreen import (
    SwapTargetGroupsOptions,
    blue_green_create_service,
    blue_green_rollback,
    blue_green_swap_target_groups,
)
from corral.ecs.context import StepContext, StepTimedOut
from corral.errors import DeploymentError

from .support import EcsEnv, assert_same
from .test_bluegreen_support import (
    TrafficSampler,
    bg_state,
    bg_target,
    create_options,
    forwards,
    live_service,
)

# name -> (image behaviour, extra service definition, create options, expected reason)
FAILURES: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any], str]] = {
    "failing ELB health check": (
        {"elbHealth": "fail"},
        {},
        {},
        "Task failed ELB health checks",
    ),
    "task exiting": ({"exitCode": 1, "exitAfter": 1}, {}, {}, "Essential container in task exited"),
    "image pull failure": (
        {"pullFailure": "pull access denied for web, repository does not exist"},
        {},
        {},
        "CannotPullContainerError: pull access denied for web",
    ),
    "circuit breaker without rollback": (
        {"elbHealth": "fail"},
        {"circuit_breaker": (True, False)},
        {},
        "ECS deployment circuit breaker: tasks failed to start",
    ),
    "circuit breaker with rollback": (
        {"elbHealth": "fail"},
        {"circuit_breaker": (True, True)},
        {"update_green_service": True},  # the green service has a revision to roll back to
        "ECS deployment circuit breaker: tasks failed to start",
    ),
}


def start(env: EcsEnv) -> dict[str, Any]:
    """Live BLUE web__1 (2 tasks, autoscaling) and, as a previous swap leaves it, GREEN web__2 at 0."""
    alb = env.alb()
    live_service(env, "web__1", "web:1", alb.groups[0])
    live_service(env, "web__2", "web:0", alb.groups[1], version="GREEN", desired=0, scaling=False)
    return bg_state(env, alb)


def roll_back_and_compare(env: EcsEnv, before: dict[str, Any]) -> None:
    alb = env.alb()
    rollback_data = json.loads(json.dumps(env.checkpoint))
    with TrafficSampler(env, alb.listeners[0]) as sampler:
        blue_green_rollback(env.context(), bg_target(env, "web:2"), rollback_data)
    # Faults the rollback did not use up are the test's own business: its reads must not meet them.
    env.admin.clear_faults()
    assert_same(before, bg_state(env, alb))
    assert sampler.outages == []


@pytest.mark.parametrize("failure", list(FAILURES))
def test_create_service_fails_with_the_ecs_reason_and_rollback_restores_everything(
    env: EcsEnv, failure: str
) -> None:
    behaviour, service, options, reason = FAILURES[failure]
    before = start(env)
    env.admin.set_images({"image": "web:broken", **behaviour})
    target = bg_target(env, "web:broken", **service)

    with pytest.raises(DeploymentError) as raised:
        blue_green_create_service(env.context(), target, create_options(env.alb(), **options))

    assert reason in str(raised.value)
    assert "Traceback" not in str(raised.value)
    if options.get("update_green_service"):
        # ECS itself rolled web__2 back to its last revision. The service's events say so for good; the
        # rollback deployment's reason does only until it completes, which a busy machine may let happen.
        events = [e["message"] for e in env.describe("web__2")["events"]]  # type: ignore[index]
        assert any("(service web__2) rolling back to deployment ecs-svc/" in m for m in events)
    roll_back_and_compare(env, before)


def test_a_throttling_storm_does_not_fail_create_service_and_rollback_still_restores(env: EcsEnv) -> None:
    before = start(env)
    for operation in (
        "DescribeServices",
        "DescribeTaskDefinition",
        "RegisterTaskDefinition",
        "CreateService",
    ):
        env.admin.add_fault("throttle", service="ecs", operation=operation, rate=1.0, count=2)
    env.admin.add_fault("throttle", service="ecs", operation="*", rate=0.3, count=10)

    created = blue_green_create_service(env.context(), bg_target(env, "web:2"), create_options(env.alb()))

    assert created.outputs["serviceName"] == "web__2"
    throttled = [c for c in env.admin.calls() if c["outcome"] == "ThrottlingException"]
    assert len(throttled) >= 8  # each of those calls was refused twice, and more at random
    roll_back_and_compare(env, before)


def test_a_step_timeout_fails_with_a_timeout_and_rollback_restores(env: EcsEnv) -> None:
    before = start(env)
    env.admin.set_images({"image": "web:slow", "startDelay": 3600})

    with pytest.raises(StepTimedOut, match="Timed out waiting for service web__2 to reach a steady state"):
        blue_green_create_service(
            env.context(timeout=3), bg_target(env, "web:slow"), create_options(env.alb())
        )

    roll_back_and_compare(env, before)


def test_a_crash_half_way_through_the_swap_is_rolled_back_with_listeners_pointed_back(env: EcsEnv) -> None:
    before = start(env)
    target = bg_target(env, "web:2")
    blue_green_create_service(env.context(), target, create_options(env.alb()))

    def crash_after_prod(data: dict[str, Any]) -> None:
        env.checkpoints.append(data)
        if data.get("prodSwapped"):
            raise KeyboardInterrupt("the worker died")

    ctx = StepContext.with_timeout(env.clients, 60, checkpoint=crash_after_prod)
    with pytest.raises(KeyboardInterrupt):
        blue_green_swap_target_groups(ctx, target, SwapTargetGroupsOptions(setup=env.checkpoint))
    assert forwards(env, env.alb().listeners[0]) == forwards(env, env.alb().listeners[1])  # half swapped

    roll_back_and_compare(env, before)


def test_a_failure_after_a_complete_swap_is_rolled_back(env: EcsEnv) -> None:
    before = start(env)
    target = bg_target(env, "web:2")
    blue_green_create_service(env.context(), target, create_options(env.alb()))
    blue_green_swap_target_groups(env.context(), target, SwapTargetGroupsOptions(setup=env.checkpoint))

    roll_back_and_compare(env, before)
