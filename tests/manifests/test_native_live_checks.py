"""The load balancer side of a native strategy, asked of the sandbox through unmodified boto3
(manifests/native_live_checks.py): Network Load Balancer listeners here; the ALB listener rules
are covered through `corral plan` in tests/cli/test_native_plan.py."""

from __future__ import annotations

from typing import Any

from corral.manifests.native_live_checks import native_load_balancer_problems
from corral.sandbox import Sandbox


def network(sandbox: Sandbox) -> tuple[Any, str, list[str]]:
    ec2 = sandbox.client("ec2")
    elb = sandbox.client("elbv2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault"))
    subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc][:2]
    return elb, vpc, subnets


def nlb_with_listeners(elb: Any, vpc: str, subnets: list[str], name: str) -> dict[str, str]:
    """An NLB with a production listener (port 80) and a test listener (port 8080), each on its
    own target group."""
    lb = elb.create_load_balancer(Name=name, Subnets=subnets, Type="network")["LoadBalancers"][0]
    made: dict[str, str] = {"lb": lb["LoadBalancerArn"]}
    for role, port in (("production", 80), ("test", 8080)):
        group = elb.create_target_group(
            Name=f"{name}-{role}", Protocol="TCP", Port=80, VpcId=vpc, TargetType="ip"
        )["TargetGroups"][0]["TargetGroupArn"]
        listener = elb.create_listener(
            LoadBalancerArn=lb["LoadBalancerArn"],
            Protocol="TCP",
            Port=port,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )["Listeners"][0]["ListenerArn"]
        made |= {f"{role}Group": group, f"{role}Listener": listener}
    return made


def linear_service(nlb: dict[str, str]) -> dict[str, Any]:
    return {
        "serviceName": "web",
        "deploymentConfiguration": {"strategy": "LINEAR"},
        "loadBalancers": [
            {
                "targetGroupArn": nlb["productionGroup"],
                "containerName": "web",
                "containerPort": 80,
                "advancedConfiguration": {
                    "alternateTargetGroupArn": nlb["testGroup"],
                    "productionListenerRule": nlb["productionListener"],
                    "testListenerRule": nlb["testListener"],
                    "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers",
                },
            }
        ],
    }


def test_network_load_balancer_listeners_and_target_groups(sandbox: Sandbox) -> None:
    elb, vpc, subnets = network(sandbox)
    nlb = nlb_with_listeners(elb, vpc, subnets, "web")
    service = linear_service(nlb)
    assert native_load_balancer_problems(elb, service, "service.yaml") == []

    # the alternate target group serves another NLB; the test listener is gone
    other = nlb_with_listeners(elb, vpc, subnets, "other")
    advanced = service["loadBalancers"][0]["advancedConfiguration"]
    advanced["alternateTargetGroupArn"] = other["productionGroup"]
    elb.delete_listener(ListenerArn=nlb["testListener"])
    where = "service.yaml: loadBalancers[0].advancedConfiguration"
    assert [str(p) for p in native_load_balancer_problems(elb, service, "service.yaml")] == [
        f"{where}.testListenerRule: no such listener in the account ({nlb['testListener']})",
        f"{where}.alternateTargetGroupArn: target group other-production is on load balancer {other['lb']}, "
        f"not on {nlb['lb']} where the listener rules are",
    ]


def test_rolling_services_are_not_asked_about(sandbox: Sandbox) -> None:
    elb, _, _ = network(sandbox)
    service = linear_service(
        {
            key: f"arn:aws:elasticloadbalancing:us-east-1:123456789012:{kind}"
            for key, kind in (
                ("productionGroup", "targetgroup/none/0123456789abcdef"),
                ("testGroup", "targetgroup/none2/0123456789abcdef"),
                ("productionListener", "listener/net/none/0123456789abcdef/0123456789abcdef"),
                ("testListener", "listener/net/none/0123456789abcdef/0123456789abcdee"),
            )
        }
    )
    service["deploymentConfiguration"]["strategy"] = "ROLLING"
    assert native_load_balancer_problems(elb, service, "service.yaml") == []
    service["deploymentConfiguration"]["strategy"] = "LINEAR"
    assert len(native_load_balancer_problems(elb, service, "service.yaml")) == 4
