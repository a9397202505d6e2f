"""Create (or bring up to date) the SQS queue and EventBridge rules that feed `corral.aws.events`.

    url = ensure_event_queue(clients, "corral-ecs-events")

Two rules on the Region's default bus send to one queue: every "ECS Deployment State Change" and
"ECS Service Action", and the "ECS Task State Change" of service tasks that STOPPED (a busy
Region starts and stops many tasks; only stops can end a wait). The queue keeps messages 5 minutes
(events are worth nothing later) and its policy lets only these rules send. Every call is
idempotent: running it again leaves one queue, two rules and one target each.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .clients import Clients

RETENTION_SECONDS = 300
SERVICE_EVENTS_PATTERN = {
    "source": ["aws.ecs"],
    "detail-type": ["ECS Deployment State Change", "ECS Service Action"],
}
STOPPED_TASKS_PATTERN = {
    "source": ["aws.ecs"],
    "detail-type": ["ECS Task State Change"],
    "detail": {"lastStatus": ["STOPPED"], "group": [{"prefix": "service:"}]},
}


@dataclass(frozen=True)
class EventQueue:
    queue_url: str
    queue_arn: str
    rule_arns: tuple[str, ...]


def ensure_event_queue(clients: Clients, name: str = "corral-ecs-events") -> EventQueue:
    """The queue `name` and its rules `name`-services and `name`-stopped-tasks, made if missing."""
    sqs, events = clients.client("sqs"), clients.client("events")
    url = sqs.create_queue(
        QueueName=name,
        Attributes={"MessageRetentionPeriod": str(RETENTION_SECONDS), "ReceiveMessageWaitTimeSeconds": "20"},
    )["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    rules = []
    for rule, pattern in (
        (f"{name}-services", SERVICE_EVENTS_PATTERN),
        (f"{name}-stopped-tasks", STOPPED_TASKS_PATTERN),
    ):
        rule_arn = events.put_rule(
            Name=rule,
            EventPattern=json.dumps(pattern),
            State="ENABLED",
            Description="ECS events for Corral's deployment steps (corral connector ecs-events)",
        )["RuleArn"]
        events.put_targets(Rule=rule, Targets=[{"Id": "corral-queue", "Arn": queue_arn}])
        rules.append(rule_arn)
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "EcsEventsFromCorralRules",
                "Effect": "Allow",
                "Principal": {"Service": "events.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": rules}},
            }
        ],
    }
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(policy)})
    return EventQueue(queue_url=url, queue_arn=queue_arn, rule_arns=tuple(rules))
