"""ECS events from an SQS queue tell the shared poller when to look (corral.aws.events).

The sandbox publishes ECS's EventBridge events; `ensure_event_queue` makes the rules and the queue
as `corral connector ecs-events` does; the rolling deploy step then notices the end of a deployment
from an event, with a handful of DescribeServices instead of a poll every second or two.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from corral.aws.budget import RateBudget
from corral.aws.clients import Clients
from corral.aws.event_queue import ensure_event_queue
from corral.aws.events import EcsEventFeed, parse
from corral.aws.poller import PollPolicy, ServicePoller
from corral.ecs.context import StepContext, StepTimedOut
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy
from corral.ecs.target import EcsTarget
from corral.errors import DeploymentError
from corral.sandbox import Sandbox

from .conftest import sandbox_settings, wait_until

SERVICE_ARN = "arn:aws:ecs:us-west-2:111122223333:service/prod/web"
CLUSTER_ARN = "arn:aws:ecs:us-west-2:111122223333:cluster/prod"


def envelope(detail_type: str, resources: list[str], detail: dict[str, Any]) -> str:
    return json.dumps(
        {
            "version": "0",
            "id": "ddca6449-b258-46c0-8653-e0e3a6EXAMPLE",
            "detail-type": detail_type,
            "source": "aws.ecs",
            "account": "111122223333",
            "time": "2020-05-23T12:31:14Z",
            "region": "us-west-2",
            "resources": resources,
            "detail": detail,
        }
    )


def test_a_deployment_event_names_its_cluster_service_and_deployment() -> None:
    body = envelope(
        "ECS Deployment State Change",
        [SERVICE_ARN],
        {
            "eventType": "INFO",
            "eventName": "SERVICE_DEPLOYMENT_COMPLETED",
            "deploymentId": "ecs-svc/123",
            "updatedAt": "2020-05-23T11:11:11Z",
            "reason": "ECS deployment ecs-svc/123 completed.",
        },
    )
    event = parse(body, 1.0)
    assert event is not None
    assert (event.cluster, event.service, event.deployment_id) == ("prod", "web", "ecs-svc/123")
    assert event.decides("ecs-svc/123")
    in_progress = parse(body.replace("COMPLETED", "IN_PROGRESS"), 1.0)
    assert in_progress is not None and not in_progress.decides("ecs-svc/123"), "routine news costs no call"


def test_only_a_stopped_task_of_the_newest_deployment_is_news() -> None:
    def task(status: str, started_by: str, group: str = "service:web") -> str:
        detail = {"clusterArn": CLUSTER_ARN, "group": group, "lastStatus": status, "startedBy": started_by}
        return envelope("ECS Task State Change", ["arn:aws:ecs:us-west-2:111122223333:task/prod/abc"], detail)

    failed_new = parse(task("STOPPED", "ecs-svc/new"), 1.0)
    old_drained = parse(task("STOPPED", "ecs-svc/old"), 1.0)
    started = parse(task("RUNNING", "ecs-svc/new"), 1.0)
    assert failed_new is not None and failed_new.decides("ecs-svc/new")
    assert old_drained is not None and not old_drained.decides("ecs-svc/new")
    assert started is not None and not started.decides("ecs-svc/new")
    assert old_drained.decides(None), "without a description yet, any stop may matter"
    assert parse(task("STOPPED", "me", group="family:batch"), 1.0) is None, (
        "standalone tasks are not services'"
    )


@pytest.mark.parametrize(
    "body",
    ["not json", "[]", json.dumps({"source": "aws.ec2", "detail-type": "EC2 Instance State-change"})],
)
def test_what_is_not_an_ecs_service_event_is_ignored(body: str) -> None:
    assert parse(body, 1.0) is None


# ---------------------------------------------------------------- against the sandbox


def fargate_target(sandbox: Sandbox, name: str, image: str, *, desired: int = 2) -> EcsTarget:
    ec2 = sandbox.client("ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    subnets = [
        s["SubnetId"] for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"]
    ]
    return EcsTarget(
        cluster="events",
        service_definition={
            "serviceName": name,
            "launchType": "FARGATE",
            "desiredCount": desired,
            "networkConfiguration": {
                "awsvpcConfiguration": {"subnets": subnets[:2], "assignPublicIp": "DISABLED"}
            },
            "deploymentConfiguration": {
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
                "deploymentCircuitBreaker": {"enable": True, "rollback": False},
            },
        },
        task_definition={
            "family": name,
            "networkMode": "awsvpc",
            "requiresCompatibilities": ["FARGATE"],
            "cpu": "256",
            "memory": "512",
            "containerDefinitions": [{"name": "app", "image": image, "essential": True}],
        },
    )


def describe_calls(sandbox: Sandbox, since: int) -> int:
    return sum(1 for c in sandbox.admin.calls(since) if c["operation"] == "DescribeServices")


@pytest.fixture
def event_clients(sandbox: Sandbox) -> Clients:
    """Clients whose connector names the events queue; the cluster's poller makes no safety round
    within a test's time, so whatever it notices, it noticed from an event."""
    sandbox.client("ecs").create_cluster(clusterName="events")
    queue = ensure_event_queue(Clients(sandbox_settings(sandbox)), "test-ecs-events")
    clients = Clients(sandbox_settings(sandbox, ecs_events_queue_url=queue.queue_url), budget=RateBudget())
    ServicePoller.for_cluster(clients, "events", policy=PollPolicy(with_events=3600))
    return clients


