"""A resource that fails: the stack rolls back (or stops, or is deleted) as CloudFormation does."""

from __future__ import annotations

import pytest
from botocore.exceptions import WaiterError

from corral.sandbox import Sandbox

from .test_cloudformation_support import ECS_ENVIRONMENT, events, physical_ids, remaining, settle


def create(sandbox: Sandbox, name: str, body: str = ECS_ENVIRONMENT, **extra: object) -> str:
    cfn = sandbox.client("cloudformation")
    return cfn.create_stack(StackName=name, TemplateBody=body, Capabilities=["CAPABILITY_IAM"], **extra)[
        "StackId"
    ]


def test_a_failed_load_balancer_rolls_the_stack_back_and_nothing_remains(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("error", service="elasticloadbalancing", operation="CreateLoadBalancer", count=1)
    cfn = sandbox.client("cloudformation")
    stack_id = create(sandbox, "doomed")
    with pytest.raises(WaiterError, match="ROLLBACK_COMPLETE"):
        cfn.get_waiter("stack_create_complete").wait(StackName="doomed", WaiterConfig={"Delay": 1})
    stack = settle(cfn, stack_id)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "StackStatusReason" not in stack  # as in AWS's answers: the reason is on the event
    history = events(cfn, stack_id)
    assert (
        "doomed",
        "ROLLBACK_IN_PROGRESS",
        "The following resource(s) failed to create: [LoadBalancer]. Rollback requested by user.",
    ) in history
    failed = [(logical, reason) for logical, status, reason in history if status == "CREATE_FAILED"]
    assert failed[0][0] == "LoadBalancer"
    assert "Injected failure" in failed[0][1] and "Status Code: 500" in failed[0][1]
    # resources being created when it failed are cancelled, not left half made
    assert all(reason == "Resource creation cancelled" for _, reason in failed[1:])
    statuses = [status for logical, status, _ in history if logical == "doomed"]
    assert statuses == ["CREATE_IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_COMPLETE"]

    made = physical_ids(cfn, stack_id)
    assert {"Vpc", "SubnetA", "Cluster", "ExecutionRole", "Logs", "Blue", "Green"} <= set(made)
    assert remaining(sandbox, made) == [], "the rollback deletes everything the stack created"
    deleted = {logical for logical, status, _ in history if status == "DELETE_COMPLETE"}
    assert set(made) <= deleted
    calls = [c for c in sandbox.admin.calls() if c["operation"] == "CreateLoadBalancer"]
    assert [(c["outcome"], c["via"]) for c in calls] == [("InternalFailure", "cloudformation")]
    # a stack in ROLLBACK_COMPLETE can only be deleted
    cfn.delete_stack(StackName="doomed")
    assert settle(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"


def test_with_rollback_disabled_the_stack_stops_and_rollback_stack_cleans_up(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("error", service="servicediscovery", operation="CreateService", count=1)
    cfn = sandbox.client("cloudformation")
    stack_id = create(sandbox, "kept", DisableRollback=True)
    stack = settle(cfn, stack_id)
    assert stack["StackStatus"] == "CREATE_FAILED"
    assert stack["DisableRollback"] is True
    assert stack["StackStatusReason"] == "The following resource(s) failed to create: [Discovery]. "
    made = physical_ids(cfn, stack_id)
    assert "Discovery" not in made
    assert remaining(sandbox, made) != [], "what was created stays for inspection"

    assert cfn.rollback_stack(StackName="kept")["StackId"] == stack_id
    assert settle(cfn, stack_id)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert remaining(sandbox, made) == []


def test_on_failure_delete_deletes_the_stack(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("throttle", service="ecs", operation="CreateCluster", count=5)
    cfn = sandbox.client("cloudformation")
    stack_id = create(sandbox, "gone", OnFailure="DELETE")
    stack = settle(cfn, stack_id)
    assert stack["StackStatus"] == "DELETE_COMPLETE"
    history = events(cfn, stack_id)
    assert (
        "gone",
        "DELETE_IN_PROGRESS",
        "The following resource(s) failed to create: [Cluster]. Delete requested by user.",
    ) in history
    reason = next(r for logical, status, r in history if logical == "Cluster" and status == "CREATE_FAILED")
    assert "Rate exceeded" in reason and "HandlerErrorCode: Throttling" in reason
    throttled = [c for c in sandbox.admin.calls() if c["operation"] == "CreateCluster"]
    assert [c["outcome"] for c in throttled] == ["ThrottlingException"] * 5, "retried, then failed"
    assert remaining(sandbox, physical_ids(cfn, stack_id)) == []


def test_a_short_throttle_storm_is_retried_through(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault(
        "throttle", service="elasticloadbalancing", operation="CreateLoadBalancer", count=3
    )
    cfn = sandbox.client("cloudformation")
    stack_id = create(sandbox, "patient")
    assert settle(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    outcomes = [c["outcome"] for c in sandbox.admin.calls() if c["operation"] == "CreateLoadBalancer"]
    assert outcomes == ["ThrottlingException"] * 3 + ["ok"]


def test_an_unsupported_resource_type_fails_the_stack_naming_the_type(sandbox: Sandbox) -> None:
    body = """
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
  Queue:
    Type: AWS::SQS::Queue
    DependsOn: Logs
"""
    cfn = sandbox.client("cloudformation")
    stack_id = create(sandbox, "unsupported", body)
    stack = settle(cfn, stack_id)
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = next(r for logical, status, r in events(cfn, stack_id) if status == "CREATE_FAILED")
    assert "AWS::SQS::Queue is not supported by the Corral sandbox" in reason
    assert remaining(sandbox, physical_ids(cfn, stack_id)) == []


def test_a_missing_required_property_fails_the_resource_as_the_schema_check_does(sandbox: Sandbox) -> None:
    cfn = sandbox.client("cloudformation")
    stack_id = create(sandbox, "incomplete", "Resources:\n  Routes: {Type: AWS::EC2::RouteTable}\n")
    assert settle(cfn, stack_id)["StackStatus"] == "ROLLBACK_COMPLETE"
    reason = next(r for logical, status, r in events(cfn, stack_id) if status == "CREATE_FAILED")
    assert (
        reason
        == "Properties validation failed for resource Routes with message: #: required key [VpcId] not found"
    )


def test_a_failing_deletion_during_rollback_leaves_rollback_failed(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("error", service="elasticloadbalancing", operation="CreateListener", count=1)
    sandbox.admin.add_fault("error", service="elasticloadbalancing", operation="DeleteLoadBalancer", count=1)
    cfn = sandbox.client("cloudformation")
    stack_id = create(sandbox, "stuck")
    stack = settle(cfn, stack_id)
    assert stack["StackStatus"] == "ROLLBACK_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to delete: [LoadBalancer]. "
    made = physical_ids(cfn, stack_id)
    left = remaining(sandbox, made)
    # what the load balancer depends on stays; everything else went
    assert "LoadBalancer" in left and "Vpc" in left and "Cluster" not in left
    cfn.delete_stack(StackName="stuck")  # the fault is spent: deleting again finishes the job
    assert settle(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert remaining(sandbox, made) == []
