"""Templates as CloudFormation reads them: JSON and YAML, parameters, conditions, capabilities, outputs, exports."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .test_cloudformation_support import ECS_ENVIRONMENT, events, outputs, settle

ROLE = """
Resources:
  TaskRole:
    Type: AWS::IAM::Role
    Properties:
      {name}
      AssumeRolePolicyDocument:
        Version: "2012-10-17"
        Statement: [{{Effect: Allow, Principal: {{Service: ecs-tasks.amazonaws.com}}, Action: "sts:AssumeRole"}}]
      ManagedPolicyArns: [arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy]
      Policies:
        - PolicyName: logs
          PolicyDocument:
            Version: "2012-10-17"
            Statement: [{{Effect: Allow, Action: "logs:*", Resource: "*"}}]
Outputs:
  Arn: {{Value: !GetAtt TaskRole.Arn}}
"""


def error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return exc.value.response["Error"]["Code"], exc.value.response["Error"]["Message"]


def test_iam_resources_need_the_capability_cloudformation_asks_for(sandbox: Sandbox) -> None:
    cfn = sandbox.client("cloudformation")
    unnamed, named = ROLE.format(name=""), ROLE.format(name="RoleName: corral-cfn-task-role")
    with pytest.raises(ClientError) as refused:
        cfn.create_stack(StackName="roles", TemplateBody=unnamed)
    assert error(refused) == ("InsufficientCapabilitiesException", "Requires capabilities : [CAPABILITY_IAM]")
    with pytest.raises(ClientError) as refused:
        cfn.create_stack(StackName="roles", TemplateBody=named, Capabilities=["CAPABILITY_IAM"])
    assert error(refused) == (
        "InsufficientCapabilitiesException",
        "Requires capabilities : [CAPABILITY_NAMED_IAM]",
    )
    assert cfn.describe_stacks()["Stacks"] == [], "a refused stack is not created"

    checked = cfn.validate_template(TemplateBody=named)
    assert checked["Capabilities"] == ["CAPABILITY_NAMED_IAM"]
    assert checked["CapabilitiesReason"] == "The following resource(s) require capabilities: [AWS::IAM::Role]"

    stack_id = cfn.create_stack(StackName="roles", TemplateBody=named, Capabilities=["CAPABILITY_NAMED_IAM"])[
        "StackId"
    ]
    out = outputs(settle(cfn, stack_id))
    assert out["Arn"] == "arn:aws:iam::123456789012:role/corral-cfn-task-role"
    iam = sandbox.client("iam")
    assert iam.list_role_policies(RoleName="corral-cfn-task-role")["PolicyNames"] == ["logs"]
    attached = iam.list_attached_role_policies(RoleName="corral-cfn-task-role")["AttachedPolicies"]
    assert [p["PolicyArn"] for p in attached] == [
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"
    ]
    cfn.delete_stack(StackName="roles")
    assert settle(cfn, stack_id)["StackStatus"] == "DELETE_COMPLETE"
    with pytest.raises(ClientError, match="NoSuchEntity"):
        iam.get_role(RoleName="corral-cfn-task-role")


def test_outputs_exports_and_imports_across_stacks(sandbox: Sandbox) -> None:
    cfn = sandbox.client("cloudformation")
    network = settle(
        cfn,
        cfn.create_stack(StackName="shared", TemplateBody=ECS_ENVIRONMENT, Capabilities=["CAPABILITY_IAM"])[
            "StackId"
        ],
    )
    assert network["StackStatus"] == "CREATE_COMPLETE"
    cluster_output = next(o for o in network["Outputs"] if o["OutputKey"] == "ClusterName")
    assert cluster_output == {
        "OutputKey": "ClusterName",
        "OutputValue": "shared-dev",
        "ExportName": "shared-cluster",
    }
    exports = cfn.list_exports()["Exports"]
    assert {
        "ExportingStackId": network["StackId"],
        "Name": "shared-cluster",
        "Value": "shared-dev",
    } in exports

    consumer = """