@pytest.mark.sandbox(speed=20)
def test_a_rolling_deploy_notices_the_end_from_an_event_with_few_describe_calls(
    sandbox: Sandbox, event_clients: Clients
) -> None:
    rolling_deploy(
        StepContext.with_timeout(event_clients, 120),
        fargate_target(sandbox, "web", "app:1"),
        RollingDeployOptions(),
    )
    start = sandbox.admin.last_call()
    result = rolling_deploy(
        StepContext.with_timeout(event_clients, 120),
        fargate_target(sandbox, "web", "app:2"),
        RollingDeployOptions(),
    )
    calls = describe_calls(sandbox, start)
    assert result.outputs["taskDefinitionArn"].endswith(":2")
    service = sandbox.client("ecs").describe_services(cluster="events", services=["web"])["services"][0]
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    # one to capture the service before, one when the deployment's COMPLETED event came
    assert calls == 2, sandbox.admin.calls(start)
    feed = ServicePoller.for_cluster(event_clients, "events").feed
    assert feed is not None and feed.live and feed.received > 0


@pytest.mark.sandbox(speed=20)
def test_a_failing_deployment_fails_fast_from_events(sandbox: Sandbox, event_clients: Clients) -> None:
    rolling_deploy(
        StepContext.with_timeout(event_clients, 120),
        fargate_target(sandbox, "api", "app:1"),
        RollingDeployOptions(),
    )
    sandbox.admin.set_images({"image": "app:broken", "exitCode": 1, "exitAfter": 5})
    start = sandbox.admin.last_call()
    with pytest.raises(DeploymentError) as failure:
        rolling_deploy(
            StepContext.with_timeout(event_clients, 120),
            fargate_target(sandbox, "api", "app:broken"),
            RollingDeployOptions(),
        )
    # the stopped tasks' events made the poller look (its safety round is an hour away): the step
    # failed with ECS's reason, not at its timeout
    assert not isinstance(failure.value, StepTimedOut)
    assert "failed" in str(failure.value).lower()
    assert describe_calls(sandbox, start) >= 2


@pytest.mark.sandbox(speed=20)
def test_a_queue_that_does_not_answer_falls_back_to_polling(sandbox: Sandbox) -> None:
    sandbox.client("ecs").create_cluster(clusterName="events")
    missing = f"{sandbox.endpoint_url}/123456789012/no-such-queue"
    clients = Clients(sandbox_settings(sandbox, ecs_events_queue_url=missing), budget=RateBudget())
    result = rolling_deploy(
        StepContext.with_timeout(clients, 120), fargate_target(sandbox, "db", "app:1"), RollingDeployOptions()
    )
    assert result.outputs["serviceName"] == "db"
    feed = EcsEventFeed.for_queue(clients, missing)
    wait_until(lambda: not feed.live)


@pytest.mark.sandbox(speed=20)
def test_a_deploy_that_changes_nothing_looks_at_once(sandbox: Sandbox, event_clients: Clients) -> None:
    # no deployment starts, so no event will come: the step must describe the service at once
    # (the poller's safety round is an hour away, the step's timeout two minutes)
    target = fargate_target(sandbox, "same", "app:1")
    first = rolling_deploy(StepContext.with_timeout(event_clients, 120), target, RollingDeployOptions())
    again = rolling_deploy(StepContext.with_timeout(event_clients, 120), target, RollingDeployOptions())
    assert again.outputs["deploymentId"] == first.outputs["deploymentId"]
