"""Shared set-up for the ELBv2 sandbox tests (named test_elbv2_* to sit with them; holds no tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corral.sandbox import Sandbox


@dataclass
class Network:
    vpc_id: str
    subnets: list[str]  # default subnets, one per Availability Zone


@dataclass
class Stack:
    """An ALB with an HTTP listener on port 80 forwarding to target group `blue`."""

    elb: Any
    network: Network
    lb_arn: str
    listener_arn: str
    blue: str
    green: str


def default_network(sandbox: Sandbox) -> Network:
    ec2 = sandbox.client("ec2")
    vpc_id = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    subnets = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    return Network(vpc_id, [s["SubnetId"] for s in sorted(subnets, key=lambda s: s["AvailabilityZone"])])


def create_group(elb: Any, network: Network, name: str, **extra: Any) -> str:
    params = {"Protocol": "HTTP", "Port": 80, "TargetType": "ip", **extra}
    return elb.create_target_group(Name=name, VpcId=network.vpc_id, **params)["TargetGroups"][0][
        "TargetGroupArn"
    ]


def alb_stack(sandbox: Sandbox) -> Stack:
    elb = sandbox.client("elbv2")
    network = default_network(sandbox)
    lb_arn = elb.create_load_balancer(Name="web", Subnets=network.subnets[:2])["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    blue = create_group(elb, network, "blue")
    green = create_group(elb, network, "green")
    listener_arn = elb.create_listener(
        LoadBalancerArn=lb_arn,
        Port=80,
        Protocol="HTTP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": blue}],
    )["Listeners"][0]["ListenerArn"]
    return Stack(elb, network, lb_arn, listener_arn, blue, green)


def error_code(exc_info: Any) -> str:
    return exc_info.value.response["Error"]["Code"]
