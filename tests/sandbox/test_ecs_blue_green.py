"""ECS's native BLUE_GREEN strategy in the sandbox: stages, listener rules, bake time, PAUSE hooks,
rollbacks and the checks CreateService/UpdateService make."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_ecs_events import subscribe, unsubscribe
from .test_ecs_native_support import (
    BlueGreenAlb,
    assert_output_shape,
    blue_green_alb,
    describe_deployment,
    native_service,
    rule_weights,
    target_ips,
    wait_deployment,
)
from .test_ecs_support import (
    FAST_HEALTH_CHECK,
    describe,
    error_of,
    fargate_definition,
    messages,
    network,
    task_ids,
    wait_completed,
)

ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"


def blue_service(sandbox: Sandbox, **configuration: Any) -> tuple[Any, BlueGreenAlb, str]:
    """A BLUE_GREEN service whose first revision (blue) runs 2 tasks in the blue target group."""
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    alb = blue_green_alb(sandbox)
    blue = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
    native_service(ecs, alb, blue, **configuration)
    wait_completed(ecs, "apps", "web", blue)
    return ecs, alb, blue


def deploy(ecs: Any, image: str, **extra: Any) -> tuple[str, str]:
    """UpdateService to a new revision of `image`: (task definition, service deployment ARN)."""
    definition = fargate_definition(ecs, "web", image, health_check=FAST_HEALTH_CHECK)
    service = ecs.update_service(cluster="apps", service="web", taskDefinition=definition, **extra)["service"]
    return definition, service["currentServiceDeployment"]


def running_ids(ecs: Any, definition: str) -> set[str]:
    tasks = ecs.describe_tasks(cluster="apps", tasks=task_ids(ecs, "apps", serviceName="web"))["tasks"]
    return {
        t["taskArn"] for t in tasks if t["taskDefinitionArn"] == definition and t["lastStatus"] == "RUNNING"
    }


def test_blue_green_shifts_test_then_production_traffic_bakes_and_cleans_up(sandbox: Sandbox) -> None:
    ecs, alb, blue = blue_service(sandbox, bakeTimeInMinutes=10)
    assert rule_weights(alb, alb.production_rule) == {"blue": 1, "green": 0}
    blue_tasks = running_ids(ecs, blue)
    green, arn = deploy(ecs, "web:2")

    baking = wait_deployment(ecs, arn, "IN_PROGRESS", stage="BAKE_TIME")
    described = ecs.describe_services(cluster="apps", services=["web"])
    assert_output_shape(ecs, "DescribeServices", described)
    assert described["services"][0]["deploymentConfiguration"]["bakeTimeInMinutes"] == 10
    assert (
        described["services"][0]["loadBalancers"][0]["advancedConfiguration"]["alternateTargetGroupArn"]
        == alb.green
    )
    assert len(described["services"][0]["currentServiceRevisions"]) == 2, "blue and green both run"
    assert rule_weights(alb, alb.production_rule) == {"blue": 0, "green": 100}
    assert rule_weights(alb, alb.test_rule) == {"blue": 0, "green": 100}
    assert len(target_ips(alb, alb.green)) == 2, "green's tasks registered in the alternate target group"
    assert len(target_ips(alb, alb.blue)) == 2, "blue keeps running through the bake time"
    assert running_ids(ecs, blue) == blue_tasks
    assert baking["targetServiceRevision"]["requestedProductionTrafficWeight"] == 100.0
    assert baking["sourceServiceRevisions"][0]["requestedProductionTrafficWeight"] == 0.0
    assert baking["deploymentConfiguration"]["strategy"] == "BLUE_GREEN"

    sandbox.admin.advance(600)
    done = wait_deployment(ecs, arn, "SUCCESSFUL")
    assert done["lifecycleStage"] == "CLEAN_UP"
    service = wait_completed(ecs, "apps", "web", green)
    assert running_ids(ecs, blue) == set()
    assert target_ips(alb, alb.blue) == set()
    assert any(m.endswith("has reached a steady state.") for m in messages(service))
    revision = ecs.describe_service_revisions(serviceRevisionArns=[done["targetServiceRevision"]["arn"]])
    assert_output_shape(ecs, "DescribeServiceRevisions", revision)
    assert revision["serviceRevisions"][0]["resolvedConfiguration"]["loadBalancers"] == [
        {"targetGroupArn": alb.green, "productionListenerRule": alb.production_rule}
    ]

    # the next deployment's green goes to the target group blue served from
    _, second = deploy(ecs, "web:3")
    wait_deployment(ecs, second, "IN_PROGRESS", stage="BAKE_TIME")
    assert rule_weights(alb, alb.production_rule) == {"blue": 100, "green": 0}
    assert len(target_ips(alb, alb.blue)) == 2 and len(target_ips(alb, alb.green)) == 2


def test_pause_hook_waits_for_continue(sandbox: Sandbox) -> None:
    pause = {
        "targetType": "PAUSE",
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
    }
    ecs, alb, _ = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[pause])
    green, arn = deploy(ecs, "web:2")
    paused = wait_deployment(ecs, arn, "IN_PROGRESS", stage="POST_TEST_TRAFFIC_SHIFT")

    def awaiting() -> dict[str, Any] | None:
        found = describe_deployment(ecs, arn)
        hooks = found.get("lifecycleHookDetails") or []
        return found if hooks and hooks[-1]["status"] == "AWAITING_ACTION" else None

    paused = wait_until(awaiting, message="the PAUSE hook to await action")
    (hook,) = paused["lifecycleHookDetails"]
    assert hook["targetType"] == "PAUSE" and "targetArn" not in hook
    assert hook["timeoutAction"] == "ROLLBACK"
    assert (hook["expiresAt"] - paused["updatedAt"]).total_seconds() <= 3600
    assert rule_weights(alb, alb.test_rule) == {"blue": 0, "green": 100}, "test traffic is on green"
    assert rule_weights(alb, alb.production_rule) == {"blue": 1, "green": 0}, "production still on blue"

    answer = ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE"
    )
    assert_output_shape(ecs, "ContinueServiceDeployment", answer)
    done = wait_deployment(ecs, arn, "SUCCESSFUL")
    assert done["lifecycleHookDetails"][0]["status"] == "SUCCEEDED"
    assert rule_weights(alb, alb.production_rule) == {"blue": 0, "green": 100}
    wait_completed(ecs, "apps", "web", green)
    with pytest.raises(ClientError) as again:
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
    assert error_of(again)[0] == "InvalidParameterException"


def paused_deployment(sandbox: Sandbox, action: str) -> tuple[Any, BlueGreenAlb, str, str, dict[str, Any]]:
    pause = {
        "targetType": "PAUSE",
        "lifecycleStages": ["POST_SCALE_UP"],
        "timeoutConfiguration": {"timeoutInMinutes": 30, "action": action},
    }
    ecs, alb, blue = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[pause])
    _, arn = deploy(ecs, "web:2")

    def awaiting() -> dict[str, Any] | None:
        found = describe_deployment(ecs, arn)
        hooks = found.get("lifecycleHookDetails") or []
        return found if hooks and hooks[-1]["status"] == "AWAITING_ACTION" else None

    return ecs, alb, blue, arn, wait_until(awaiting, message="the PAUSE hook")


def assert_restored(ecs: Any, alb: BlueGreenAlb, blue: str, blue_tasks: set[str]) -> None:
    wait_completed(ecs, "apps", "web", blue)
    assert rule_weights(alb, alb.production_rule) == {"blue": 100, "green": 0}
    assert rule_weights(alb, alb.test_rule) == {"blue": 100, "green": 0}
    assert running_ids(ecs, blue) == blue_tasks, "blue's tasks were never replaced"
    assert describe(ecs, "apps", "web")["taskDefinition"] == blue


def test_pause_hook_rolled_back_by_continue_service_deployment(sandbox: Sandbox) -> None:
    ecs, alb, blue, arn, paused = paused_deployment(sandbox, "CONTINUE")
    blue_tasks = running_ids(ecs, blue)
    hook = paused["lifecycleHookDetails"][0]
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="ROLLBACK")
    done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert done["rollback"]["serviceRevisionArn"] == done["sourceServiceRevisions"][0]["arn"]
    assert done["lifecycleHookDetails"][0]["status"] == "FAILED"
    assert_restored(ecs, alb, blue, blue_tasks)
    assert target_ips(alb, alb.green) == set(), "green's tasks are gone"


@pytest.mark.parametrize("action", ["CONTINUE", "ROLLBACK"])
def test_pause_hook_time_out_takes_its_action(sandbox: Sandbox, action: str) -> None:
    ecs, alb, blue, arn, _ = paused_deployment(sandbox, action)
    blue_tasks = running_ids(ecs, blue)
    sandbox.admin.advance(30 * 60)
    if action == "CONTINUE":
        done = wait_deployment(ecs, arn, "SUCCESSFUL")
        assert rule_weights(alb, alb.production_rule) == {"blue": 0, "green": 100}
    else:
        done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL")
        assert_restored(ecs, alb, blue, blue_tasks)
    assert done["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"


def test_stop_service_deployment_during_bake_returns_traffic_to_blue(sandbox: Sandbox) -> None:
    ecs, alb, blue = blue_service(sandbox, bakeTimeInMinutes=30)
    blue_tasks = running_ids(ecs, blue)
    _, arn = deploy(ecs, "web:2")
    wait_deployment(ecs, arn, "IN_PROGRESS", stage="BAKE_TIME")
    assert rule_weights(alb, alb.production_rule) == {"blue": 0, "green": 100}
    with pytest.raises(ClientError) as busy:
        ecs.update_service(cluster="apps", service="web", forceNewDeployment=True)
    assert error_of(busy)[0] == "InvalidParameterException"
    ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert done["rollback"]["reason"]
    assert_restored(ecs, alb, blue, blue_tasks)


@pytest.mark.sandbox(speed=20)
def test_circuit_breaker_rolls_a_blue_green_deployment_back_to_blue(sandbox: Sandbox) -> None:
    sandbox.admin.set_images({"image": "web:broken", "healthCheck": "fail"})
    ecs, alb, blue = blue_service(
        sandbox, bakeTimeInMinutes=0, deploymentCircuitBreaker={"enable": True, "rollback": True}
    )
    blue_tasks = running_ids(ecs, blue)
    _, arn = deploy(ecs, "web:broken")
    done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL", timeout=60)
    assert done["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
    assert done["lifecycleStage"] == "SCALE_UP", "it never got past starting green"
    assert_restored(ecs, alb, blue, blue_tasks)


# ---------------------------------------------------------------------- checks at the API


def lb_with(alb: BlueGreenAlb, **advanced: Any) -> list[dict[str, Any]]:
    config = {
        "alternateTargetGroupArn": alb.green,
        "productionListenerRule": alb.production_rule,
        "roleArn": ROLE,
        **advanced,
    }
    return [
        {
            "targetGroupArn": alb.blue,
            "containerName": "app",
            "containerPort": 80,
            "advancedConfiguration": config,
        }
    ]


@pytest.mark.parametrize(
    ("configuration", "advanced", "expected"),
    [
        (
            {
                "strategy": "BLUE_GREEN",
                "lifecycleHooks": [{"targetType": "PAUSE", "lifecycleStages": ["TEST_TRAFFIC_SHIFT"]}],
            },
            {},
            "PAUSE lifecycle hooks are not supported for the TEST_TRAFFIC_SHIFT lifecycle stage",
        ),
        (
            {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 2.0, "stepBakeTimeInMinutes": 1}},
            {},
            "linearConfiguration.stepPercent must be between 3 and 100",
        ),
        (
            {
                "strategy": "CANARY",
                "canaryConfiguration": {"canaryPercent": 0.05, "canaryBakeTimeInMinutes": 1},
            },
            {},
            "canaryConfiguration.canaryPercent must be between 0.1 and 100",
        ),
        (
            {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 1441},
            {},
            "bakeTimeInMinutes must be between 0 and 1440",
        ),
        (
            {"strategy": "BLUE_GREEN", "lifecycleHooks": [{"lifecycleStages": ["PRE_SCALE_UP"]}]},
            {},
            "hookTargetArn is required for an AWS_LAMBDA lifecycle hook",
        ),
        ({"strategy": "BLUE_GREEN"}, {"roleArn": ""}, "missing: roleArn"),
        (
            {"strategy": "BLUE_GREEN"},
            {
                "productionListenerRule": "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/x/y/z/w"
            },
            "does not exist",
        ),
    ],
)
def test_create_service_checks_the_strategy(
    sandbox: Sandbox, configuration: dict[str, Any], advanced: dict[str, Any], expected: str
) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    alb = blue_green_alb(sandbox)
    definition = fargate_definition(ecs, "web", "web:1")
    with pytest.raises(ClientError) as refused:
        ecs.create_service(
            cluster="apps",
            serviceName="web",
            taskDefinition=definition,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=network(ecs),
            deploymentConfiguration=configuration,
            loadBalancers=lb_with(alb, **advanced),
        )
    code, message = error_of(refused)
    assert code == "InvalidParameterException"
    assert expected in message
    assert ecs.list_services(cluster="apps")["serviceArns"] == [], "nothing was created"


def test_a_native_strategy_needs_advanced_configuration(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    alb = blue_green_alb(sandbox)
    definition = fargate_definition(ecs, "web", "web:1")
    with pytest.raises(ClientError) as refused:
        ecs.create_service(
            cluster="apps",
            serviceName="web",
            taskDefinition=definition,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=network(ecs),
            deploymentConfiguration={"strategy": "BLUE_GREEN"},
            loadBalancers=[{"targetGroupArn": alb.blue, "containerName": "app", "containerPort": 80}],
        )
    assert "needs loadBalancers[].advancedConfiguration" in error_of(refused)[1]


def test_a_paused_deployment_survives_a_sandbox_restart_with_a_state_file(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.state"
    pause = {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}
    with Sandbox(speed=50, state_file=state) as first:
        ecs, alb, _ = blue_service(first, bakeTimeInMinutes=5, lifecycleHooks=[pause])
        green, arn = deploy(ecs, "web:2")
        wait_until(
            lambda: (
                (describe_deployment(ecs, arn).get("lifecycleHookDetails") or [{}])[-1].get("status")
                == "AWAITING_ACTION"
            ),
            message="the PAUSE hook",
        )
    with Sandbox(speed=50, state_file=state) as second:
        ecs = second.client("ecs")
        paused = describe_deployment(ecs, arn)
        assert (paused["status"], paused["lifecycleStage"]) == ("IN_PROGRESS", "POST_TEST_TRAFFIC_SHIFT")
        hook = paused["lifecycleHookDetails"][0]
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
        wait_deployment(ecs, arn, "IN_PROGRESS", stage="BAKE_TIME")
        second.admin.advance(5 * 60)
        wait_deployment(ecs, arn, "SUCCESSFUL")
        wait_completed(ecs, "apps", "web", green)
        moved = BlueGreenAlb(second.client("elbv2"), alb.blue, alb.green, alb.production_rule, alb.test_rule)
        assert rule_weights(moved, alb.production_rule) == {"blue": 0, "green": 100}


@pytest.mark.sandbox(speed=50, throttling=False)
def test_blue_green_deployments_report_on_eventbridge(sandbox: Sandbox) -> None:
    queue, rule = subscribe(sandbox, {"source": ["aws.ecs"], "detail-type": ["ECS Deployment State Change"]})
    try:
        ecs, _, _ = blue_service(sandbox, bakeTimeInMinutes=0)
        _, good = deploy(ecs, "web:2")
        wait_deployment(ecs, good, "SUCCESSFUL")
        green_id = describe(ecs, "apps", "web")["deployments"][0]["id"]
        completed = wait_until(
            lambda: [
                e
                for e in queue.named("SERVICE_DEPLOYMENT_COMPLETED")
                if e["detail"]["deploymentId"] == green_id
            ],
            message="the COMPLETED event of green",
        )
        assert completed[0]["detail"]["eventType"] == "INFO"

        _, bad = deploy(ecs, "web:3")
        ecs.stop_service_deployment(serviceDeploymentArn=bad, stopType="ROLLBACK")
        wait_deployment(ecs, bad, "ROLLBACK_SUCCESSFUL")
        failed = wait_until(lambda: queue.named("SERVICE_DEPLOYMENT_FAILED"), message="the FAILED event")
        assert failed[0]["detail"]["eventType"] == "ERROR"
        assert failed[0]["detail"]["reason"] == describe_deployment(ecs, bad)["rollback"]["reason"]
    finally:
        unsubscribe(sandbox, rule)


def test_the_listener_rules_must_be_on_the_target_groups_load_balancer(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    alb = blue_green_alb(sandbox)
    ec2 = sandbox.client("ec2")
    vpc_id = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v["IsDefault"])
    # two subnets in two Availability Zones, as a load balancer needs
    by_zone = {
        s["AvailabilityZone"]: s["SubnetId"]
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])["Subnets"]
    }
    subnets = sorted(by_zone.values())[:2]
    other_lb = alb.elb.create_load_balancer(Name="other", Subnets=subnets)["LoadBalancers"][0][
        "LoadBalancerArn"
    ]
    other_group = alb.elb.create_target_group(
        Name="web-other", Protocol="HTTP", Port=80, VpcId=vpc_id, TargetType="ip"
    )["TargetGroups"][0]["TargetGroupArn"]
    listener = alb.elb.create_listener(
        LoadBalancerArn=other_lb,
        Port=80,
        Protocol="HTTP",
        DefaultActions=[{"Type": "forward", "TargetGroupArn": other_group}],
    )["Listeners"][0]["ListenerArn"]
    elsewhere = alb.elb.describe_rules(ListenerArn=listener)["Rules"][0]["RuleArn"]  # its default rule
    definition = fargate_definition(ecs, "web", "web:1")
    with pytest.raises(ClientError) as refused:
        ecs.create_service(
            cluster="apps",
            serviceName="web",
            taskDefinition=definition,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration=network(ecs),
            deploymentConfiguration={"strategy": "BLUE_GREEN"},
            loadBalancers=lb_with(alb, testListenerRule=elsewhere),
        )
    code, message = error_of(refused)
    assert code == "InvalidParameterException"
    assert (
        f"the rule {elsewhere} and the target group {alb.blue} must be on the same load balancer" in message
    )
