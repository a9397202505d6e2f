"""The services the sandbox serves through moto answer unmodified boto3 on the same endpoint."""

from __future__ import annotations

import json
import uuid

from corral.sandbox import Sandbox


def test_sts_ec2_iam_answer_on_the_sandbox_endpoint(sandbox: Sandbox) -> None:
    assert sandbox.client("sts").get_caller_identity()["Account"] == "123456789012"
    vpcs = sandbox.client("ec2").describe_vpcs()["Vpcs"]
    assert any(v["IsDefault"] for v in vpcs), "moto's default VPC is what ECS networking examples use"
    name = f"ecsTaskExecutionRole-{uuid.uuid4().hex[:8]}"  # moto's state is shared in a process
    role = sandbox.client("iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": []}),
    )["Role"]
    assert role["Arn"] == f"arn:aws:iam::123456789012:role/{name}"


def test_s3_objects_round_trip(sandbox: Sandbox) -> None:
    s3 = sandbox.client("s3")
    bucket = f"manifests-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="ecs/task.json", Body=b'{"family": "web"}')
    body = s3.get_object(Bucket=bucket, Key="ecs/task.json")["Body"].read()
    assert json.loads(body) == {"family": "web"}


def test_ecr_logs_secrets_ssm_cloudwatch(sandbox: Sandbox) -> None:
    name = f"web-{uuid.uuid4().hex[:8]}"
    repo = sandbox.client("ecr").create_repository(repositoryName=name)["repository"]
    assert repo["repositoryUri"] == f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{name}"
    group = f"/ecs/web-{uuid.uuid4().hex}"
    sandbox.client("logs").create_log_group(logGroupName=group)
    groups = sandbox.client("logs").describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert [g["logGroupName"] for g in groups] == [group]
    arn = sandbox.client("secretsmanager").create_secret(Name=f"db-{name}", SecretString="s3cr3t")["ARN"]
    assert sandbox.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"] == "s3cr3t"
    sandbox.client("ssm").put_parameter(Name=f"/{name}/port", Value="8080", Type="String")
    assert sandbox.client("ssm").get_parameter(Name=f"/{name}/port")["Parameter"]["Value"] == "8080"
    cloudwatch = sandbox.client("cloudwatch")
    # moto's state is shared by every sandbox in a process: a namespace of this test's own
    namespace = f"Web-{uuid.uuid4().hex}"
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=[{"MetricName": "Errors", "Value": 3.0}])
    assert [m["MetricName"] for m in cloudwatch.list_metrics(Namespace=namespace)["Metrics"]] == ["Errors"]


def test_the_call_log_names_each_operation(sandbox: Sandbox) -> None:
    sandbox.client("sts").get_caller_identity()
    sandbox.client("ec2").describe_subnets()
    counts = sandbox.admin.call_counts()
    assert counts["GetCallerIdentity"] == 1
    assert counts["DescribeSubnets"] == 1
    calls = sandbox.admin.calls()
    assert [c["service"] for c in calls] == ["sts", "ec2"]
    assert all(c["outcome"] == "ok" for c in calls)
