"""What the pipelines of examples/sandbox-demo need in a fresh sandbox, and their inputs.

    inputs = prepare_sandbox("http://127.0.0.1:4566")     # or a corral.aws.Clients
    run_pipeline("examples/sandbox-demo", "demo_bluegreen", inputs=inputs | {"tag": "2"})

Creates (or finds, so it can run twice) the cluster `corral-demo`, an application load balancer
`corral-demo` in the default VPC's subnets with a prod listener (80) and a stage listener (8080),
two `ip` target groups with short health checks and deregistration delays, and the IAM roles a
Fargate task names. For ECS's own strategies (demo_native, demo_linear) a second load balancer
`corral-demo-native` with a production (80) and a test (8080) listener, a production and a test
rule per service (by host header) forwarding to its blue and green target groups, and the
infrastructure role ECS uses to change them. Returns plain strings keyed by the pipelines' input
names.
"""

from __future__ import annotations

import json
from typing import Any

CLUSTER = "corral-demo"
LOAD_BALANCER = "corral-demo"
REGION = "us-east-1"
TARGET_GROUPS = (("corral-demo-blue", 80), ("corral-demo-green", 8080))  # (name, listener port)
ROLES = ("ecsTaskExecutionRole", "ecsTaskRole")
NATIVE_LOAD_BALANCER = "corral-demo-native"
NATIVE_SERVICES = ("native", "linear")  # demo_native, demo_linear: a rule pair and target groups each
# the role ECS assumes to move listener rules (AWS's "infrastructure IAM role for load balancers")
INFRASTRUCTURE_ROLE = "ecsInfrastructureRoleForLoadBalancers"


def _trust(principal: str) -> dict[str, Any]:
    statement = {"Effect": "Allow", "Principal": {"Service": principal}, "Action": "sts:AssumeRole"}
    return {"Version": "2012-10-17", "Statement": [statement]}


ASSUME_ECS_TASKS = _trust("ecs-tasks.amazonaws.com")


def prepare_sandbox(clients_or_endpoint: Any, *, region: str = REGION) -> dict[str, Any]:
    """Create what the demo pipelines deploy into; return their inputs (ids and ARNs as strings)."""
    client = _client_factory(clients_or_endpoint, region)
    ec2, elb, ecs, iam = client("ec2"), client("elbv2"), client("ecs"), client("iam")
    vpc_id = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault"))
    subnets = sorted(
        s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    )[:2]
    group = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    ecs.create_cluster(clusterName=CLUSTER)  # returns the existing cluster when there is one
    lb_arn = _load_balancer(elb, subnets, [group])
    groups, listeners = [], []
    for name, port in TARGET_GROUPS:
        arn = _target_group(elb, name, vpc_id)
        groups.append(arn)
        listeners.append(_listener(elb, lb_arn, port, arn))
    roles = {name: _role(iam, name) for name in ROLES}
    native = _native_resources(elb, iam, subnets, [group], vpc_id)
    return native | {
        "cluster": CLUSTER,
        "region": region,
        "vpcId": vpc_id,
        "subnets[0]": subnets[0],
        "securityGroups[0]": group,
        "subnetIds": subnets,
        "loadBalancer": LOAD_BALANCER,
        "loadBalancerArn": lb_arn,
        "prodListener": listeners[0],
        "stageListener": listeners[1],
        "prodTargetGroupArn": groups[0],
        "stageTargetGroupArn": groups[1],
        "executionRoleArn": roles["ecsTaskExecutionRole"],
        "taskRoleArn": roles["ecsTaskRole"],
    }


def pipeline_inputs(prepared: dict[str, Any], pipeline_id: str) -> dict[str, Any]:
    """The inputs one demo pipeline takes, from what `prepare_sandbox` returned."""
    inputs = {"subnets[0]": prepared["subnets[0]"], "securityGroups[0]": prepared["securityGroups[0]"]}
    if pipeline_id == "demo_bluegreen":
        inputs |= {key: prepared[key] for key in ("loadBalancer", "prodListener", "stageListener")}
    if pipeline_id == "demo_trafficshift":
        inputs |= {key: prepared[key] for key in ("loadBalancer", "prodListener", "stageTargetGroupArn")}
    name = pipeline_id.removeprefix("demo_")
    if name in NATIVE_SERVICES:
        inputs |= {
            "blueTargetGroup": prepared[f"{name}BlueTargetGroup"],
            "greenTargetGroup": prepared[f"{name}GreenTargetGroup"],
            "productionRule": prepared[f"{name}ProductionRule"],
            "testRule": prepared[f"{name}TestRule"],
            "infrastructureRole": prepared["infrastructureRoleArn"],
        }
    return inputs


