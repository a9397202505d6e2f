"""The delegate kill family's "nothing created twice" verdict (kill_delegate.py) sees what a
re-run made again: a task definition registered twice with the same content, a CreateService
more than the steps that create a service, a target that no running task owns."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from corral.sandbox import Sandbox

from .demo_state import CLUSTER, whole_state
from .kill_delegate import _created_twice, _revisions

pytestmark = pytest.mark.sandbox(speed=500)


def test_nothing_made_twice_passes_and_each_kind_made_twice_is_named(sandbox: Sandbox) -> None:
    ecs, elb = sandbox.client("ecs"), sandbox.client("elbv2")
    ecs.create_cluster(clusterName=CLUSTER)
    vpc = next(v["VpcId"] for v in sandbox.client("ec2").describe_vpcs()["Vpcs"] if v["IsDefault"])
    group = elb.create_target_group(Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="ip")
    before, seq = _revisions(sandbox), sandbox.admin.last_call()
    container = {"name": "app", "image": "registry.demo.internal/demo/web:2", "memory": 512}
    ecs.register_task_definition(family="demo-web", containerDefinitions=[container])
    one_step = SimpleNamespace(steps=[SimpleNamespace(identifier="EcsCanaryDeploy", status="Success")])

    assert _created_twice(sandbox, seq, before, one_step, whole_state(sandbox, settle=0)) == []

    ecs.register_task_definition(family="demo-web", containerDefinitions=[container])  # the same again
    arn = group["TargetGroups"][0]["TargetGroupArn"]
    elb.register_targets(TargetGroupArn=arn, Targets=[{"Id": "172.31.9.9", "Port": 80}])
    ecs.create_service(cluster=CLUSTER, serviceName="extra", taskDefinition="demo-web", desiredCount=0)
    no_step = SimpleNamespace(steps=[])

    problems = _created_twice(sandbox, seq, before, no_step, whole_state(sandbox, settle=0))

    assert problems == [
        "one task definition registered 2 times: ['demo-web:1', 'demo-web:2']",
        "CreateService succeeded 1 times for 0 steps that create a service",
        "web holds 1 targets of (no running task)",
    ]
