"""CloudFormation stacks whose resources are the ones ECS, ELBv2 and Cloud Map serve, through boto3."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_cloudformation_support import (
    ECS_ENVIRONMENT,
    events,
    outputs,
    physical_ids,
    remaining,
    settle,
)
from .test_ecs_support import fargate_definition


def create_environment(sandbox: Sandbox, name: str, **extra: object) -> str:
    cfn = sandbox.client("cloudformation")
    return cfn.create_stack(
        StackName=name, TemplateBody=ECS_ENVIRONMENT, Capabilities=["CAPABILITY_IAM"], **extra
    )["StackId"]


def test_stack_creates_an_ecs_environment_that_ecs_and_elbv2_use(sandbox: Sandbox) -> None:
    cfn = sandbox.client("cloudformation")
    stack_id = create_environment(
        sandbox,
        "web-env",
        Parameters=[{"ParameterKey": "DbPassword", "ParameterValue": "s3cret"}],
        Tags=[{"Key": "team", "Value": "payments"}],
        RoleARN="arn:aws:iam::123456789012:role/cfn-deployer",
    )
    assert stack_id.startswith("arn:aws:cloudformation:us-east-1:123456789012:stack/web-env/")
    assert cfn.describe_stacks(StackName="web-env")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
    cfn.get_waiter("stack_create_complete").wait(StackName="web-env", WaiterConfig={"Delay": 1})

    stack = cfn.describe_stacks(StackName="web-env")["Stacks"][0]
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack["RoleARN"] == "arn:aws:iam::123456789012:role/cfn-deployer"
    assert stack["Capabilities"] == ["CAPABILITY_IAM"]
    assert {"ParameterKey": "DbPassword", "ParameterValue": "****"} in stack["Parameters"]
    assert {"ParameterKey": "Env", "ParameterValue": "dev"} in stack["Parameters"]
    out = outputs(stack)
    assert out["ClusterName"] == "web-env-dev"

    # the stack's listener is the ELBv2 emulation's: it forwards to the stack's two target groups
    elb = sandbox.client("elbv2")
    listeners = elb.describe_listeners(LoadBalancerArn=out["LoadBalancerArn"])["Listeners"]
    assert [listener["ListenerArn"] for listener in listeners] == [out["ListenerArn"]]
    assert listeners[0]["Port"] == 80
    forward = listeners[0]["DefaultActions"][0]["ForwardConfig"]["TargetGroups"]
    assert {(g["TargetGroupArn"], g["Weight"]) for g in forward} == {
        (out["BlueTargetGroup"], 100),
        (out["GreenTargetGroup"], 0),
    }
    blue = elb.describe_target_groups(TargetGroupArns=[out["BlueTargetGroup"]])["TargetGroups"][0]
    assert blue["HealthCheckPath"] == "/health"
    assert blue["LoadBalancerArns"] == [out["LoadBalancerArn"]]
    tags = elb.describe_tags(ResourceArns=[out["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    assert {"Key": "team", "Value": "payments"} in tags
    assert {"Key": "aws:cloudformation:logical-id", "Value": "LoadBalancer"} in tags

    # ECS CreateService on the stack's cluster, subnets, security group and target group
    ecs = sandbox.client("ecs")
    definition = fargate_definition(ecs, "web", "web:1.0")
    ecs.create_service(
        cluster=out["ClusterName"],
        serviceName="web",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": out["Subnets"].split(","),
                "securityGroups": [out["SecurityGroup"]],
            }
        },
        loadBalancers=[
            {"targetGroupArn": out["BlueTargetGroup"], "containerName": "app", "containerPort": 80}
        ],
    )

    def registered() -> list[dict[str, object]]:
        return elb.describe_target_health(TargetGroupArn=out["BlueTargetGroup"])["TargetHealthDescriptions"]

    assert wait_until(registered, message="the service's task in the stack's target group")
    service = ecs.describe_services(cluster=out["ClusterArn"], services=["web"])["services"][0]
    assert service["loadBalancers"][0]["targetGroupArn"] == out["BlueTargetGroup"]

    # the other resources are in their services too
    assert sandbox.client("iam").get_role(RoleName=out["ExecutionRoleArn"].rsplit("/", 1)[1])
    groups = sandbox.client("logs").describe_log_groups(logGroupNamePrefix=out["LogGroup"])["logGroups"]
    assert [(g["logGroupName"], g["retentionInDays"]) for g in groups] == [(out["LogGroup"], 7)]
    discovery = sandbox.client("servicediscovery")
    namespaces = discovery.list_namespaces()["Namespaces"]
    assert [n["Name"] for n in namespaces] == ["web-env.local"]
    assert discovery.list_services()["Services"][0]["Arn"] == out["DiscoveryArn"]
    vpc_id = physical_ids(cfn, stack_id)["Vpc"][1]
    vpc = sandbox.client("ec2").describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]
    assert vpc["CidrBlock"] == "10.20.0.0/16"


def test_events_resources_and_template_read_as_cloudformation_reports_them(sandbox: Sandbox) -> None:
    cfn = sandbox.client("cloudformation")
    stack_id = create_environment(sandbox, "evented")
    settle(cfn, stack_id)
    history = events(cfn, stack_id)
    assert history[0] == ("evented", "CREATE_IN_PROGRESS", "User Initiated")
    assert history[-1] == ("evented", "CREATE_COMPLETE", None)
    vpc = [(status, reason) for logical, status, reason in history if logical == "Vpc"]
    assert vpc == [
        ("CREATE_IN_PROGRESS", None),
        ("CREATE_IN_PROGRESS", "Resource creation Initiated"),
        ("CREATE_COMPLETE", None),
    ]
    order = [logical for logical, status, _ in history if status == "CREATE_COMPLETE"]
    # a resource starts only after what it refers to (Ref, GetAtt, DependsOn) is complete
    started = [
        logical for logical, status, reason in history if status == "CREATE_IN_PROGRESS" and reason is None
    ]
    assert started.index("Listener") > order.index("LoadBalancer")
    assert started.index("Listener") > order.index("Green")
    assert started.index("DefaultRoute") > order.index("GatewayAttachment")
    assert started.index("SubnetA") > order.index("Vpc")

    listed = cfn.list_stack_resources(StackName="evented")["StackResourceSummaries"]
    assert len(listed) == 19
    assert {r["ResourceStatus"] for r in listed} == {"CREATE_COMPLETE"}
    described = cfn.describe_stack_resources(StackName="evented", LogicalResourceId="Cluster")[
        "StackResources"
    ]
    assert [(r["ResourceType"], r["PhysicalResourceId"]) for r in described] == [
        ("AWS::ECS::Cluster", "evented-dev")
    ]
    by_physical = cfn.describe_stack_resources(PhysicalResourceId="evented-dev")["StackResources"]
    assert {r["StackName"] for r in by_physical} == {"evented"}
    detail = cfn.describe_stack_resource(StackName="evented", LogicalResourceId="Blue")["StackResourceDetail"]
    assert detail["PhysicalResourceId"].startswith("arn:aws:elasticloadbalancing:")
    assert cfn.get_template(StackName="evented")["TemplateBody"] == ECS_ENVIRONMENT
    # the sandbox's call log shows the calls CloudFormation made for the stack
    made = [c["operation"] for c in sandbox.admin.calls() if c["via"] == "cloudformation"]
    assert {"CreateVpc", "CreateLoadBalancer", "CreateListener", "CreateCluster", "CreateRole"} <= set(made)


def test_delete_stack_removes_every_resource_from_the_backends(sandbox: Sandbox) -> None:
    cfn = sandbox.client("cloudformation")
    stack_id = create_environment(sandbox, "short-lived")
    settle(cfn, stack_id)
    made = physical_ids(cfn, stack_id)
    assert len(remaining(sandbox, made)) == 15

    cfn.delete_stack(StackName="short-lived")
    cfn.get_waiter("stack_delete_complete").wait(StackName="short-lived", WaiterConfig={"Delay": 1})
    assert remaining(sandbox, made) == []
    deleted = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    assert deleted["StackStatus"] == "DELETE_COMPLETE"
    assert "DeletionTime" in deleted
    with pytest.raises(ClientError) as error:
        cfn.describe_stacks(StackName="short-lived")
    assert error.value.response["Error"]["Message"] == "Stack with id short-lived does not exist"
    history = events(cfn, stack_id)
    assert ("short-lived", "DELETE_IN_PROGRESS", "User Initiated") in history
    deletions = [logical for logical, status, _ in history if status == "DELETE_COMPLETE"]
    # reverse dependency order: the listener before its load balancer, subnets before the VPC
    assert deletions.index("Listener") < deletions.index("LoadBalancer")
    assert deletions.index("SubnetA") < deletions.index("Vpc")
    assert cfn.list_stacks(StackStatusFilter=["DELETE_COMPLETE"])["StackSummaries"][0]["StackId"] == stack_id
    assert cfn.describe_stacks()["Stacks"] == []
    cfn.delete_stack(StackName="short-lived")  # deleting what is gone succeeds, as on AWS
    # the name is free again
    again = create_environment(sandbox, "short-lived")
    assert again != stack_id
    assert settle(cfn, again)["StackStatus"] == "CREATE_COMPLETE"


def test_deletion_stops_at_a_resource_in_use_and_retains_on_request(sandbox: Sandbox) -> None:
    cfn = sandbox.client("cloudformation")
    stack_id = create_environment(sandbox, "in-use")
    out = outputs(settle(cfn, stack_id))
    ecs = sandbox.client("ecs")
    definition = fargate_definition(ecs, "api", "api:1.0")
    ecs.create_service(
        cluster=out["ClusterName"],
        serviceName="api",
        taskDefinition=definition,
        desiredCount=0,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": out["Subnets"].split(",")}},
    )
    cfn.delete_stack(StackName="in-use")
    stack = settle(cfn, stack_id)
    assert stack["StackStatus"] == "DELETE_FAILED"
    assert stack["StackStatusReason"] == "The following resource(s) failed to delete: [Cluster]. "
    reason = next(
        r
        for logical, status, r in events(cfn, stack_id)
        if logical == "Cluster" and status == "DELETE_FAILED"
    )
    assert "The Cluster cannot be deleted while Services are active." in reason

    with pytest.raises(ClientError, match="can not be rolled back"):
        cfn.rollback_stack(StackName="in-use")  # only a CREATE_FAILED stack rolls back
    cfn.delete_stack(StackName="in-use", RetainResources=["Cluster"])
    assert settle(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    assert ecs.describe_clusters(clusters=[out["ClusterName"]])["clusters"][0]["status"] == "ACTIVE"
    assert [logical for logical, status, _ in events(cfn, stack_id) if status == "DELETE_SKIPPED"] == [
        "Cluster"
    ]


def test_stacks_survive_a_restart_with_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.state"
    with Sandbox(speed=50, state_file=state) as first:
        cfn = first.client("cloudformation")
        stack_id = cfn.create_stack(
            StackName="kept-env",
            TemplateBody="Resources:\n  Cluster: {Type: AWS::ECS::Cluster, Properties: {ClusterName: kept}}\n",
        )["StackId"]
        assert settle(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    with Sandbox(speed=50, state_file=state) as second:
        cfn = second.client("cloudformation")
        assert cfn.describe_stacks(StackName="kept-env")["Stacks"][0]["StackId"] == stack_id
        cfn.delete_stack(StackName="kept-env")
        assert settle(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
        assert (
            second.client("ecs").describe_clusters(clusters=["kept"])["clusters"][0]["status"] == "INACTIVE"
        )


# the test moves the clock (advance), which hardly moves on its own: the stack is caught half
# made however slow the machine
@pytest.mark.sandbox(speed=0.01)
def test_delete_stack_while_it_is_being_created_removes_what_was_made(sandbox: Sandbox) -> None:
    cfn = sandbox.client("cloudformation")
    sandbox.client("ec2").describe_vpcs()  # moto's first EC2 and IAM calls are slow: not inside advance()
    sandbox.client("iam").list_roles()
    stack_id = create_environment(sandbox, "hasty")
    sandbox.admin.advance(1.5)  # the first resources are being created
    sandbox.admin.advance(1.5)  # ... and are complete, the next ones being created
    history = events(cfn, stack_id)
    assert ("Vpc", "CREATE_COMPLETE", None) in history
    assert ("SubnetA", "CREATE_IN_PROGRESS", "Resource creation Initiated") in history
    assert cfn.describe_stacks(StackName="hasty")["Stacks"][0]["StackStatus"] == "CREATE_IN_PROGRESS"
    cfn.delete_stack(StackName="hasty")
    for _ in range(30):
        if cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE":
            break
        sandbox.admin.advance(1.5)
    assert settle(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    made = physical_ids(cfn, stack_id)
    assert "SubnetA" in made and "Listener" not in made
    assert remaining(sandbox, made) == []


def test_termination_protection_and_deletion_policies(sandbox: Sandbox) -> None:
    body = """
