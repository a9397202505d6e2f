"""corral.provisioners.cloudformation against the sandbox, through Corral's clients (and retries):
what the reliability matrix found (tests/reliability, strategies `provision*`)."""

from __future__ import annotations

from typing import Any

import pytest

from corral.aws.budget import RateBudget
from corral.aws.clients import AwsSettings, Clients
from corral.provisioners import cloudformation as cfn
from corral.sandbox import Sandbox

pytestmark = pytest.mark.sandbox(speed=200)

TEMPLATE = """AWSTemplateFormatVersion: '2010-09-09'
Parameters:
  Retention:
    Type: Number
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      RetentionInDays: !Ref Retention
"""
WATCH = cfn.Watch(info=lambda _: None, stopped=lambda: False, polling=cfn.StackPolling(0.02, 1.5, 0.2))


@pytest.fixture
def client(sandbox: Sandbox) -> Any:
    sandbox.app.reset()  # moto's CloudWatch Logs outlives a sandbox in this process
    settings = AwsSettings(
        region="us-east-1",
        endpoint_url=sandbox.endpoint_url,
        access_key_id="testing",
        secret_access_key="testing",
    )
    return Clients(settings, budget=RateBudget()).client("cloudformation")


def _request(retention: str, tags: list[dict[str, str]] | None = None) -> cfn.StackRequest:
    parameters = [{"ParameterKey": "Retention", "ParameterValue": retention}]
    return cfn.StackRequest("logs", TEMPLATE, parameters=parameters, tags=tags or [])


def _stacks(sandbox: Sandbox) -> list[str]:
    summaries = sandbox.client("cloudformation").list_stacks()["StackSummaries"]
    return [
        s["StackId"] for s in summaries if s["StackName"] == "logs" and s["StackStatus"] != "DELETE_COMPLETE"
    ]


def test_a_create_whose_answer_was_lost_is_retried_and_recognised(sandbox: Sandbox, client: Any) -> None:
    sandbox.admin.add_fault(kind="drop_after", service="cloudformation", operation="CreateStack", count=1)

    done = cfn.create_or_update(client, _request("7"), WATCH)

    assert done.status == "CREATE_COMPLETE"
    assert _stacks(sandbox) == [done.stack_id]  # one stack, made once


def test_an_update_whose_answer_was_lost_is_retried_and_recognised(sandbox: Sandbox, client: Any) -> None:
    cfn.create_or_update(client, _request("7"), WATCH)
    sandbox.admin.add_fault(kind="drop_after", service="cloudformation", operation="UpdateStack", count=1)

    done = cfn.create_or_update(client, _request("14"), WATCH)

    assert done.status == "UPDATE_COMPLETE"
    assert sandbox.client("logs").describe_log_groups()["logGroups"][0]["retentionInDays"] == 14


def test_rollback_stack_removes_the_tags_the_release_added(sandbox: Sandbox, client: Any) -> None:
    cfn.create_or_update(client, _request("7"), WATCH)
    before = cfn.existing_stack(client, "logs")
    cfn.create_or_update(client, _request("14", tags=[{"Key": "team", "Value": "web"}]), WATCH)

    assert cfn.restore(client, "logs", before, WATCH) == "updated"

    stack = sandbox.client("cloudformation").describe_stacks(StackName="logs")["Stacks"][0]
    assert stack.get("Tags", []) == []
    assert stack["Parameters"] == [{"ParameterKey": "Retention", "ParameterValue": "7"}]


def test_a_refused_call_is_one_line_naming_the_operation(client: Any) -> None:
    with pytest.raises(cfn.StackCallFailed) as refused:
        cfn.create_or_update(client, cfn.StackRequest("logs", "Resources: [not a mapping"), WATCH)

    assert str(refused.value).startswith("AWS CloudFormation CreateStack failed: ValidationError: ")
    assert "\n" not in str(refused.value)
