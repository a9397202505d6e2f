"""ECS events on EventBridge, delivered to SQS, as a deployment tool subscribes to them on AWS."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
import urllib.parse
import urllib.request
import uuid
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_ecs_support import (
    FAST_HEALTH_CHECK,
    describe,
    fargate_definition,
    fargate_service,
    wait_completed,
)

ECS_PATTERN = {
    "source": ["aws.ecs"],
    "detail-type": ["ECS Deployment State Change", "ECS Service Action", "ECS Task State Change"],
}
ENVELOPE = ["version", "id", "detail-type", "source", "account", "time", "region", "resources", "detail"]


@dataclass
class Subscription:
    """An SQS queue that an EventBridge rule on the default bus feeds; collects what arrives."""

    sqs: Any
    url: str
    received: list[dict[str, Any]] = field(default_factory=list)

    def drain(self, wait: int = 0) -> list[dict[str, Any]]:
        """Receive (and delete) what is in the queue now; returns everything received so far."""
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=wait)
            messages = answer.get("Messages", [])
            if not messages:
                return self.received
            self.received.extend(json.loads(m["Body"]) for m in messages)
            self.sqs.delete_message_batch(
                QueueUrl=self.url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
            wait = 0

    def named(self, event_name: str) -> list[dict[str, Any]]:
        return [e for e in self.drain() if e["detail"].get("eventName") == event_name]

    def tasks(self) -> list[dict[str, Any]]:
        return [e for e in self.drain() if e["detail-type"] == "ECS Task State Change"]


def subscribe(sandbox: Sandbox, pattern: dict[str, Any]) -> tuple[Subscription, str]:
    # moto's state is shared by the sandboxes of one process: names of this test's own
    suffix = uuid.uuid4().hex[:8]
    sqs = sandbox.client("sqs")
    url = sqs.create_queue(QueueName=f"ecs-events-{suffix}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events = sandbox.client("events")
    rule = f"ecs-events-{suffix}"
    events.put_rule(Name=rule, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule, Targets=[{"Id": "queue", "Arn": arn}])
    return Subscription(sqs, url), rule


@pytest.fixture
def subscription(sandbox: Sandbox) -> Iterator[Subscription]:
    queue, rule = subscribe(sandbox, ECS_PATTERN)
    yield queue
    unsubscribe(sandbox, rule)


def unsubscribe(sandbox: Sandbox, rule: str) -> None:
    events = sandbox.client("events")
    events.remove_targets(Rule=rule, Ids=["queue"])
    events.delete_rule(Name=rule)


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


@pytest.mark.sandbox(speed=50, throttling=False)
def test_a_rolling_deployment_reports_its_progress_as_events(
    sandbox: Sandbox, subscription: Subscription
) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    first = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
    service_arn = fargate_service(ecs, "apps", "web", first, 2)["serviceArn"]
    wait_completed(ecs, "apps", "web", first)
    old_tasks = {e["detail"]["taskArn"] for e in subscription.tasks()}
    assert len(old_tasks) == 2
    subscription.received.clear()

    second = fargate_definition(ecs, "web", "web:2", health_check=FAST_HEALTH_CHECK)
    deployment_id = ecs.update_service(cluster="apps", service="web", taskDefinition=second)["service"][
        "deployments"
    ][0]["id"]
    service = wait_completed(ecs, "apps", "web", second)
    assert service["deployments"][0]["id"] == deployment_id

    def completed() -> list[dict[str, Any]]:
        return subscription.named("SERVICE_DEPLOYMENT_COMPLETED")

    [done] = wait_until(completed, message="SERVICE_DEPLOYMENT_COMPLETED")
    [started] = subscription.named("SERVICE_DEPLOYMENT_IN_PROGRESS")
    for event in (started, done):
        assert list(event) == ENVELOPE
        assert (event["version"], event["source"], event["detail-type"]) == (
            "0",
            "aws.ecs",
            "ECS Deployment State Change",
        )
        assert (event["account"], event["region"], event["resources"]) == (
            "123456789012",
            "us-east-1",
            [service_arn],
        )
        assert uuid.UUID(event["id"])
        assert event["time"].endswith("Z") and len(event["time"]) == len("2026-11-22T13:00:00Z")
        assert event["detail"]["deploymentId"] == deployment_id
        assert event["detail"]["eventType"] == "INFO"
    assert started["detail"]["reason"] == f"ECS deployment {deployment_id} in progress."
    assert done["detail"]["reason"] == f"ECS deployment {deployment_id} completed."
    assert subscription.received.index(started) < subscription.received.index(done)

    # COMPLETED comes at the moment of the rolloutState change: the service event says when
    completed_at = next(
        e["createdAt"]
        for e in service["events"]
        if e["message"] == f"(service web) (deployment {deployment_id}) deployment completed."
    )
    assert parse_time(done["detail"]["updatedAt"]) >= completed_at - dt.timedelta(milliseconds=1)
    assert parse_time(done["time"]) >= completed_at.replace(microsecond=0)

    steady = wait_until(lambda: subscription.named("SERVICE_STEADY_STATE"), message="SERVICE_STEADY_STATE")
    assert steady[-1]["detail"]["clusterArn"] == service["clusterArn"]
    assert steady[-1]["resources"] == [service_arn]
    assert set(steady[-1]["detail"]) == {"eventType", "eventName", "clusterArn", "createdAt"}

    def old_stopped() -> list[dict[str, Any]]:
        return [
            e["detail"]
            for e in subscription.tasks()
            if e["detail"]["taskArn"] in old_tasks and e["detail"]["lastStatus"] == "STOPPED"
        ]

    stopped = wait_until(lambda: len(old_stopped()) == 2 and old_stopped(), message="old tasks STOPPED")
    for task in stopped:
        assert task["desiredStatus"] == "STOPPED"
        assert task["stopCode"] == "ServiceSchedulerInitiated"
        assert task["stoppedReason"] == f"Scaling activity initiated by (deployment {deployment_id})"
        assert task["group"] == "service:web"
        assert task["taskDefinitionArn"] == first
        assert task["clusterArn"] == service["clusterArn"]
        assert task["containers"][0]["exitCode"] == 0
        assert parse_time(task["stoppedAt"]) <= parse_time(task["updatedAt"])

    new_tasks = [e["detail"] for e in subscription.tasks() if e["detail"]["taskDefinitionArn"] == second]
    running = [t for t in new_tasks if t["lastStatus"] == "RUNNING"]
    assert len({t["taskArn"] for t in running}) == 2
    assert all(t["startedBy"] == deployment_id and "startedAt" in t for t in running)
    one = [t["lastStatus"] for t in new_tasks if t["taskArn"] == running[0]["taskArn"]]
    assert one[: one.index("RUNNING") + 1] == ["PROVISIONING", "PENDING", "ACTIVATING", "RUNNING"]
    versions = [t["version"] for t in new_tasks if t["taskArn"] == running[0]["taskArn"]]
    assert versions == sorted(versions)


@pytest.mark.sandbox(speed=50, throttling=False)
def test_the_circuit_breaker_reports_a_failed_deployment_and_the_rollback(
    sandbox: Sandbox, subscription: Subscription
) -> None:
    sandbox.admin.set_images({"image": "web:broken", "healthCheck": "fail"})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    good = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
    fargate_service(ecs, "apps", "web", good, 2)
    wait_completed(ecs, "apps", "web", good)
    completed_id = describe(ecs, "apps", "web")["deployments"][0]["id"]
    broken = fargate_definition(ecs, "web", "web:broken", health_check=FAST_HEALTH_CHECK)
    failed_id = ecs.update_service(
        cluster="apps",
        service="web",
        taskDefinition=broken,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )["service"]["deployments"][0]["id"]

    [failed] = wait_until(
        lambda: subscription.named("SERVICE_DEPLOYMENT_FAILED"), message="SERVICE_DEPLOYMENT_FAILED"
    )
    assert failed["detail"]["eventType"] == "ERROR"
    assert failed["detail"]["deploymentId"] == failed_id
    assert failed["detail"]["reason"] == "ECS deployment circuit breaker: tasks failed to start."

    rollback = [
        e
        for e in subscription.named("SERVICE_DEPLOYMENT_IN_PROGRESS")
        if e["detail"]["deploymentId"] != failed_id
    ]
    assert rollback[-1]["detail"]["reason"] == (
        f"ECS deployment circuit breaker: rolling back to deploymentId {completed_id}."
    )
    assert subscription.received.index(failed) < subscription.received.index(rollback[-1])
    unhealthy = [
        e["detail"]
        for e in subscription.tasks()
        if e["detail"]["taskDefinitionArn"] == broken and e["detail"].get("stoppedReason")
    ]
    assert unhealthy and unhealthy[0]["stoppedReason"] == "Task failed container health checks"


@pytest.mark.sandbox(speed=50, throttling=False)
def test_a_rule_that_does_not_match_gets_nothing(sandbox: Sandbox, subscription: Subscription) -> None:
    other, rule = subscribe(
        sandbox, {"source": ["aws.ecs"], "detail-type": ["ECS Container Instance State Change"]}
    )
    try:
        ecs = sandbox.client("ecs")
        ecs.create_cluster(clusterName="apps")
        definition = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
        fargate_service(ecs, "apps", "web", definition, 1)
        wait_completed(ecs, "apps", "web", definition)
        wait_until(lambda: subscription.named("SERVICE_STEADY_STATE"), message="the matching rule's events")
        assert other.drain() == []
    finally:
        unsubscribe(sandbox, rule)


@pytest.mark.sandbox(speed=50, throttling=False)
def test_a_long_poll_returns_as_soon_as_an_event_arrives(
    sandbox: Sandbox, subscription: Subscription
) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    definition = fargate_definition(ecs, "web", "web:1")
    answer: dict[str, Any] = {}

    def poll() -> None:
        started = time.monotonic()
        answer["messages"] = subscription.sqs.receive_message(
            QueueUrl=subscription.url, WaitTimeSeconds=20
        ).get("Messages", [])
        answer["seconds"] = time.monotonic() - started

    poller = threading.Thread(target=poll)
    poller.start()
    time.sleep(0.3)  # the poll is waiting; other calls are served meanwhile (threaded server)
    fargate_service(ecs, "apps", "web", definition, 1)
    poller.join(timeout=15)
    assert not poller.is_alive(), "ReceiveMessage returned before its 20 s WaitTimeSeconds"
    assert answer["messages"], "the long poll returned the event"
    assert json.loads(answer["messages"][0]["Body"])["source"] == "aws.ecs"


def sqs_query(sandbox: Sandbox, params: dict[str, str]) -> ElementTree.Element:
    """An SQS call in the query protocol, as botocore releases before SQS's JSON protocol send it."""
    body = urllib.parse.urlencode({**params, "Version": "2012-11-05"})
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    request = AWSRequest(method="POST", url=sandbox.endpoint_url + "/", data=body, headers=headers)
    SigV4Auth(Credentials("testing", "testing"), "sqs", "us-east-1").add_auth(request)
    prepared = request.prepare()
    http = urllib.request.Request(
        prepared.url, data=body.encode(), headers=dict(prepared.headers), method="POST"
    )
    with urllib.request.urlopen(http, timeout=10) as answer:
        return ElementTree.fromstring(answer.read())


@pytest.mark.sandbox(speed=50, throttling=False)
def test_events_reach_clients_that_speak_the_sqs_query_protocol(
    sandbox: Sandbox, subscription: Subscription
) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    fargate_service(ecs, "apps", "web", fargate_definition(ecs, "web", "web:1"), 1)
    answer = sqs_query(
        sandbox,
        {"Action": "ReceiveMessage", "QueueUrl": subscription.url, "WaitTimeSeconds": "10"},
    )
    namespace = {"sqs": "http://queue.amazonaws.com/doc/2012-11-05/"}
    message = answer.find("sqs:ReceiveMessageResult/sqs:Message", namespace)
    assert message is not None
    event = json.loads(message.findtext("sqs:Body", namespaces=namespace) or "")
    assert event["detail"]["eventName"] == "SERVICE_DEPLOYMENT_IN_PROGRESS"
    handle = message.findtext("sqs:ReceiptHandle", namespaces=namespace) or ""
    sqs_query(sandbox, {"Action": "DeleteMessage", "QueueUrl": subscription.url, "ReceiptHandle": handle})
