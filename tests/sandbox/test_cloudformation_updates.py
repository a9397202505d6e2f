"""UpdateStack: in-place updates and replacements, cleanup, and the update rollback, through boto3."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_cloudformation_support import ECS_ENVIRONMENT, events, outputs, physical_ids, settle

UPDATE_SETTLED = {"UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "UPDATE_ROLLBACK_FAILED", "UPDATE_FAILED"}


def settle_update(cfn: Any, stack_id: str) -> dict[str, Any]:
    def rested() -> dict[str, Any] | None:
        stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
        return stack if stack["StackStatus"] in UPDATE_SETTLED else None

    return wait_until(rested, timeout=60, message="the update to settle")


def environment(sandbox: Sandbox, name: str) -> tuple[Any, str, dict[str, str]]:
    cfn = sandbox.client("cloudformation")
    stack_id = cfn.create_stack(
        StackName=name, TemplateBody=ECS_ENVIRONMENT, Capabilities=["CAPABILITY_IAM"]
    )["StackId"]
    return cfn, stack_id, outputs(settle(cfn, stack_id))


def update(cfn: Any, name: str, **parameters: str) -> None:
    cfn.update_stack(
        StackName=name,
        UsePreviousTemplate=True,
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
    )


def cluster_status(sandbox: Sandbox, name: str) -> str:
    return sandbox.client("ecs").describe_clusters(clusters=[name])["clusters"][0]["status"]


def retention(sandbox: Sandbox, group: str) -> int:
    return sandbox.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"][0][
        "retentionInDays"
    ]


def test_an_update_changes_in_place_replaces_and_cleans_up(sandbox: Sandbox) -> None:
    cfn, stack_id, before = environment(sandbox, "grow")
    update(cfn, "grow", Env="prod", ListenerPort="8080")
    cfn.get_waiter("stack_update_complete").wait(StackName="grow", WaiterConfig={"Delay": 1})
    stack = cfn.describe_stacks(StackName="grow")["Stacks"][0]
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert "LastUpdatedTime" in stack
    after = outputs(stack)

    # in place: the same listener on the new port, the same log group with the prod retention
    assert after["ListenerArn"] == before["ListenerArn"]
    listener = sandbox.client("elbv2").describe_listeners(ListenerArns=[after["ListenerArn"]])["Listeners"][0]
    assert listener["Port"] == 8080
    assert retention(sandbox, after["LogGroup"]) == 90
    group = sandbox.client("ec2").describe_security_groups(GroupIds=[after["SecurityGroup"]])[
        "SecurityGroups"
    ][0]
    assert {p.get("FromPort") for p in group["IpPermissions"] if p.get("IpRanges")} == {8080}
    # replaced: a cluster of the new name; the old one is deleted in the cleanup phase
    assert (before["ClusterName"], after["ClusterName"]) == ("grow-dev", "grow-prod")
    assert cluster_status(sandbox, "grow-prod") == "ACTIVE"
    assert cluster_status(sandbox, "grow-dev") == "INACTIVE"

    history = events(cfn, stack_id)
    statuses = [status for logical, status, _ in history if logical == "grow"]
    assert statuses[-3:] == ["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", "UPDATE_COMPLETE"]
    cluster = [(status, reason) for logical, status, reason in history if logical == "Cluster"]
    assert (
        "UPDATE_IN_PROGRESS",
        "Requested update requires the creation of a new physical resource; hence creating one.",
    ) in cluster
    assert cluster[-1] == ("DELETE_COMPLETE", None)
    untouched = [
        logical for logical, status, _ in history if status.startswith("UPDATE") and logical == "Vpc"
    ]
    assert untouched == [], "a resource whose properties did not change is not updated"

    with pytest.raises(ClientError, match=r"No updates are to be performed\."):
        update(cfn, "grow", Env="prod", ListenerPort="8080")


def test_a_failed_update_rolls_back_every_change(sandbox: Sandbox) -> None:
    cfn, stack_id, before = environment(sandbox, "revert")
    sandbox.admin.add_fault("error", service="elasticloadbalancing", operation="ModifyListener", count=1)
    update(cfn, "revert", Env="prod", ListenerPort="8080")
    stack = settle_update(cfn, stack_id)
    assert stack["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert outputs(stack) == before
    assert {"ParameterKey": "Env", "ParameterValue": "dev"} in stack["Parameters"]
    listener = sandbox.client("elbv2").describe_listeners(ListenerArns=[before["ListenerArn"]])["Listeners"][
        0
    ]
    assert listener["Port"] == 80
    assert retention(sandbox, before["LogGroup"]) == 7
    assert cluster_status(sandbox, "revert-dev") == "ACTIVE"
    assert cluster_status(sandbox, "revert-prod") == "INACTIVE", (
        "the replacement made by the update is deleted"
    )
    history = events(cfn, stack_id)
    statuses = [status for logical, status, _ in history if logical == "revert"]
    assert statuses[-4:] == [
        "UPDATE_IN_PROGRESS",
        "UPDATE_ROLLBACK_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        "UPDATE_ROLLBACK_COMPLETE",
    ]
    reason = next(
        r for logical, status, r in history if logical == "revert" and status == "UPDATE_ROLLBACK_IN_PROGRESS"
    )
    assert reason == "The following resource(s) failed to update: [Listener]. "
    assert cfn.get_template(StackName="revert")["TemplateBody"] == ECS_ENVIRONMENT
    # the stack can be updated again after its rollback
    update(cfn, "revert", ListenerPort="8081")
    assert settle_update(cfn, stack_id)["StackStatus"] == "UPDATE_COMPLETE"


def test_an_update_adds_and_removes_resources(sandbox: Sandbox) -> None:
    cfn, stack_id, _ = environment(sandbox, "reshape")
    made = physical_ids(cfn, stack_id)
    template = ECS_ENVIRONMENT.replace(
        "  Discovery:\n    Type: AWS::ServiceDiscovery::Service",
        "  Canary:\n    Type: AWS::ElasticLoadBalancingV2::TargetGroup\n"
        "    Properties: {Port: 80, Protocol: HTTP, TargetType: ip, VpcId: !Ref Vpc}\n"
        "  Discovery:\n    Type: AWS::ServiceDiscovery::Service\n    Condition: IsProd",
    ).replace("  DiscoveryArn: {Value: !GetAtt Discovery.Arn}\n", "  CanaryArn: {Value: !Ref Canary}\n")
    cfn.update_stack(StackName="reshape", TemplateBody=template, Capabilities=["CAPABILITY_IAM"])
    stack = settle_update(cfn, stack_id)
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    canary = outputs(stack)["CanaryArn"]
    assert sandbox.client("elbv2").describe_target_groups(TargetGroupArns=[canary])["TargetGroups"]
    with pytest.raises(ClientError, match="ServiceNotFound"):
        sandbox.client("servicediscovery").get_service(Id=made["Discovery"][1])
    listed = {
        r["LogicalResourceId"]
        for r in cfn.list_stack_resources(StackName="reshape")["StackResourceSummaries"]
    }
    assert "Canary" in listed and "Discovery" not in listed


def test_a_custom_named_resource_is_not_replaced_and_update_failed_waits_for_rollback(
    sandbox: Sandbox,
) -> None:
    cfn = sandbox.client("cloudformation")
    body = "Resources:\n  Cluster:\n    Type: AWS::ECS::Cluster\n    Properties: {ClusterName: fixed-name}\n"
    stack_id = cfn.create_stack(StackName="named", TemplateBody=body)["StackId"]
    settle(cfn, stack_id)
    changed = body.replace(
        "{ClusterName: fixed-name}", "{ClusterName: fixed-name, CapacityProviders: [FARGATE]}"
    )
    cfn.update_stack(StackName="named", TemplateBody=changed, DisableRollback=True)
    stack = settle_update(cfn, stack_id)
    assert stack["StackStatus"] == "UPDATE_FAILED"
    reason = next(
        r
        for logical, status, r in events(cfn, stack_id)
        if logical == "Cluster" and status == "UPDATE_FAILED"
    )
    assert reason == (
        "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
        "Rename fixed-name and update the stack again."
    )
    cfn.rollback_stack(StackName="named")
    assert settle_update(cfn, stack_id)["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert cluster_status(sandbox, "fixed-name") == "ACTIVE"


def test_a_failed_revert_stops_in_update_rollback_failed_until_continued(sandbox: Sandbox) -> None:
    cfn, stack_id, before = environment(sandbox, "stubborn")
    # the listener's update fails, and so does the first attempt to put it back
    sandbox.admin.add_fault("error", service="elasticloadbalancing", operation="ModifyListener", count=2)
    update(cfn, "stubborn", ListenerPort="8080")
    stuck = settle_update(cfn, stack_id)
    assert stuck["StackStatus"] == "UPDATE_ROLLBACK_FAILED"
    assert stuck["StackStatusReason"] == "The following resource(s) failed to update: [Listener]. "
    with pytest.raises(ClientError, match="can not be updated"):
        update(cfn, "stubborn", ListenerPort="8081")

    cfn.continue_update_rollback(StackName="stubborn")
    done = settle_update(cfn, stack_id)
    assert done["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    group = sandbox.client("ec2").describe_security_groups(GroupIds=[before["SecurityGroup"]])[
        "SecurityGroups"
    ][0]
    open_ports = {p.get("FromPort") for p in group["IpPermissions"] if p.get("IpRanges")}
    assert open_ports == {80}, "the security group's change is undone"
    listener = sandbox.client("elbv2").describe_listeners(ListenerArns=[before["ListenerArn"]])["Listeners"][
        0
    ]
    assert listener["Port"] == 80
