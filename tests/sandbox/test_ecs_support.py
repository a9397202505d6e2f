"""Shared set-up for the ECS sandbox tests (named test_ecs_* to sit with them; holds no tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import boto3

from corral.sandbox import Sandbox

from .helpers import wait_until


def network(client: Any) -> dict[str, Any]:
    """An awsvpc network configuration on two of the Region's default subnets (they must exist
    in the sandbox's EC2, as on AWS); `client` is any boto3 client of the sandbox."""
    subnets = _default_subnets(client.meta.endpoint_url, client.meta.region_name)
    return {"awsvpcConfiguration": {"subnets": list(subnets), "assignPublicIp": "DISABLED"}}


# not cached by endpoint: a later sandbox may listen on the port of one that has stopped, with
# other subnets (a cached answer once named subnets the new sandbox did not have)
def _default_subnets(endpoint_url: str, region: str) -> tuple[str, ...]:
    ec2 = boto3.client(
        "ec2", endpoint_url=endpoint_url, region_name=region, aws_access_key_id="t", aws_secret_access_key="t"
    )
    return tuple(s["SubnetId"] for s in ec2.describe_subnets()["Subnets"][:2])


FAST_HEALTH_CHECK = {
    "command": ["CMD-SHELL", "curl -f localhost/ || exit 1"],
    "interval": 5,
    "timeout": 2,
    "retries": 2,
}


def error_of(exc_info: Any) -> tuple[str, str]:
    error = exc_info.value.response["Error"]
    return error["Code"], error["Message"]


def fargate_definition(
    ecs: Any,
    family: str,
    image: str,
    *,
    ports: tuple[int, ...] = (80,),
    health_check: dict[str, Any] | None = None,
    **extra: Any,
) -> str:
    container: dict[str, Any] = {
        "name": "app",
        "image": image,
        "essential": True,
        "portMappings": [{"containerPort": p} for p in ports],
    }
    if health_check is not None:
        container["healthCheck"] = health_check
    return ecs.register_task_definition(
        family=family,
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[container],
        **extra,
    )["taskDefinition"]["taskDefinitionArn"]


def ec2_definition(ecs: Any, family: str, image: str, **extra: Any) -> str:
    return ecs.register_task_definition(
        family=family,
        containerDefinitions=[
            {"name": "app", "image": image, "memory": 128, "portMappings": [{"containerPort": 80}]}
        ],
        **extra,
    )["taskDefinition"]["taskDefinitionArn"]


def fargate_service(
    ecs: Any, cluster: str, name: str, definition: str, desired: int, **extra: Any
) -> dict[str, Any]:
    return ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=definition,
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
        **extra,
    )["service"]


def describe(ecs: Any, cluster: str, name: str) -> dict[str, Any]:
    return ecs.describe_services(cluster=cluster, services=[name])["services"][0]


def messages(service: dict[str, Any]) -> list[str]:
    """Event messages, oldest first."""
    return [e["message"] for e in reversed(service["events"])]


def wait_completed(
    ecs: Any, cluster: str, name: str, definition: str, *, timeout: float = 30.0
) -> dict[str, Any]:
    """Wait until one deployment is left, running `definition`, with rolloutState COMPLETED."""

    def done() -> dict[str, Any] | None:
        service = describe(ecs, cluster, name)
        (primary, *others) = service["deployments"]
        finished = (
            not others and primary["rolloutState"] == "COMPLETED" and primary["taskDefinition"] == definition
        )
        return service if finished else None

    return wait_until(done, timeout=timeout, message=f"{name} to complete a deployment of {definition}")


def task_ids(ecs: Any, cluster: str, **filters: Any) -> list[str]:
    arns: list[str] = []
    for page in ecs.get_paginator("list_tasks").paginate(cluster=cluster, **filters):
        arns.extend(page["taskArns"])
    return [a.rsplit("/", 1)[-1] for a in arns]


def describe_tasks(ecs: Any, cluster: str, ids: list[str]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for start in range(0, len(ids), 100):
        found.extend(
            ecs.describe_tasks(cluster=cluster, tasks=ids[start : start + 100], include=["TAGS"])["tasks"]
        )
    return found


@dataclass
class Alb:
    """An ALB with two listeners (80 and 8080), each forwarding to its own `ip` target group."""

    elb: Any
    lb_arn: str
    groups: list[str]


def alb_with_two_listeners(sandbox: Sandbox, *, deregistration_delay: int = 5) -> Alb:
    ec2 = sandbox.client("ec2")
    elb = sandbox.client("elbv2")
    vpc_id = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    subnets = [
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    ]
    lb_arn = elb.create_load_balancer(Name="web", Subnets=subnets[:2])["LoadBalancers"][0]["LoadBalancerArn"]
    groups = []
    for name, port in (("web-main", 80), ("web-admin", 8080)):
        arn = elb.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=port,
            VpcId=vpc_id,
            TargetType="ip",
            HealthCheckIntervalSeconds=5,
            HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(
            TargetGroupArn=arn,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(deregistration_delay)}],
        )
        elb.create_listener(
            LoadBalancerArn=lb_arn,
            Port=port,
            Protocol="HTTP",
            DefaultActions=[{"Type": "forward", "TargetGroupArn": arn}],
        )
        groups.append(arn)
    return Alb(elb, lb_arn, groups)


def load_balancers_for(alb: Alb) -> list[dict[str, Any]]:
    return [
        {"targetGroupArn": alb.groups[0], "containerName": "app", "containerPort": 80},
        {"targetGroupArn": alb.groups[1], "containerName": "app", "containerPort": 8080},
    ]


def healthy_targets(alb: Alb, group: str) -> int:
    states = alb.elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return sum(1 for s in states if s["TargetHealth"]["State"] == "healthy")
