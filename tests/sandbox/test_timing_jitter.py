"""`--timing-seed`: task start, health check and draining times vary with the seed, repeat with it.

Each scenario runs a rolling deployment of a two-task service behind a load balancer in a fresh
sandbox and jumps the sandbox clock (admin `advance`), so every moment is where the sandbox
scheduled it, never where a busy machine woke up.
"""

from __future__ import annotations

from typing import Any

from corral.sandbox import Sandbox
from corral.sandbox.core.images import ImageBehaviour
from corral.sandbox.core.timing_jitter import TimingJitter
from corral.sandbox.ecs.health import HEALTHY, container_timeline
from corral.sandbox.ecs.task_definitions import HealthCheck

INTERVAL, THRESHOLD, DELAY = 10, 3, 30  # the test target group's health check and draining settings


def _advance(sandbox: Sandbox, seconds: int) -> None:
    # in steps: a model that schedules from the clock's now (target registration) must see
    # the clock between its moments, as it would at speed 1
    for _ in range(seconds // 5):
        sandbox.admin.advance(5)


def _deploy(seed: int | None) -> dict[str, Any]:
    """Create the service, deploy a new revision; return what a user reads of its timings."""
    with Sandbox(speed=1, timing_seed=seed) as sandbox:
        ec2, elb, ecs = sandbox.client("ec2"), sandbox.client("elbv2"), sandbox.client("ecs")
        vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
        subnets = [s["SubnetId"] for s in ec2.describe_subnets()["Subnets"] if s["VpcId"] == vpc][:2]
        lb = elb.create_load_balancer(Name="jitter", Subnets=subnets)["LoadBalancers"][0]["LoadBalancerArn"]
        group = elb.create_target_group(
            Name="jitter",
            Protocol="HTTP",
            Port=80,
            VpcId=vpc,
            TargetType="ip",
            HealthCheckIntervalSeconds=INTERVAL,
            HealthyThresholdCount=THRESHOLD,
        )["TargetGroups"][0]["TargetGroupArn"]
        elb.modify_target_group_attributes(
            TargetGroupArn=group,
            Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": str(DELAY)}],
        )
        elb.create_listener(
            LoadBalancerArn=lb,
            Protocol="HTTP",
            Port=80,
            DefaultActions=[{"Type": "forward", "TargetGroupArn": group}],
        )
        ecs.create_cluster(clusterName="c")

        def revision(tag: str) -> str:
            return str(
                ecs.register_task_definition(
                    family="web",
                    networkMode="awsvpc",
                    requiresCompatibilities=["FARGATE"],
                    cpu="256",
                    memory="512",
                    containerDefinitions=[
                        {"name": "app", "image": f"app:{tag}", "portMappings": [{"containerPort": 80}]}
                    ],
                )["taskDefinition"]["taskDefinitionArn"]
            )

        ecs.create_service(
            cluster="c",
            serviceName="web",
            taskDefinition=revision("1"),
            desiredCount=2,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
            loadBalancers=[{"targetGroupArn": group, "containerName": "app", "containerPort": 80}],
        )
        _advance(sandbox, 300)
        ecs.update_service(cluster="c", service="web", taskDefinition=revision("2"))
        _advance(sandbox, 300)
        arns = ecs.list_tasks(cluster="c", desiredStatus="STOPPED")["taskArns"]
        arns += ecs.list_tasks(cluster="c", desiredStatus="RUNNING")["taskArns"]
        tasks = ecs.describe_tasks(cluster="c", tasks=arns)["tasks"]
        service = ecs.describe_services(cluster="c", services=["web"])["services"][0]
        deployment = service["deployments"][0]
        steady = next(r for r in sandbox.admin.steady_states() if r["service"] == "web")["steadyAt"]
        return {
            "timing": sandbox.admin.timing(),
            "provision": sorted((t["pullStartedAt"] - t["createdAt"]).total_seconds() for t in tasks),
            "pull": sorted((t["startedAt"] - t["pullStartedAt"]).total_seconds() for t in tasks),
            # from the deployment's start to the service's steady state: health checks and draining
            "deployment": [steady[-1] - deployment["createdAt"].timestamp()],
            "rollout": deployment["rolloutState"],
            "running": service["runningCount"],
        }


def _gap(a: list[float], b: list[float]) -> float:
    return max(abs(x - y) for x, y in zip(a, b, strict=True))


def test_one_seed_gives_the_same_timings_two_seeds_different_ones() -> None:
    first, again, other = _deploy(7), _deploy(7), _deploy(8)
    assert first["rollout"] == other["rollout"] == "COMPLETED"
    assert first["running"] == other["running"] == 2
    for key in ("provision", "pull", "deployment"):
        # the same to the millisecond (the API's timestamps come from the machine's clock too)
        assert _gap(first[key], again[key]) < 0.01, key
        assert _gap(first[key], other[key]) > 0.1, key
    assert first["timing"]["seed"] == 7 and other["timing"]["seed"] == 8


def test_drawn_times_stay_in_the_ranges_aws_documents() -> None:
    drawn = _deploy(11)
    fixed = _deploy(None)
    assert fixed["timing"] is None
    # ENI attachment: "an overhead of several seconds" (Optimize Amazon ECS task launch time)
    assert all(1.0 <= s <= 5.0 for s in drawn["provision"])
    assert len(set(drawn["provision"])) > 1  # each task draws its own
    # without a seed every task takes the same time
    assert len(set(fixed["provision"])) == 1 and len(set(fixed["pull"])) == 1
    # a new target is healthy at its first passing check, which comes within the first interval
    # (ALB health checks; when in it is not documented), and old targets drain for at most the
    # deregistration delay: the deployment is shorter than with the whole of both
    assert drawn["deployment"][0] < fixed["deployment"][0] + 5.0  # provision + pull may add up to ~5 s


def test_first_container_check_comes_within_the_first_interval() -> None:
    check = HealthCheck(command=("CMD", "true"), interval=10, timeout=5, retries=3)
    jitter = TimingJitter(3)
    firsts = [jitter.first_check(check.interval) for _ in range(20)]
    assert all(0 < f <= 10 for f in firsts) and len(set(firsts)) == 20
    # healthy at the first check, wherever it falls; a pass from 15 s on comes at the first check after 15 s
    for first in firsts:
        assert container_timeline(100.0, check, ImageBehaviour(), first) == [(100.0 + first, HEALTHY)]
        ((when, status),) = container_timeline(100.0, check, ImageBehaviour(healthy_after=15), first)
        assert status == HEALTHY and 115.0 <= when < 125.0