Resources:
  Kept:
    Type: AWS::Logs::LogGroup
    DeletionPolicy: Retain
    Properties: {LogGroupName: corral-cfn-kept}
  Gone:
    Type: AWS::Logs::LogGroup
    Properties: {LogGroupName: corral-cfn-gone}
"""
    cfn = sandbox.client("cloudformation")
    stack_id = cfn.create_stack(StackName="guarded", TemplateBody=body, EnableTerminationProtection=True)[
        "StackId"
    ]
    settle(cfn, stack_id)
    with pytest.raises(ClientError, match="cannot be deleted while TerminationProtection is enabled"):
        cfn.delete_stack(StackName="guarded")
    cfn.update_termination_protection(StackName="guarded", EnableTerminationProtection=False)
    cfn.delete_stack(StackName="guarded")
    assert settle(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    logs = sandbox.client("logs")
    names = {
        g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="corral-cfn-")["logGroups"]
    }
    assert names == {"corral-cfn-kept"}
    assert ("Kept", "DELETE_SKIPPED", None) in events(cfn, stack_id)
    logs.delete_log_group(logGroupName="corral-cfn-kept")  # moto's state outlives this sandbox


def test_a_request_retried_with_its_client_request_token_is_recognised(sandbox: Sandbox) -> None:
    body = "Resources:\n  Logs: {Type: AWS::Logs::LogGroup, Properties: {RetentionInDays: 7}}\n"
    cfn = sandbox.client("cloudformation")
    stack_id = cfn.create_stack(StackName="retried", TemplateBody=body, ClientRequestToken="create-1")[
        "StackId"
    ]
    # the answer was lost and the caller asks again: the same stack, not AlreadyExistsException
    assert (
        cfn.create_stack(StackName="retried", TemplateBody=body, ClientRequestToken="create-1")["StackId"]
        == stack_id
    )
    with pytest.raises(ClientError, match="AlreadyExistsException"):
        cfn.create_stack(StackName="retried", TemplateBody=body)
    settle(cfn, stack_id)
    events_of_create = cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
    assert {e["ClientRequestToken"] for e in events_of_create} == {"create-1"}

    changed = body.replace("7", "14")
    cfn.update_stack(StackName="retried", TemplateBody=changed, ClientRequestToken="update-1")
    assert (
        cfn.update_stack(StackName="retried", TemplateBody=changed, ClientRequestToken="update-1")["StackId"]
        == stack_id
    )
    with pytest.raises(ClientError, match="TokenAlreadyExistsException"):
        cfn.update_stack(StackName="retried", TemplateBody=body, ClientRequestToken="create-1")
    wait_until(
        lambda: cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE",
        message="the update",
    )
    updates = [
        e
        for e in cfn.describe_stack_events(StackName=stack_id)["StackEvents"]
        if e["ResourceStatus"] == "UPDATE_IN_PROGRESS"
    ]
    assert len([e for e in updates if e["LogicalResourceId"] == "retried"]) == 1, "one update, not two"
