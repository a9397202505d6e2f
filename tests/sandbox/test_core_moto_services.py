"""The services the sandbox serves through moto answer unmodified boto3 on the same endpoint."""

from __future__ import annotations

import json

from corral.sandbox import Sandbox


def test_sts_ec2_iam_answer_on_the_sandbox_endpoint(sandbox: Sandbox) -> None:
    assert sandbox.client("sts").get_caller_identity()["Account"] == "123456789012"
    vpcs = sandbox.client("ec2").describe_vpcs()["Vpcs"]
    assert any(v["IsDefault"] for v in vpcs), "moto's default VPC is what ECS networking examples use"
    role = sandbox.client("iam").create_role(
        RoleName="ecsTaskExecutionRole",
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]
    assert role["Arn"] == "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


def test_s3_objects_round_trip(sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="manifests")
    s3.put_object(Bucket="manifests", Key="ecs/task.json", Body=b'{"family": "web"}')
    body = s3.get_object(Bucket="manifests", Key="ecs/task.json")["Body"].read()
    assert json.loads(body) == {"family": "web"}


def test_ecr_logs_secrets_ssm_cloudwatch(sandbox: Sandbox) -> None:
    repo = sandbox.client("ecr").create_repository(repositoryName="web")["repository"]
    assert repo["repositoryUri"] == "123456789012.dkr.ecr.us-east-1.amazonaws.com/web"
    sandbox.client("logs").create_log_group(logGroupName="/ecs/web")
    groups = sandbox.client("logs").describe_log_groups()["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/ecs/web"]
    arn = sandbox.client("secretsmanager").create_secret(Name="db", SecretString="s3cr3t")["ARN"]
    assert sandbox.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"] == "s3cr3t"
    sandbox.client("ssm").put_parameter(Name="/web/port", Value="8080", Type="String")
    assert sandbox.client("ssm").get_parameter(Name="/web/port")["Parameter"]["Value"] == "8080"
    cloudwatch = sandbox.client("cloudwatch")
    cloudwatch.put_metric_data(Namespace="Web", MetricData=[{"MetricName": "Errors", "Value": 3.0}])
    assert [m["MetricName"] for m in cloudwatch.list_metrics(Namespace="Web")["Metrics"]] == ["Errors"]


def test_the_call_log_names_each_operation(sandbox: Sandbox) -> None:
    sandbox.client("sts").get_caller_identity()
    sandbox.client("ec2").describe_subnets()
    counts = sandbox.admin.call_counts()
    assert counts["GetCallerIdentity"] == 1
    assert counts["DescribeSubnets"] == 1
    calls = sandbox.admin.calls()
    assert [c["service"] for c in calls] == ["sts", "ec2"]
    assert all(c["outcome"] == "ok" for c in calls)
