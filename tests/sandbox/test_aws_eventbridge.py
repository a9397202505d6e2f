"""ECS events on EventBridge against the ECS Developer Guide's samples (aws_fixtures/eventbridge_events.yaml):
envelope, detail-type, source, resources, detail field names, event names and types, reasons."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from corral.sandbox import Sandbox

from .aws_fixture_data import entry, fill
from .helpers import wait_until
from .test_ecs_blue_green import blue_service, deploy
from .test_ecs_events import Subscription, subscribe, unsubscribe
from .test_ecs_support import (
    FAST_HEALTH_CHECK,
    describe,
    ec2_definition,
    fargate_definition,
    fargate_service,
    wait_completed,
)

ALL_ECS = {
    "source": ["aws.ecs"],
    "detail-type": [
        "ECS Deployment State Change",
        "ECS Service Action",
        "ECS Task State Change",
        "ECS Hook State Change",
    ],
}


def documented(entry_id: str) -> dict[str, Any]:
    return entry("eventbridge_events", entry_id)


def shape_of(example: str) -> str:
    """A regular expression for strings written like `example` (digits stand for any digit)."""
    return "^" + re.sub(r"\d", r"\\d", re.escape(example)) + "$"


def assert_like_sample(event: dict[str, Any], sample_id: str, resource: str) -> None:
    sample, envelope = documented(sample_id), documented("envelope")
    assert list(event) == envelope["fields"]
    assert (event["version"], event["source"]) == (envelope["version"], envelope["source_name"])
    assert re.match(shape_of(envelope["time_example"]), event["time"]), event["time"]
    assert event["detail-type"] == sample["detail_type"]
    assert event["resources"] == [resource]
    assert set(event["detail"]) == set(sample["detail_fields"]), sample_id
    assert (event["detail"]["eventName"], event["detail"]["eventType"]) == (
        sample["eventName"],
        sample["eventType"],
    )


@pytest.fixture
def events(sandbox: Sandbox) -> Iterator[Subscription]:
    queue, rule = subscribe(sandbox, ALL_ECS)
    yield queue
    unsubscribe(sandbox, rule)


@pytest.mark.sandbox(speed=50, throttling=False)
def test_deployment_and_service_action_events_match_the_samples(
    sandbox: Sandbox, events: Subscription
) -> None:
    sandbox.admin.set_images({"image": "web:broken", "healthCheck": "fail"})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    good = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
    service_arn = fargate_service(ecs, "apps", "web", good, 2)["serviceArn"]
    first = describe(ecs, "apps", "web")["deployments"][0]["id"]
    wait_completed(ecs, "apps", "web", good)
    broken = fargate_definition(ecs, "web", "web:broken", health_check=FAST_HEALTH_CHECK)
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    failed_id = ecs.update_service(
        cluster="apps", service="web", taskDefinition=broken, deploymentConfiguration=breaker
    )["service"]["deployments"][0]["id"]
    [failed] = wait_until(
        lambda: events.named("SERVICE_DEPLOYMENT_FAILED"), message="SERVICE_DEPLOYMENT_FAILED"
    )
    wait_until(
        lambda: len(events.named("SERVICE_DEPLOYMENT_COMPLETED")) == 2, message="the rollback completes"
    )

    by_deployment = {(e["detail"]["eventName"], e["detail"]["deploymentId"]): e for e in events.drain()
                     if e["detail-type"] == "ECS Deployment State Change"}  # fmt: skip
    started = by_deployment[("SERVICE_DEPLOYMENT_IN_PROGRESS", first)]
    assert_like_sample(started, "deployment-in-progress", service_arn)
    assert started["detail"]["reason"] == fill(
        documented("deployment-in-progress")["reason"], deploymentId=first
    )
    completed = by_deployment[("SERVICE_DEPLOYMENT_COMPLETED", first)]
    assert_like_sample(completed, "deployment-completed", service_arn)
    millis = documented("deployment-completed")["sandbox_differs"]["writes"]
    assert re.match(shape_of(millis), completed["detail"]["updatedAt"]), completed["detail"]["updatedAt"]
    assert completed["detail"]["reason"] == fill(
        documented("deployment-completed")["reason"], deploymentId=first
    )

    assert_like_sample(failed, "deployment-failed", service_arn)
    assert failed["detail"]["deploymentId"] == failed_id
    differs = documented("deployment-failed")["sandbox_differs"]
    assert failed["detail"]["reason"] == differs["writes"] != documented("deployment-failed")["reason"]

    [rollback] = [e for (name, deployment), e in by_deployment.items()
                  if name == "SERVICE_DEPLOYMENT_IN_PROGRESS" and deployment not in (first, failed_id)]  # fmt: skip
    assert_like_sample(rollback, "deployment-rollback-in-progress", service_arn)
    assert rollback["detail"]["reason"] == fill(
        documented("deployment-rollback-in-progress")["reason"], rolledBackTo=first
    )

    steady = wait_until(lambda: events.named("SERVICE_STEADY_STATE"), message="SERVICE_STEADY_STATE")
    assert_like_sample(steady[-1], "service-action-steady-state", service_arn)
    names = documented("service-action-event-names")
    for event in (e for e in events.drain() if e["detail-type"] == names["detail_type"]):
        kind = event["detail"]["eventType"]
        assert event["detail"]["eventName"] in names[kind], event["detail"]


@pytest.mark.sandbox(speed=50, throttling=False)
def test_a_task_placement_failure_matches_the_sample(sandbox: Sandbox, events: Subscription) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    service_arn = ecs.create_service(
        cluster="apps", serviceName="web", taskDefinition=ec2_definition(ecs, "web", "web:1"), desiredCount=1
    )["service"]["serviceArn"]
    [failure] = wait_until(
        lambda: events.named("SERVICE_TASK_PLACEMENT_FAILURE"), message="SERVICE_TASK_PLACEMENT_FAILURE"
    )
    assert_like_sample(failure, "service-action-task-placement-failure", service_arn)
    assert failure["detail"]["containerInstanceArns"] == [], "no container instance was tried"
    assert failure["detail"]["reason"]


@pytest.mark.sandbox(speed=50, throttling=False)
def test_a_task_that_cannot_start_sends_the_start_impaired_sample(
    sandbox: Sandbox, events: Subscription
) -> None:
    sandbox.admin.set_images({"image": "web:missing", "pullFailure": "pull access denied for web"})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    service_arn = fargate_service(ecs, "apps", "web", fargate_definition(ecs, "web", "web:missing"), 1)[
        "serviceArn"
    ]
    [impaired] = wait_until(
        lambda: events.named("SERVICE_TASK_START_IMPAIRED"), message="SERVICE_TASK_START_IMPAIRED"
    )
    assert_like_sample(impaired, "service-action-task-start-impaired", service_arn)


@pytest.mark.sandbox(speed=50, throttling=False)
def test_a_task_state_change_has_the_samples_fields(sandbox: Sandbox, events: Subscription) -> None:
    sample = documented("task-state-change")
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    fargate_service(ecs, "apps", "web", fargate_definition(ecs, "web", "web:1"), 1)

    def running() -> list[dict[str, Any]]:
        return [e for e in events.tasks() if e["detail"]["lastStatus"] == "RUNNING"]

    [event] = wait_until(running, message="a task RUNNING")
    assert event["detail-type"] == sample["detail_type"]
    assert event["resources"] == [event["detail"]["taskArn"]]
    missing = set(sample["detail_fields"]) - set(event["detail"])
    assert not missing, f"fields of the sample the sandbox leaves out: {sorted(missing)}"
    timestamp = shape_of(sample["timestamp_example"])
    for name in ("createdAt", "startedAt", "updatedAt", "connectivityAt", "pullStartedAt", "pullStoppedAt"):
        assert re.match(timestamp, event["detail"][name]), (name, event["detail"][name])


@pytest.mark.sandbox(speed=50, throttling=False)
def test_a_pause_hook_sends_the_samples_events(sandbox: Sandbox, events: Subscription) -> None:
    sample = documented("hook-awaiting-action")
    pause = {
        "targetType": "PAUSE",
        "lifecycleStages": [sample["lifecycleStage"]],
    }
    ecs, _, _ = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[pause])
    _, arn = deploy(ecs, "web:2")
    [awaiting] = wait_until(lambda: events.named("HOOK_AWAITING_ACTION"), message="HOOK_AWAITING_ACTION")
    assert_like_sample(awaiting, "hook-awaiting-action", arn)
    detail = awaiting["detail"]
    assert detail["hookType"] == sample["hookType"]
    assert detail["hookId"].startswith(sample["hookId_prefix"])
    assert detail["lifecycleStage"] == sample["lifecycleStage"]
    for name in sample["timestamps"]:
        assert re.match(shape_of(sample["sandbox_differs"]["writes"]), detail[name]), (name, detail[name])
    assert (detail["serviceDeploymentArn"], detail["serviceArn"]) == (
        arn,
        describe(ecs, "apps", "web")["serviceArn"],
    )
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=detail["hookId"], action="CONTINUE")
    wait_until(lambda: events.named("HOOK_SUCCEEDED"), message="HOOK_SUCCEEDED")
    names = documented("hook-event-names")["names"]
    hooks = [e for e in events.drain() if e["detail-type"] == "ECS Hook State Change"]
    assert {e["detail"]["eventName"] for e in hooks} <= set(names)