Resources:
  Logs:
    Type: AWS::Logs::LogGroup
    Properties:
      LogGroupName: !Sub
        - "/ecs/${Cluster}/web"
        - Cluster: !ImportValue shared-cluster
Outputs:
  Group: {Value: !Ref Logs}
"""
    consumer_id = cfn.create_stack(StackName="consumer", TemplateBody=consumer)["StackId"]
    assert outputs(settle(cfn, consumer_id)) == {"Group": "/ecs/shared-dev/web"}
    assert cfn.list_imports(ExportName="shared-cluster")["Imports"] == ["consumer"]

    # an export in use cannot go away
    cfn.delete_stack(StackName="shared")
    refused = settle(cfn, network["StackId"])
    assert refused["StackStatus"] == "DELETE_FAILED"
    assert (
        refused["StackStatusReason"] == "Export shared-cluster cannot be deleted as it is in use by consumer"
    )

    # a second stack exporting the same name fails and rolls back
    duplicate = cfn.create_stack(
        StackName="duplicate",
        TemplateBody="""
Resources:
  Logs: {Type: AWS::Logs::LogGroup}
Outputs:
  Name: {Value: !Ref Logs, Export: {Name: shared-cluster}}
""",
    )["StackId"]
    assert settle(cfn, duplicate)["StackStatus"] == "ROLLBACK_COMPLETE"
    assert any(
        status == "ROLLBACK_IN_PROGRESS"
        and "Export with name shared-cluster is already exported by stack shared" in r
        for _, status, r in events(cfn, duplicate)
    )

    cfn.delete_stack(StackName="consumer")
    assert settle(cfn, consumer_id)["StackStatus"] == "DELETE_COMPLETE"
    cfn.delete_stack(StackName="shared")
    assert settle(cfn, network["StackId"])["StackStatus"] == "DELETE_COMPLETE"
    assert cfn.list_exports()["Exports"] == []


def test_json_template_parameters_and_conditions(sandbox: Sandbox) -> None:
    template = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Parameters": {
            "Env": {"Type": "String", "AllowedValues": ["dev", "prod"]},
            "Retention": {"Type": "Number", "Default": 14, "MinValue": 1},
            "Names": {"Type": "CommaDelimitedList", "Default": "a,b"},
        },
        "Mappings": {"Sizes": {"dev": {"Days": 3}, "prod": {"Days": 30}}},
        "Conditions": {
            "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
            "NotProd": {"Fn::Not": [{"Condition": "IsProd"}]},
        },
        "Resources": {
            "ProdCluster": {"Type": "AWS::ECS::Cluster", "Condition": "IsProd"},
            "Logs": {
                "Type": "AWS::Logs::LogGroup",
                "Properties": {
                    "LogGroupName": {
                        "Fn::Join": ["-", [{"Ref": "AWS::StackName"}, {"Fn::Select": [1, {"Ref": "Names"}]}]]
                    },
                    "RetentionInDays": {"Fn::FindInMap": ["Sizes", {"Ref": "Env"}, "Days"]},
                },
            },
        },
        "Outputs": {
            "Group": {"Value": {"Ref": "Logs"}},
            "Cluster": {"Condition": "IsProd", "Value": {"Ref": "ProdCluster"}},
            "Kind": {"Value": {"Fn::If": ["NotProd", "small", "large"]}},
        },
    }
    body = json.dumps(template)
    cfn = sandbox.client("cloudformation")
    with pytest.raises(ClientError) as missing:
        cfn.create_stack(StackName="params", TemplateBody=body)
    assert error(missing) == ("ValidationError", "Parameters: [Env] must have values")
    with pytest.raises(ClientError) as bad:
        cfn.create_stack(
            StackName="params",
            TemplateBody=body,
            Parameters=[{"ParameterKey": "Env", "ParameterValue": "qa"}],
        )
    assert error(bad) == ("ValidationError", "Parameter 'Env' must be one of AllowedValues")
    with pytest.raises(ClientError) as unknown:
        cfn.create_stack(
            StackName="params",
            TemplateBody=body,
            Parameters=[
                {"ParameterKey": "Env", "ParameterValue": "dev"},
                {"ParameterKey": "Nope", "ParameterValue": "x"},
            ],
        )
    assert error(unknown) == ("ValidationError", "Parameters: [Nope] do not exist in the template")

    stack_id = cfn.create_stack(
        StackName="params", TemplateBody=body, Parameters=[{"ParameterKey": "Env", "ParameterValue": "dev"}]
    )["StackId"]
    stack = settle(cfn, stack_id)
    assert outputs(stack) == {"Group": "params-b", "Kind": "small"}
    assert [
        r["LogicalResourceId"] for r in cfn.list_stack_resources(StackName="params")["StackResourceSummaries"]
    ] == ["Logs"], "a resource whose condition is false is not created"
    groups = sandbox.client("logs").describe_log_groups(logGroupNamePrefix="params-b")["logGroups"]
    assert [g["retentionInDays"] for g in groups] == [3]
    assert sandbox.client("ecs").list_clusters()["clusterArns"] == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("Resources: [unclosed", "Template format error: YAML not well-formed."),
        ('{"Resources": ', "Template format error: JSON not well-formed."),
        ("Description: nothing", "Template format error: At least one Resources member must be defined."),
        (
            "Resources:\n  A: {Properties: {}}",
            "Template format error: [/Resources/A] Every Resources object must contain a Type member.",
        ),
        (
            "Resources:\n  A: {Type: Not::A::Type!}",
            "Template format error: Unrecognized resource types: [Not::A::Type!]",
        ),
        (
            "Resources:\n  A: {Type: AWS::ECS::Cluster, Properties: {ClusterName: !Ref Missing}}",
            "Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template",
        ),
        (
            "Resources:\n  A: {Type: AWS::Logs::LogGroup, Properties: {LogGroupName: !GetAtt B.Nope}}\n  B: {Type: AWS::ECS::Cluster}",
            "Template error: resource B does not support attribute type Nope in Fn::GetAtt",
        ),
        (
            "Resources:\n  A: {Type: AWS::ECS::Cluster, DependsOn: B}\n  B: {Type: AWS::ECS::Cluster, DependsOn: A}",
            "Circular dependency between resources: [A, B]",
        ),
    ],
)
def test_a_bad_template_is_refused_before_anything_is_created(
    sandbox: Sandbox, body: str, message: str
) -> None:
    cfn = sandbox.client("cloudformation")
    for call in (
        lambda: cfn.validate_template(TemplateBody=body),
        lambda: cfn.create_stack(StackName="bad", TemplateBody=body),
    ):
        with pytest.raises(ClientError) as refused:
            call()
        code, text = error(refused)
        assert code == "ValidationError"
        assert text.startswith(message)
    assert cfn.list_stacks()["StackSummaries"] == []


def test_validate_template_reports_parameters_and_template_url_reads_s3(sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="corral-cfn-templates")
    s3.put_object(Bucket="corral-cfn-templates", Key="env/ecs.yaml", Body=ECS_ENVIRONMENT.encode())
    cfn = sandbox.client("cloudformation")
    url = "https://corral-cfn-templates.s3.amazonaws.com/env/ecs.yaml"
    checked = cfn.validate_template(TemplateURL=url)
    assert checked["Description"] == "ECS environment for blue green"
    assert {p["ParameterKey"]: (p.get("DefaultValue"), p["NoEcho"]) for p in checked["Parameters"]} == {
        "Env": ("dev", False),
        "VpcCidr": ("10.20.0.0/16", False),
        "ListenerPort": ("80", False),
        "DbPassword": ("not-shown", True),
    }
    stack_id = cfn.create_stack(StackName="from-s3", TemplateURL=url, Capabilities=["CAPABILITY_IAM"])[
        "StackId"
    ]
    assert settle(cfn, stack_id)["StackStatus"] == "CREATE_COMPLETE"
    with pytest.raises(ClientError) as exists:
        cfn.create_stack(StackName="from-s3", TemplateURL=url, Capabilities=["CAPABILITY_IAM"])
    assert error(exists) == ("AlreadyExistsException", "Stack [from-s3] already exists")