def _native_resources(
    elb: Any, iam: Any, subnets: list[str], groups: list[str], vpc_id: str
) -> dict[str, str]:
    """The load balancer, target groups, rules and role of ECS's own blue/green and linear demos.

    ECS moves traffic by changing the weights of the forward action of a listener *rule*
    (`advancedConfiguration.productionListenerRule` / `testListenerRule`), so each service gets
    a rule on each listener forwarding to its two target groups, blue at weight 1 and green at 0.
    """
    lb_arn = _load_balancer(elb, subnets, groups, name=NATIVE_LOAD_BALANCER)
    listeners = {
        role: _listener(elb, lb_arn, port, None) for role, port in (("Production", 80), ("Test", 8080))
    }
    found: dict[str, str] = {"infrastructureRoleArn": _role(iam, INFRASTRUCTURE_ROLE, "ecs.amazonaws.com")}
    for priority, name in enumerate(NATIVE_SERVICES, start=1):
        blue = _target_group(elb, f"corral-demo-{name}-blue", vpc_id)
        green = _target_group(elb, f"corral-demo-{name}-green", vpc_id)
        found |= {f"{name}BlueTargetGroup": blue, f"{name}GreenTargetGroup": green}
        for role, listener in listeners.items():
            found[f"{name}{role}Rule"] = _rule(elb, listener, priority, f"{name}.demo.internal", blue, green)
    return found


def _rule(elb: Any, listener: str, priority: int, host: str, blue: str, green: str) -> str:
    for rule in elb.describe_rules(ListenerArn=listener)["Rules"]:
        if rule["Priority"] == str(priority):
            return str(rule["RuleArn"])
    forward = {
        "TargetGroups": [{"TargetGroupArn": blue, "Weight": 1}, {"TargetGroupArn": green, "Weight": 0}]
    }
    return str(
        elb.create_rule(
            ListenerArn=listener,
            Priority=priority,
            Conditions=[{"Field": "host-header", "Values": [host]}],
            Actions=[{"Type": "forward", "ForwardConfig": forward}],
        )["Rules"][0]["RuleArn"]
    )


def _client_factory(clients_or_endpoint: Any, region: str) -> Any:
    if hasattr(clients_or_endpoint, "client"):
        return clients_or_endpoint.client
    import boto3

    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region
    )
    return lambda name: session.client(name, endpoint_url=str(clients_or_endpoint), region_name=region)


def _load_balancer(elb: Any, subnets: list[str], groups: list[str], *, name: str = LOAD_BALANCER) -> str:
    try:
        found = elb.describe_load_balancers(Names=[name])["LoadBalancers"]
    except elb.exceptions.LoadBalancerNotFoundException:
        found = []
    if found:
        return str(found[0]["LoadBalancerArn"])
    created = elb.create_load_balancer(Name=name, Subnets=subnets, SecurityGroups=groups)
    return str(created["LoadBalancers"][0]["LoadBalancerArn"])


def _target_group(elb: Any, name: str, vpc_id: str) -> str:
    try:
        found = elb.describe_target_groups(Names=[name])["TargetGroups"]
    except elb.exceptions.TargetGroupNotFoundException:
        found = []
    if found:
        return str(found[0]["TargetGroupArn"])
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
        TargetGroupArn=arn, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "2"}]
    )
    return str(arn)


def _listener(elb: Any, lb_arn: str, port: int, group: str | None) -> str:
    """A listener forwarding to `group`, or answering 404 where only its rules route (group None)."""
    for listener in elb.describe_listeners(LoadBalancerArn=lb_arn)["Listeners"]:
        if listener["Port"] == port:
            return str(listener["ListenerArn"])
    default = (
        {"Type": "forward", "TargetGroupArn": group}
        if group
        else {"Type": "fixed-response", "FixedResponseConfig": {"StatusCode": "404"}}
    )
    return str(
        elb.create_listener(LoadBalancerArn=lb_arn, Protocol="HTTP", Port=port, DefaultActions=[default])[
            "Listeners"
        ][0]["ListenerArn"]
    )


def _role(iam: Any, name: str, principal: str = "ecs-tasks.amazonaws.com") -> str:
    try:
        return str(iam.get_role(RoleName=name)["Role"]["Arn"])
    except iam.exceptions.NoSuchEntityException:
        document = json.dumps(_trust(principal))
        return str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=document)["Role"]["Arn"])
