"""ELBv2 load balancers through unmodified boto3 and the AWS CLI."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .test_elbv2_support import default_network, error_code


def test_application_load_balancer_lives_in_its_subnets_vpc(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    created = elb.create_load_balancer(
        Name="web", Subnets=network.subnets[:2], Tags=[{"Key": "team", "Value": "payments"}]
    )["LoadBalancers"][0]
    assert created["State"] == {"Code": "provisioning"}
    assert re.fullmatch(r"web-\d{10}\.us-east-1\.elb\.amazonaws\.com", created["DNSName"])
    assert created["CanonicalHostedZoneId"] == "Z35SXDOTRQ7X7K"
    assert created["VpcId"] == network.vpc_id
    assert [z["SubnetId"] for z in created["AvailabilityZones"]] == network.subnets[:2]
    assert [z["ZoneName"] for z in created["AvailabilityZones"]] == ["us-east-1a", "us-east-1b"]
    assert created["Scheme"] == "internet-facing" and created["Type"] == "application"
    assert created["IpAddressType"] == "ipv4"
    assert len(created["SecurityGroups"]) == 1, "the VPC's default security group"
    assert re.fullmatch(
        r"arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/web/[0-9a-f]{16}",
        created["LoadBalancerArn"],
    )

    described = elb.describe_load_balancers(Names=["web"])["LoadBalancers"][0]
    assert described["State"] == {"Code": "active"}
    assert described["DNSName"] == created["DNSName"]
    elb.get_waiter("load_balancer_available").wait(Names=["web"], WaiterConfig={"Delay": 1})
    tags = elb.describe_tags(ResourceArns=[created["LoadBalancerArn"]])["TagDescriptions"][0]["Tags"]
    assert tags == [{"Key": "team", "Value": "payments"}]


def test_internal_network_load_balancer_with_subnet_mappings(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    lb = elb.create_load_balancer(
        Name="grpc",
        Type="network",
        Scheme="internal",
        SubnetMappings=[{"SubnetId": network.subnets[0], "PrivateIPv4Address": "172.31.0.10"}],
    )["LoadBalancers"][0]
    assert lb["Type"] == "network" and lb["Scheme"] == "internal"
    assert re.fullmatch(r"internal-grpc-[0-9a-f]{16}\.elb\.us-east-1\.amazonaws\.com", lb["DNSName"])
    assert lb["CanonicalHostedZoneId"] == "Z26RNL4JYFTOTI"
    assert lb["AvailabilityZones"][0]["LoadBalancerAddresses"] == [{"PrivateIPv4Address": "172.31.0.10"}]
    assert "SecurityGroups" not in lb
    assert ":loadbalancer/net/grpc/" in lb["LoadBalancerArn"]


def test_describe_by_arn_name_and_pages(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    arns = [
        elb.create_load_balancer(Name=f"lb-{i}", Subnets=network.subnets[:2])["LoadBalancers"][0][
            "LoadBalancerArn"
        ]
        for i in range(5)
    ]
    first = elb.describe_load_balancers(PageSize=2)
    assert [lb["LoadBalancerName"] for lb in first["LoadBalancers"]] == ["lb-0", "lb-1"]
    second = elb.describe_load_balancers(PageSize=2, Marker=first["NextMarker"])
    assert [lb["LoadBalancerName"] for lb in second["LoadBalancers"]] == ["lb-2", "lb-3"]
    last = elb.describe_load_balancers(PageSize=2, Marker=second["NextMarker"])
    assert [lb["LoadBalancerName"] for lb in last["LoadBalancers"]] == ["lb-4"] and "NextMarker" not in last
    pages = elb.get_paginator("describe_load_balancers").paginate(PaginationConfig={"PageSize": 2})
    assert sum(len(p["LoadBalancers"]) for p in pages) == 5
    by_arn = elb.describe_load_balancers(LoadBalancerArns=[arns[3]])["LoadBalancers"]
    assert [lb["LoadBalancerName"] for lb in by_arn] == ["lb-3"]

    with pytest.raises(ClientError) as missing:
        elb.describe_load_balancers(Names=["lb-0", "nope"])
    assert error_code(missing) == "LoadBalancerNotFound"
    with pytest.raises(ClientError) as missing_arn:
        elb.describe_load_balancers(LoadBalancerArns=[arns[0].replace(arns[0][-16:], "0" * 16)])
    assert error_code(missing_arn) == "LoadBalancerNotFound"


def test_create_validation(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    arn = elb.create_load_balancer(Name="web", Subnets=network.subnets[:2])["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    again = elb.create_load_balancer(Name="web", Subnets=network.subnets[:2])["LoadBalancers"][0]
    assert again["LoadBalancerArn"] == arn, "the same settings: CreateLoadBalancer is idempotent"
    cases = [
        ({"Name": "web", "Subnets": network.subnets[1:3]}, "DuplicateLoadBalancerName"),
        ({"Name": "web", "Subnets": network.subnets[:2], "Scheme": "internal"}, "DuplicateLoadBalancerName"),
        ({"Name": "one-zone", "Subnets": network.subnets[:1]}, "InvalidConfigurationRequest"),
        ({"Name": "ghost", "Subnets": ["subnet-00000000", network.subnets[0]]}, "SubnetNotFound"),
        ({"Name": "-bad-", "Subnets": network.subnets[:2]}, "ValidationError"),
        ({"Name": "internal-x", "Subnets": network.subnets[:2]}, "ValidationError"),
        ({"Name": "s", "Subnets": network.subnets[:2], "Scheme": "public"}, "ValidationError"),
        (
            {"Name": "sg", "Subnets": network.subnets[:2], "SecurityGroups": ["sg-123"]},
            "InvalidSecurityGroup",
        ),
    ]
    for params, code in cases:
        with pytest.raises(ClientError) as error:
            elb.create_load_balancer(**params)
        assert error_code(error) == code, params


def test_attributes_and_deletion_protection(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    arn = elb.create_load_balancer(Name="web", Subnets=network.subnets[:2])["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    attributes = {
        a["Key"]: a["Value"] for a in elb.describe_load_balancer_attributes(LoadBalancerArn=arn)["Attributes"]
    }
    assert attributes["idle_timeout.timeout_seconds"] == "60"
    assert attributes["deletion_protection.enabled"] == "false"
    assert attributes["routing.http2.enabled"] == "true"

    changed = elb.modify_load_balancer_attributes(
        LoadBalancerArn=arn,
        Attributes=[
            {"Key": "idle_timeout.timeout_seconds", "Value": "120"},
            {"Key": "deletion_protection.enabled", "Value": "true"},
        ],
    )["Attributes"]
    assert {"Key": "idle_timeout.timeout_seconds", "Value": "120"} in changed
    for bad in ({"Key": "idle_timeout.timeout_seconds", "Value": "0"}, {"Key": "no.such.key", "Value": "1"}):
        with pytest.raises(ClientError) as error:
            elb.modify_load_balancer_attributes(LoadBalancerArn=arn, Attributes=[bad])
        assert error_code(error) == "ValidationError"

    with pytest.raises(ClientError) as protected:
        elb.delete_load_balancer(LoadBalancerArn=arn)
    assert error_code(protected) == "OperationNotPermitted"
    elb.modify_load_balancer_attributes(
        LoadBalancerArn=arn, Attributes=[{"Key": "deletion_protection.enabled", "Value": "false"}]
    )
    elb.delete_load_balancer(LoadBalancerArn=arn)
    elb.delete_load_balancer(LoadBalancerArn=arn)  # deleting twice succeeds, as in AWS
    assert elb.describe_load_balancers()["LoadBalancers"] == []


def test_deleting_a_load_balancer_removes_its_listeners_and_frees_target_groups(sandbox: Sandbox) -> None:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    lb_arn = elb.create_load_balancer(Name="web", Subnets=network.subnets[:2])["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    tg_arn = elb.create_target_group(Name="app", Protocol="HTTP", Port=80, VpcId=network.vpc_id)[
        "TargetGroups"
    ][0]["TargetGroupArn"]
    listener = elb.create_listener(
        LoadBalancerArn=lb_arn,
        Port=80,
        Protocol="HTTP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg_arn}],
    )["Listeners"][0]
    elb.delete_load_balancer(LoadBalancerArn=lb_arn)
    with pytest.raises(ClientError) as gone:
        elb.describe_listeners(ListenerArns=[listener["ListenerArn"]])
    assert error_code(gone) == "ListenerNotFound"
    assert elb.describe_target_groups(TargetGroupArns=[tg_arn])["TargetGroups"][0]["LoadBalancerArns"] == []
    elb.delete_target_group(TargetGroupArn=tg_arn)


def test_aws_cli_describes_load_balancers(sandbox: Sandbox, tmp_path: Path) -> None:
    network = default_network(sandbox)
    sandbox.client("elbv2").create_load_balancer(Name="cli-lb", Subnets=network.subnets[:2])
    config = tmp_path / "aws-config"
    config.write_text("")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": str(config),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env.pop("AWS_PROFILE", None)
    result = subprocess.run(
        [
            "aws",
            "elbv2",
            "describe-load-balancers",
            "--endpoint-url",
            sandbox.endpoint_url,
            "--output",
            "json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    names = [lb["LoadBalancerName"] for lb in json.loads(result.stdout)["LoadBalancers"]]
    assert names == ["cli-lb"]
