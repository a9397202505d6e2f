"""`corral connector ecs-events`: the queue and rules of a Region's ECS events, made idempotently."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from .helpers import corral, write_project
from .test_cli import AWS


def receive_until(
    sqs: Any, url: str, done: Callable[[list[dict[str, Any]]], bool], *, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """The queue's events until `done(events)` holds (or the timeout)."""
    events: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not done(events):
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            events.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return events


DEPLOYMENT, TASK = "ECS Deployment State Change", "ECS Task State Change"
COMPLETED = "SERVICE_DEPLOYMENT_COMPLETED"


@pytest.mark.sandbox(speed=50)
def test_ecs_events_makes_one_queue_and_two_rules_that_carry_ecs_events(
    tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CORRAL_TEST_KEY", "test")
    write_project(tmp_path, {"aws.yaml": AWS.format(endpoint=sandbox.endpoint_url), "secret.txt": "test\n"})
    first = corral("connector", "ecs-events", "sandbox", "--project", str(tmp_path))
    again = corral("connector", "ecs-events", "sandbox", "--project", str(tmp_path))
    assert first.exit_code == 0 and again.exit_code == 0, first.output + again.output
    assert first.output == again.output, "a second run changes nothing"
    url = first.output.splitlines()[0].removeprefix("queue: ")
    assert f"  ecsEventQueues:\n    us-east-1: {url}\n" in first.output

    sqs, events = sandbox.client("sqs"), sandbox.client("events")
    assert [q for q in sqs.list_queues().get("QueueUrls", []) if q.endswith("/corral-ecs-events")] == [url]
    for rule in ("corral-ecs-events-services", "corral-ecs-events-stopped-tasks"):
        assert len(events.list_targets_by_rule(Rule=rule)["Targets"]) == 1

    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="ev", tags=[{"key": "corral:sandbox:containerInstances", "value": "1"}])
    arn = ecs.register_task_definition(
        family="ev", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 32, "essential": True}]
    )["taskDefinition"]["taskDefinitionArn"]
    ecs.create_service(cluster="ev", serviceName="ev", taskDefinition=arn, desiredCount=1, launchType="EC2")
    got = receive_until(sqs, url, lambda seen: any(e["detail"].get("eventName") == COMPLETED for e in seen))
    kinds = [(e["detail-type"], e["detail"].get("eventName")) for e in got]
    assert kinds[:2] == [(DEPLOYMENT, "SERVICE_DEPLOYMENT_IN_PROGRESS"), (DEPLOYMENT, COMPLETED)], kinds
    ecs.update_service(cluster="ev", service="ev", desiredCount=0)
    got += receive_until(sqs, url, lambda seen: any(e["detail-type"] == TASK for e in seen))
    tasks = [e["detail"] for e in got if e["detail-type"] == TASK]
    assert tasks and {t["lastStatus"] for t in tasks} == {"STOPPED"}, "only stops of service tasks are sent"
    assert {t["group"] for t in tasks} == {"service:ev"}


def test_ecs_events_needs_an_aws_connector(tmp_path: Path) -> None:
    write_project(tmp_path, {"corral.yaml": "project: {name: p}\n"})
    result = corral("connector", "ecs-events", "nope", "--project", str(tmp_path))
    assert result.exit_code == 2
    assert "'nope' is not an AWS connector of this project" in result.output
