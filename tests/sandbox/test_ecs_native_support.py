"""Shared set-up for the service deployment and native strategy tests (holds no tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.validate import ParamValidator

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_ecs_support import network


def assert_output_shape(client: Any, operation: str, response: dict[str, Any]) -> None:
    """The parsed answer fits botocore's output shape of `operation` (types, enums, structure)."""
    shape = client.meta.service_model.operation_model(operation).output_shape
    body = {k: v for k, v in response.items() if k != "ResponseMetadata"}
    report = ParamValidator().validate(body, shape)
    assert not report.has_errors(), report.generate_report()
    for name, member in shape.members.items():
        _check_enums(member, body.get(name), name)


def _check_enums(shape: Any, value: Any, path: str) -> None:
    """ParamValidator leaves enums alone; an answer must use the model's values."""
    if value is None:
        return
    if shape.type_name == "string" and shape.enum:
        assert value in shape.enum, f"{path}: {value!r} is not one of {shape.enum}"
    elif shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            _check_enums(member, value.get(name), f"{path}.{name}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            _check_enums(shape.member, item, f"{path}[{index}]")


def deployments_of(ecs: Any, cluster: str, service: str) -> list[dict[str, Any]]:
    """Every service deployment of a service, newest first, described in full."""
    listed = ecs.list_service_deployments(cluster=cluster, service=service)
    assert_output_shape(ecs, "ListServiceDeployments", listed)
    arns = [d["serviceDeploymentArn"] for d in listed["serviceDeployments"]]
    if not arns:
        return []
    described = ecs.describe_service_deployments(serviceDeploymentArns=arns)
    assert_output_shape(ecs, "DescribeServiceDeployments", described)
    by_arn = {d["serviceDeploymentArn"]: d for d in described["serviceDeployments"]}
    return [by_arn[a] for a in arns]


def describe_deployment(ecs: Any, arn: str) -> dict[str, Any]:
    answer = ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    assert_output_shape(ecs, "DescribeServiceDeployments", answer)
    return answer["serviceDeployments"][0]


def wait_deployment(
    ecs: Any, arn: str, *statuses: str, stage: str | None = None, timeout: float = 30.0
) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        found = describe_deployment(ecs, arn)
        if found["status"] not in statuses:
            return None
        if stage is not None and found.get("lifecycleStage") != stage:
            return None
        return found

    wanted = "/".join(statuses) + (f" at {stage}" if stage else "")
    return wait_until(reached, timeout=timeout, message=f"service deployment {arn} {wanted}")


@dataclass
class BlueGreenAlb:
    """An ALB whose listener 80 (production) and 8080 (test) each have a rule forwarding to
    `blue` with weight 1 and `green` with weight 0, as the ECS guide sets them up."""

    elb: Any
    blue: str
    green: str
    production_rule: str
    test_rule: str


def blue_green_alb(sandbox: Sandbox) -> BlueGreenAlb:
    ec2, elb = sandbox.client("ec2"), sandbox.client("elbv2")
    vpc_id = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    subnets = [
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    ]
    lb_arn = elb.create_load_balancer(Name="web", Subnets=subnets[:2])["LoadBalancers"][0]["LoadBalancerArn"]
    groups = []
    for name in ("web-blue", "web-green"):
        arn = elb.create_target_group(
            Name=name,
            Protocol="HTTP",
            Port=80,
            VpcId=vpc_id,
            TargetType="ip",
            HealthCheckIntervalSeconds=5,
            HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2,
            UnhealthyThresholdCount=2,
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(
            TargetGroupArn=arn, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "5"}]
        )
        groups.append(arn)
    blue, green = groups
    forward = [
        {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": blue, "Weight": 1},
                    {"TargetGroupArn": green, "Weight": 0},
                ]
            },
        }
    ]
    rules = []
    for port in (80, 8080):
        listener = elb.create_listener(
            LoadBalancerArn=lb_arn,
            Port=port,
            Protocol="HTTP",
            DefaultActions=[{"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}],
        )["Listeners"][0]["ListenerArn"]
        rule = elb.create_rule(
            ListenerArn=listener,
            Priority=1,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=forward,
        )["Rules"][0]["RuleArn"]
        rules.append(rule)
    return BlueGreenAlb(elb, blue, green, rules[0], rules[1])


def rule_weights(alb: BlueGreenAlb, rule_arn: str) -> dict[str, int]:
    """Target group -> weight of the rule's forward action; 'blue'/'green' for the two groups."""
    rule = alb.elb.describe_rules(RuleArns=[rule_arn])["Rules"][0]
    forward = next(a for a in rule["Actions"] if a["Type"] == "forward")
    names = {alb.blue: "blue", alb.green: "green"}
    return {names[g["TargetGroupArn"]]: g["Weight"] for g in forward["ForwardConfig"]["TargetGroups"]}


def target_ips(alb: BlueGreenAlb, group: str) -> set[str]:
    states = alb.elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    return {s["Target"]["Id"] for s in states if s["TargetHealth"]["State"] in ("initial", "healthy")}


def native_service(
    ecs: Any,
    alb: BlueGreenAlb,
    definition: str,
    *,
    desired: int = 2,
    strategy: str = "BLUE_GREEN",
    **configuration: Any,
) -> dict[str, Any]:
    """A Fargate service behind `alb` with the given strategy (its first deployment simply starts)."""
    created = ecs.create_service(
        cluster="apps",
        serviceName="web",
        taskDefinition=definition,
        desiredCount=desired,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
        deploymentController={"type": "ECS"},
        deploymentConfiguration={"strategy": strategy, **configuration},
        loadBalancers=[
            {
                "targetGroupArn": alb.blue,
                "containerName": "app",
                "containerPort": 80,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": alb.green,
                    "productionListenerRule": alb.production_rule,
                    "testListenerRule": alb.test_rule,
                    "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers",
                },
            }
        ],
    )
    assert_output_shape(ecs, "CreateService", created)
    return created["service"]
