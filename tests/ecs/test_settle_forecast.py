"""When a rolling deployment can settle at the earliest, and what that saves in DescribeServices."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from corral.aws.budget import RateBudget
from corral.aws.clients import AwsSettings, Clients
from corral.aws.poller import PollPolicy, ServicePoller
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy
from corral.ecs.settle_forecast import (
    NO_HEALTH_CHECK_WAIT,
    SettleForecast,
    TargetGroupTiming,
    has_container_health_check,
)
from corral.errors import DeploymentError
from corral.sandbox import Sandbox

from .support import REGION, TEST_POLL_POLICY, EcsEnv, task_definition

CREATED = dt.datetime(2026, 12, 7, 12, 0, 0, tzinfo=dt.UTC)
T0 = CREATED.timestamp()


def described(running: int, pending: int, *, failed: int = 0, **extra: Any) -> dict[str, Any]:
    """A DescribeServices entry in the middle of a rolling deployment `ecs-svc/2` of 2 tasks."""
    return {
        "serviceName": "web",
        "status": "ACTIVE",
        "desiredCount": 2,
        "loadBalancers": [],
        "deployments": [
            {
                "id": "ecs-svc/2",
                "status": "PRIMARY",
                "desiredCount": 2,
                "runningCount": running,
                "pendingCount": pending,
                "failedTasks": failed,
                "rolloutState": "IN_PROGRESS",
                "createdAt": CREATED,
            },
            {"id": "ecs-svc/1", "status": "ACTIVE", "desiredCount": 2, "runningCount": 2, "pendingCount": 0},
        ],
        **extra,
    }


def test_tasks_without_health_check_settle_no_earlier_than_40_s_after_they_were_last_seen_starting() -> None:
    forecast = SettleForecast("ecs-svc/2", container_health_checks=False)
    assert forecast.update(described(0, 2), T0 + 1) is None, "when tasks start is not forecast"
    # unchanged descriptions are not handed on; the last one still showing them starting was at +6
    assert forecast.update(described(2, 0), T0 + 8, previous_at=T0 + 6) == T0 + 6 + NO_HEALTH_CHECK_WAIT


def test_tasks_never_seen_starting_count_from_the_deployment_start() -> None:
    forecast = SettleForecast("ecs-svc/2", container_health_checks=False)
    assert forecast.update(described(2, 0), T0 + 30) == T0 + NO_HEALTH_CHECK_WAIT


@pytest.mark.parametrize(
    "forecast, service",
    [
        (SettleForecast("ecs-svc/2", container_health_checks=True), described(2, 0)),
        (SettleForecast("ecs-svc/2", container_health_checks=None), described(2, 0)),
        (SettleForecast("ecs-svc/9", container_health_checks=False), described(2, 0)),
        (SettleForecast("ecs-svc/2", container_health_checks=False), described(2, 0, failed=1)),
        (
            SettleForecast("ecs-svc/2", container_health_checks=False),
            described(2, 0, loadBalancers=[{"targetGroupArn": "arn:tg", "containerPort": 80}]),
        ),
    ],
    ids=["health-check", "unknown-task-definition", "not-ours", "failed-tasks", "load-balancer"],
)
def test_no_forecast_where_no_documented_rule_bounds_the_moment(
    forecast: SettleForecast, service: dict[str, Any]
) -> None:
    assert forecast.update(service, T0 + 10, previous_at=T0 + 5) is None


BALANCED = {"loadBalancers": [{"targetGroupArn": "arn:tg", "containerPort": 80}]}


def test_behind_a_load_balancer_the_window_opens_when_the_last_task_runs_and_ends_after_check_and_drain() -> (
    None
):
    forecast = SettleForecast(
        "ecs-svc/2", container_health_checks=False, load_balancer=TargetGroupTiming(20.0, 30.0)
    )
    assert forecast.update(described(1, 1, **BALANCED), T0 + 2) is None, "a task still starts"
    # last seen starting at +6, first seen all RUNNING at +8: the first health check may pass at
    # once and a drain without connections ends at once, so +6 is the earliest; the latest is
    # RUNNING (before +8, +1 for the Date's second) + 2 checks 10 s apart + the delay
    assert forecast.update(described(2, 0, **BALANCED), T0 + 8, previous_at=T0 + 6) == T0 + 6
    assert forecast.latest == T0 + 8 + 1 + 20 + 30
    # the window stays where the tasks first ran, however often the service is described after
    assert forecast.update(described(2, 0, **BALANCED), T0 + 20, previous_at=T0 + 8) == T0 + 6
    assert forecast.latest == T0 + 8 + 1 + 20 + 30


def test_behind_a_load_balancer_a_failing_deployment_gets_no_window() -> None:
    forecast = SettleForecast(
        "ecs-svc/2", container_health_checks=False, load_balancer=TargetGroupTiming(20.0, 30.0)
    )
    assert forecast.update(described(2, 0, failed=1, **BALANCED), T0 + 8, previous_at=T0 + 6) is None
    assert forecast.latest is None


def test_an_essential_container_health_check_is_noticed() -> None:
    assert has_container_health_check(task_definition("web", "web:1", health_check=True))
    assert not has_container_health_check(task_definition("web", "web:1"))
    sidecar = {"name": "log", "image": "log:1", "essential": False, "healthCheck": {"command": ["true"]}}
    assert not has_container_health_check(task_definition("web", "web:1", containers=[sidecar]))


def sandbox_settings(sandbox: Sandbox) -> AwsSettings:
    return AwsSettings(
        region=REGION, endpoint_url=sandbox.endpoint_url, access_key_id="testing", secret_access_key="testing"
    )


def _started_at(env: EcsEnv, deployment_id: str) -> float:
    arns = env.ecs.list_tasks(cluster=env.cluster, startedBy=deployment_id)["taskArns"]
    tasks = env.ecs.describe_tasks(cluster=env.cluster, tasks=arns)["tasks"]
    return max(t["startedAt"].timestamp() for t in tasks)


@pytest.mark.sandbox(speed=5)
def test_told_ecs_cannot_be_done_before_the_40_seconds_end_corral_does_not_look_in_between(
    sandbox: Sandbox,
) -> None:
    # the poller's default intervals (0.5 s after a change, backing off to 5 s) would describe the
    # service 5 times in these 8 real seconds; with the forecast and no sparse rounds for failures
    # (PollPolicy.sparse), only while it learns the sandbox's clock (its first second) and around
    # the forecast moment
    clients = Clients(sandbox_settings(sandbox), budget=RateBudget())
    ServicePoller.for_cluster(clients, "forecast", policy=PollPolicy(sparse=3600))
    env = EcsEnv.create(sandbox, cluster="forecast")
    start = sandbox.admin.last_call()
    result = rolling_deploy(env.context(), env.target("web", "web:1"), RollingDeployOptions())

    running = _started_at(env, result.outputs["deploymentId"])
    described_at = [
        c["sandbox_time"] for c in sandbox.admin.calls(start) if c["operation"] == "DescribeServices"
    ]
    during = [round(t - running, 1) for t in described_at if running < t < running + NO_HEALTH_CHECK_WAIT]
    # the clock is learned, and errs early, from answers whose latency a loaded machine stretches:
    # what must not happen is a look in the middle of the wait (sandbox seconds 8 to 20 of 40,
    # where the default intervals would describe it about three times)
    middle = [t for t in during if 8 < t < 20]
    assert middle == [], f"DescribeServices in the middle of the 40 s: {during}"
    assert max(described_at) >= running + NO_HEALTH_CHECK_WAIT, "the deployment was judged done by ECS"


@pytest.mark.sandbox(speed=200)
def test_tasks_that_crash_during_their_40_seconds_still_fail_the_step_with_the_circuit_breaker(
    sandbox: Sandbox, env: EcsEnv
) -> None:
    env.create_live_service(env.target("web", "web:1", circuit_breaker=(True, True)))
    sandbox.admin.set_images({"image": "web:2", "crashAfter": 20})

    with pytest.raises(DeploymentError, match="circuit breaker"):
        rolling_deploy(
            env.context(),
            env.target("web", "web:2", circuit_breaker=(True, True)),
            RollingDeployOptions(),
        )
    poller = ServicePoller.for_cluster(env.clients, env.cluster)
    assert poller.watched() == []


# Sandbox tests with the default poll policy scaled by 1/speed in real seconds: in sandbox
# seconds Corral then polls as it does against AWS (0.5 s after a change, 5 s at most).
SPEED = 50.0


def _scaled_default(speed: float) -> PollPolicy:
    return PollPolicy(fast=0.5 / speed, slowest=5.0 / speed, min_gap=0.25 / speed, round_window=30.0)


def _balanced_env(sandbox: Sandbox, cluster: str, delay: int, speed: float = SPEED) -> tuple[EcsEnv, str]:
    clients = Clients(sandbox_settings(sandbox), budget=RateBudget())
    ServicePoller.for_cluster(clients, cluster, policy=_scaled_default(speed))
    env = EcsEnv.create(sandbox, cluster=cluster)
    group = env.alb().groups[0]
    env.elbv2.modify_target_group_attributes(
        TargetGroupArn=group,
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(delay)}],
    )
    return env, group


def _event_times(env: EcsEnv, text: str) -> list[float]:
    service = env.describe("web")
    assert service is not None
    return sorted(e["createdAt"].timestamp() for e in service["events"] if text in e["message"])


@pytest.mark.sandbox(speed=SPEED)
def test_with_a_300_s_deregistration_delay_corral_describes_the_service_window_rounds_times_at_most_while_it_drains(
    sandbox: Sandbox,
) -> None:
    env, group = _balanced_env(sandbox, "drain", 300)
    env.create_live_service(env.target("web", "web:1", desired=1, load_balancer=group))
    start = sandbox.admin.last_call()
    result = rolling_deploy(
        env.context(timeout=120),
        env.target("web", "web:2", desired=1, load_balancer=group),
        RollingDeployOptions(),
    )
    assert result.outputs["taskDefinitionArn"].endswith("web:2")

    drain_began = _event_times(env, "has begun draining connections")[-1]
    steady = _event_times(env, "has reached a steady state")[-1]
    assert steady - drain_began >= 300, "the sandbox drains a target for the whole delay"
    described = [
        c["sandbox_time"] for c in sandbox.admin.calls(start) if c["operation"] == "DescribeServices"
    ]
    while_draining = [t for t in described if drain_began < t < steady]
    # polling the window (2 checks 5 s apart + 300 s) at 0.5 s would be some 600 calls; evenly
    # over it, `window_rounds` at most (and no more than one per 5 s)
    rounds = PollPolicy().window_rounds
    assert 0 < len(while_draining) <= rounds + 2, [round(t - drain_began, 1) for t in while_draining]
    assert any(t >= steady for t in described), "the step saw the steady state"


CRASH_SPEED = 10.0  # slower: a loaded machine's delays count less in sandbox seconds


@pytest.mark.sandbox(speed=CRASH_SPEED)
def test_behind_a_load_balancer_crashing_tasks_are_seen_failing_within_the_slowest_interval(
    sandbox: Sandbox,
) -> None:
    env, group = _balanced_env(sandbox, "crash", 30, CRASH_SPEED)
    breaker = (True, True)
    env.create_live_service(env.target("web", "web:1", load_balancer=group, circuit_breaker=breaker))
    # each new task exits 2 s after RUNNING, before its target's first health check (5 s)
    sandbox.admin.set_images({"image": "web:2", "crashAfter": 2})
    start = sandbox.admin.last_call()
    with pytest.raises(DeploymentError, match="circuit breaker"):
        rolling_deploy(
            env.context(timeout=120),
            env.target("web", "web:2", load_balancer=group, circuit_breaker=breaker),
            RollingDeployOptions(),
        )

    calls = sandbox.admin.calls(start)
    updated = next(c["sandbox_time"] for c in calls if c["operation"] == "UpdateService")
    failed = _event_times(env, "deployment failed")[-1]
    described = [c["sandbox_time"] for c in calls if c["operation"] == "DescribeServices"]
    looks = [updated] + [t for t in described if t > updated]
    seen = next(t for t in looks if t >= failed)
    # never more than the slowest interval (5 sandbox s) between looks while it failed, and the
    # failure seen at the next look; 5 s more for a loaded machine (0.5 s real at this speed)
    gaps = [b - a for a, b in itertools.pairwise(looks) if a <= failed]
    assert max(gaps) <= 5 + 5, [round(t - updated, 1) for t in looks]
    assert seen - failed <= 5 + 5


@pytest.mark.sandbox(speed=SPEED)
def test_the_service_is_not_described_again_right_after_update_service_answered_it(
    sandbox: Sandbox, env: EcsEnv
) -> None:
    env.create_live_service(env.target("web", "web:1"))
    start = sandbox.admin.last_call()
    rolling_deploy(env.context(), env.target("web", "web:2"), RollingDeployOptions())

    calls = sandbox.admin.calls(start)
    updated = next(c["sandbox_time"] for c in calls if c["operation"] == "UpdateService")
    first = next(
        c["sandbox_time"]
        for c in calls
        if c["operation"] == "DescribeServices" and c["sandbox_time"] > updated
    )
    # UpdateService's answer is the service's description: the first look comes a poll interval
    # later (TEST_POLL_POLICY's 0.1 s, 5 sandbox s), not at once (a loaded machine only delays it)
    assert first - updated >= TEST_POLL_POLICY.fast * SPEED * 0.9
