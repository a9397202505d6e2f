"""ELBv2 target groups: defaults per protocol, attributes, modification, deletion, tags."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .test_elbv2_support import alb_stack, create_group, default_network, error_code


def test_http_target_group_gets_aws_health_check_defaults(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    group = elb.create_target_group(
        Name="web", Protocol="HTTP", Port=8080, VpcId=network.vpc_id, TargetType="ip"
    )["TargetGroups"][0]
    assert group["TargetGroupArn"].startswith(
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/"
    )
    expected = {
        "TargetGroupName": "web",
        "Protocol": "HTTP",
        "ProtocolVersion": "HTTP1",
        "Port": 8080,
        "VpcId": network.vpc_id,
        "TargetType": "ip",
        "HealthCheckProtocol": "HTTP",
        "HealthCheckPort": "traffic-port",
        "HealthCheckEnabled": True,
        "HealthCheckPath": "/",
        "HealthCheckIntervalSeconds": 30,
        "HealthCheckTimeoutSeconds": 5,
        "HealthyThresholdCount": 5,
        "UnhealthyThresholdCount": 2,
        "Matcher": {"HttpCode": "200"},
        "LoadBalancerArns": [],
        "IpAddressType": "ipv4",
    }
    assert {k: group[k] for k in expected} == expected


def test_tcp_and_lambda_target_group_defaults(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    tcp = elb.create_target_group(Name="tcp", Protocol="TCP", Port=443, VpcId=network.vpc_id)["TargetGroups"][
        0
    ]
    assert tcp["TargetType"] == "instance"
    assert (tcp["HealthCheckProtocol"], tcp["HealthCheckTimeoutSeconds"]) == ("TCP", 10)
    assert "HealthCheckPath" not in tcp and "Matcher" not in tcp
    fn = elb.create_target_group(Name="fn", TargetType="lambda")["TargetGroups"][0]
    assert fn["HealthCheckEnabled"] is False
    assert "Port" not in fn and "VpcId" not in fn
    attributes = elb.describe_target_group_attributes(TargetGroupArn=tcp["TargetGroupArn"])["Attributes"]
    assert {"Key": "stickiness.type", "Value": "source_ip"} in attributes
    assert {"Key": "preserve_client_ip.enabled", "Value": "true"} in attributes


def test_create_is_idempotent_and_rejects_conflicts(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    arn = create_group(elb, network, "web")
    assert create_group(elb, network, "web") == arn, "same settings: the same group"
    cases = [
        (
            {"Name": "web", "Protocol": "HTTP", "Port": 81, "VpcId": network.vpc_id},
            "DuplicateTargetGroupName",
        ),
        ({"Name": "x", "Protocol": "HTTP", "Port": 80, "VpcId": "vpc-00000000"}, "ValidationError"),
        ({"Name": "x", "Protocol": "HTTP", "Port": 80}, "ValidationError"),
        ({"Name": "bad_name", "Protocol": "HTTP", "Port": 80, "VpcId": network.vpc_id}, "ValidationError"),
        (
            {
                "Name": "x",
                "Protocol": "HTTP",
                "Port": 80,
                "VpcId": network.vpc_id,
                "HealthCheckIntervalSeconds": 301,
            },
            "ValidationError",
        ),
        (
            {
                "Name": "x",
                "Protocol": "HTTP",
                "Port": 80,
                "VpcId": network.vpc_id,
                "HealthCheckIntervalSeconds": 5,
                "HealthCheckTimeoutSeconds": 5,
            },
            "InvalidConfigurationRequest",
        ),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as error:
            elb.create_target_group(**params)
        assert error_code(error) == code, params


def test_describe_by_arns_names_and_load_balancer(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    spare = create_group(elb, stack.network, "spare")
    by_lb = elb.describe_target_groups(LoadBalancerArn=stack.lb_arn)["TargetGroups"]
    assert [g["TargetGroupName"] for g in by_lb] == ["blue"]
    assert by_lb[0]["LoadBalancerArns"] == [stack.lb_arn]
    by_name = elb.describe_target_groups(Names=["green", "spare"])["TargetGroups"]
    assert [g["TargetGroupArn"] for g in by_name] == [stack.green, spare]
    page = elb.describe_target_groups(PageSize=2)
    assert len(page["TargetGroups"]) == 2 and page["NextMarker"]
    with pytest.raises(ClientError) as missing:
        elb.describe_target_groups(Names=["nope"])
    assert error_code(missing) == "TargetGroupNotFound"
    with pytest.raises(ClientError) as missing_arn:
        elb.describe_target_groups(TargetGroupArns=[stack.blue[:-16] + "0" * 16])
    assert error_code(missing_arn) == "TargetGroupNotFound"


def test_modify_health_check_settings(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    arn = create_group(elb, default_network(sandbox), "web")
    changed = elb.modify_target_group(
        TargetGroupArn=arn,
        HealthCheckPath="/healthz",
        HealthCheckIntervalSeconds=10,
        HealthyThresholdCount=2,
        Matcher={"HttpCode": "200-299"},
    )["TargetGroups"][0]
    assert changed["HealthCheckPath"] == "/healthz"
    assert (changed["HealthCheckIntervalSeconds"], changed["HealthyThresholdCount"]) == (10, 2)
    assert changed["Matcher"] == {"HttpCode": "200-299"}
    assert changed["HealthCheckTimeoutSeconds"] == 5, "unchanged settings stay"
    with pytest.raises(ClientError) as error:
        elb.modify_target_group(TargetGroupArn=arn, UnhealthyThresholdCount=11)
    assert error_code(error) == "ValidationError"


def test_attributes_are_validated(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    arn = create_group(elb, default_network(sandbox), "web")
    attributes = {
        a["Key"]: a["Value"] for a in elb.describe_target_group_attributes(TargetGroupArn=arn)["Attributes"]
    }
    assert attributes["deregistration_delay.timeout_seconds"] == "300"
    assert attributes["stickiness.enabled"] == "false"
    assert attributes["stickiness.type"] == "lb_cookie"
    assert attributes["stickiness.lb_cookie.duration_seconds"] == "86400"

    changed = elb.modify_target_group_attributes(
        TargetGroupArn=arn,
        Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "30"},
            {"Key": "stickiness.enabled", "Value": "true"},
            {"Key": "stickiness.type", "Value": "app_cookie"},
            {"Key": "stickiness.app_cookie.cookie_name", "Value": "session"},
        ],
    )["Attributes"]
    assert {"Key": "deregistration_delay.timeout_seconds", "Value": "30"} in changed
    with sandbox.world.lock:
        group = sandbox.world.region("123456789012", "us-east-1").elbv2.target_group(arn)
        assert group.deregistration_delay == 30.0

    for bad in (
        {"Key": "deregistration_delay.timeout_seconds", "Value": "3601"},
        {"Key": "deregistration_delay.timeout_seconds", "Value": "-1"},
        {"Key": "stickiness.type", "Value": "source_ip"},
        {"Key": "stickiness.lb_cookie.duration_seconds", "Value": "0"},
        {"Key": "slow_start.duration_seconds", "Value": "10"},
        {"Key": "made.up", "Value": "1"},
    ):
        with pytest.raises(ClientError) as error:
            elb.modify_target_group_attributes(TargetGroupArn=arn, Attributes=[bad])
        assert error_code(error) == "ValidationError", bad


def test_delete_refuses_groups_in_use(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    with pytest.raises(ClientError) as in_use:
        elb.delete_target_group(TargetGroupArn=stack.blue)
    assert error_code(in_use) == "ResourceInUse"
    elb.delete_target_group(TargetGroupArn=stack.green)
    elb.delete_target_group(TargetGroupArn=stack.green)  # again: succeeds
    with pytest.raises(ClientError) as gone:
        elb.describe_target_group_attributes(TargetGroupArn=stack.green)
    assert error_code(gone) == "TargetGroupNotFound"
    elb.delete_listener(ListenerArn=stack.listener_arn)
    elb.delete_target_group(TargetGroupArn=stack.blue)


def test_tags_on_every_resource_type(sandbox: Sandbox) -> None:
    stack = alb_stack(sandbox)
    elb = stack.elb
    rule_arn = elb.create_rule(
        ListenerArn=stack.listener_arn,
        Priority=1,
        Conditions=[{"Field": "path-pattern", "Values": ["/a"]}],
        Actions=[{"Type": "forward", "TargetGroupArn": stack.green}],
        Tags=[{"Key": "created", "Value": "with-rule"}],
    )["Rules"][0]["RuleArn"]
    arns = [stack.lb_arn, stack.blue, stack.listener_arn, rule_arn]
    elb.add_tags(ResourceArns=arns, Tags=[{"Key": "env", "Value": "test"}, {"Key": "owner", "Value": "me"}])
    elb.remove_tags(ResourceArns=[stack.blue], TagKeys=["owner"])
    described = {d["ResourceArn"]: d["Tags"] for d in elb.describe_tags(ResourceArns=arns)["TagDescriptions"]}
    assert {t["Key"] for t in described[stack.lb_arn]} == {"env", "owner"}
    assert described[stack.blue] == [{"Key": "env", "Value": "test"}]
    assert {t["Key"] for t in described[stack.listener_arn]} == {"env", "owner"}
    assert {t["Key"] for t in described[rule_arn]} == {"created", "env", "owner"}

    with pytest.raises(ClientError) as duplicate:
        elb.add_tags(ResourceArns=[stack.blue], Tags=[{"Key": "k", "Value": "1"}, {"Key": "k", "Value": "2"}])
    assert error_code(duplicate) == "DuplicateTagKeys"
    with pytest.raises(ClientError) as too_many:
        elb.add_tags(ResourceArns=[stack.blue], Tags=[{"Key": f"k{i}", "Value": "v"} for i in range(50)])
    assert error_code(too_many) == "TooManyTags"
    with pytest.raises(ClientError) as missing:
        elb.describe_tags(ResourceArns=[stack.blue[:-16] + "0" * 16])
    assert error_code(missing) == "TargetGroupNotFound"
