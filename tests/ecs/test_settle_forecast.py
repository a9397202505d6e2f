"""When a rolling deployment can settle at the earliest, and what that saves in DescribeServices."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from corral.aws.budget import RateBudget
from corral.aws.clients import AwsSettings, Clients
from corral.aws.poller import PollPolicy, ServicePoller
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy
from corral.ecs.settle_forecast import NO_HEALTH_CHECK_WAIT, SettleForecast, has_container_health_check
from corral.errors import DeploymentError
from corral.sandbox import Sandbox

from .support import REGION, EcsEnv, task_definition

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
