"""A scripted rolling deployment against the embedded sandbox.

Creates a cluster, an application load balancer and a Fargate service of three tasks, then rolls
it to a new image, printing ECS's own events and progress as they happen. (The pipeline demo of
the pipelines issue replaces this.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from corral.sandbox import Sandbox

Echo = Callable[[str], None]

CONTAINER = "web"


def _task_definition(image: str) -> dict[str, Any]:
    return {
        "family": "web",
        "requiresCompatibilities": ["FARGATE"],
        "networkMode": "awsvpc",
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [
            {
                "name": CONTAINER,
                "image": image,
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
            }
        ],
    }


def _prepare(sandbox: Sandbox, echo: Echo) -> dict[str, Any]:
    ec2, elbv2, ecs = sandbox.client("ec2"), sandbox.client("elbv2"), sandbox.client("ecs")
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"]][:2]
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    ecs.create_cluster(clusterName="demo")
    lb = elbv2.create_load_balancer(Name="demo", Subnets=subnets, Type="application")["LoadBalancers"][0]
    tg = elbv2.create_target_group(
        Name="demo-web",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        TargetType="ip",
        HealthCheckIntervalSeconds=5,
        HealthCheckTimeoutSeconds=2,
        HealthyThresholdCount=2,
    )["TargetGroups"][0]
    elbv2.modify_target_group_attributes(
        TargetGroupArn=tg["TargetGroupArn"],
        Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "10"}],
    )
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg["TargetGroupArn"]}],
    )
    echo(f"Prepared cluster demo, load balancer {lb['DNSName']} and target group demo-web")
    return {"subnets": subnets, "targetGroupArn": tg["TargetGroupArn"]}


def _wait(sandbox: Sandbox, task_definition_arn: str, echo: Echo, seen: set[str]) -> None:
    ecs = sandbox.client("ecs")
    while True:
        service = ecs.describe_services(cluster="demo", services=["web"])["services"][0]
        for event in reversed(service["events"]):
            if event["id"] not in seen:
                seen.add(event["id"])
                echo(f"# AWS Event: {event['createdAt']:%Y-%m-%d %H:%M:%S} {event['message']}")
        primary = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
        if primary["rolloutState"] == "FAILED":
            raise RuntimeError(f"deployment failed: {primary.get('rolloutStateReason')}")
        if (
            len(service["deployments"]) == 1
            and primary["taskDefinition"] == task_definition_arn
            and primary["rolloutState"] == "COMPLETED"
        ):
            echo("Service web reached steady state")
            return
        echo(f"Waiting for pending tasks to finish. {primary['runningCount']}/{primary['desiredCount']} running ...")
        time.sleep(0.5)


def run(echo: Echo, *, speed: float = 20.0) -> None:
    with Sandbox(speed=speed) as sandbox:
        echo(f"Started the embedded sandbox on {sandbox.endpoint_url} (sandbox time runs {speed:g}x)")
        ecs = sandbox.client("ecs")
        network = _prepare(sandbox, echo)
        seen: set[str] = set()
        for version, image in enumerate(["nginx:1.25", "nginx:1.27"], start=1):
            arn = ecs.register_task_definition(**_task_definition(image))["taskDefinition"]["taskDefinitionArn"]
            echo(f"Created task definition {arn} with image {image}")
            if version == 1:
                ecs.create_service(
                    cluster="demo",
                    serviceName="web",
                    taskDefinition=arn,
                    desiredCount=3,
                    launchType="FARGATE",
                    networkConfiguration={"awsvpcConfiguration": {"subnets": network["subnets"]}},
                    loadBalancers=[
                        {"targetGroupArn": network["targetGroupArn"], "containerName": CONTAINER, "containerPort": 80}
                    ],
                    deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 200},
                )
                echo("Creating service web with desired count 3")
            else:
                ecs.update_service(cluster="demo", service="web", taskDefinition=arn)
                echo(f"Updating service web with task definition {arn} and desired count 3")
            _wait(sandbox, arn, echo, seen)
        echo("Deployment Successful.")
