"""ECS Rolling Deploy and Rollback against the sandbox: what AWS looks like afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest

from corral.ecs.rolling import RollingDeployOptions, rolling_deploy, rolling_rollback

from .support import EcsEnv, assert_same, cpu_policy, scalable_target, snapshot

pytestmark = pytest.mark.sandbox(speed=200)

DEFAULT = RollingDeployOptions()


def test_first_deployment_creates_the_service_with_load_balancer_registry_tags_and_autoscaling(
    env: EcsEnv,
) -> None:
    alb = env.alb()
    registry = env.cloud_map_service("web")
    target = env.target(
        "web",
        "web:1",
        load_balancer=alb.groups[0],
        registry=registry,
        tags={"team": "payments"},
        scalable_targets=[scalable_target(2, 5)],
        scaling_policies=[cpu_policy()],
    )
    ctx = env.context()

    result = rolling_deploy(ctx, target, DEFAULT)

    service = env.describe("web")
    assert service is not None
    (revision,) = env.revisions("web")
    assert service["status"] == "ACTIVE" and service["taskDefinition"] == revision
    assert service["desiredCount"] == service["runningCount"] == 2
    assert service["deployments"][0]["rolloutState"] == "COMPLETED"
    state = snapshot(env, "web")
    assert state["tags"] == {"team": "payments"}
    assert state["healthyTargets"] == {alb.groups[0]: 2}
    assert state["cloudMapInstances"] == {registry: 2}
    assert state["scalableTargets"][0]["MinCapacity"] == 2 and state["scalableTargets"][0]["MaxCapacity"] == 5
    assert [p["PolicyName"] for p in state["scalingPolicies"]] == ["cpu60"]

    outputs = result.outputs
    assert outputs["serviceName"] == "web" and outputs["taskDefinitionArn"] == revision
    assert outputs["isNewServiceCreated"] is True
    assert outputs["deploymentId"] == service["deployments"][0]["id"]
    assert len(outputs["instances"]) == 2
    instance = outputs["instances"][0]
    assert instance["taskDefinitionArn"] == revision and instance["launchType"] == "FARGATE"
    assert instance["containers"][0]["name"] == "app" and instance["startedAt"]
    json.dumps(result.outputs)  # outputs are journaled as JSON

    assert result.checkpoint == env.checkpoint and env.checkpoint["exists"] is False
    log = ctx.log.text()
    for line in (
        "Creating Task Definition with family web",
        f"Creating Service web with task definition {revision} and desired count 2",
        "Waiting for Service web to reach steady state",
        "Service web reached steady state",
        "Deployment Successful.",
    ):
        assert line in log
    assert "# AWS Event: " in log and "has started 2 tasks" in log


def test_update_rolls_the_new_image_and_keeps_what_it_replaced_as_rollback_data(env: EcsEnv) -> None:
    alb = env.alb()
    env.create_live_service(env.target("web", "web:1", load_balancer=alb.groups[0], tags={"v": "1"}))
    old = env.describe("web")
    assert old is not None

    result = rolling_deploy(env.context(), env.target("web", "web:2", load_balancer=alb.groups[0]), DEFAULT)

    service = env.describe("web")
    assert service is not None
    assert service["taskDefinition"].endswith("task-definition/web:2")
    assert [d["rolloutState"] for d in service["deployments"]] == ["COMPLETED"]
    assert {i["taskDefinitionArn"] for i in result.outputs["instances"]} == {service["taskDefinition"]}
    assert result.outputs["isNewServiceCreated"] is False
    saved = env.checkpoint
    assert saved["exists"] is True
    assert saved["request"]["taskDefinition"] == old["taskDefinition"]
    assert saved["request"]["tags"] == [{"key": "v", "value": "1"}]
    assert snapshot(env, "web")["tags"] == {"v": "1"}  # a manifest without tags leaves them alone


def test_unchanged_manifests_reuse_the_revision_and_make_no_update(env: EcsEnv) -> None:
    target = env.target("web", "web:1")
    first = rolling_deploy(env.context(), target, DEFAULT)
    env.admin.clear_calls()

    ctx = env.context()
    second = rolling_deploy(ctx, target, DEFAULT)

    assert env.revisions("web") == [first.outputs["taskDefinitionArn"]]
    assert second.outputs["taskDefinitionArn"] == first.outputs["taskDefinitionArn"]
    assert second.outputs["deploymentId"] == first.outputs["deploymentId"]
    counts = env.admin.call_counts()
    assert "RegisterTaskDefinition" not in counts and "UpdateService" not in counts
    assert "already matches the manifest; reusing it" in ctx.log.text()
    assert "Service web reached steady state" in ctx.log.text()


def test_force_new_deployment_starts_a_deployment_of_the_same_revision(env: EcsEnv) -> None:
    target = env.target("web", "web:1")
    first = rolling_deploy(env.context(), target, DEFAULT)

    second = rolling_deploy(env.context(), target, RollingDeployOptions(force_new_deployment=True))

    assert second.outputs["deploymentId"] != first.outputs["deploymentId"]
    assert env.revisions("web") == [first.outputs["taskDefinitionArn"]]
    service = env.describe("web")
    assert service is not None and service["deployments"][0]["id"] == second.outputs["deploymentId"]


def test_same_as_already_running_instances_keeps_the_live_count(env: EcsEnv) -> None:
    env.create_live_service(env.target("web", "web:1", desired=3))

    result = rolling_deploy(
        env.context(),
        env.target("web", "web:2", desired=1),
        RollingDeployOptions(same_as_already_running_instances=True),
    )

    assert result.outputs["desiredCount"] == 3 and len(result.outputs["instances"]) == 3


def test_tags_in_the_manifest_are_reconciled(env: EcsEnv) -> None:
    env.create_live_service(env.target("web", "web:1", tags={"team": "a", "old": "x"}))

    rolling_deploy(env.context(), env.target("web", "web:1", tags={"team": "b", "new": "y"}), DEFAULT)

    assert snapshot(env, "web")["tags"] == {"team": "b", "new": "y"}


def test_live_autoscaling_survives_a_deploy_without_scaling_manifests(env: EcsEnv) -> None:
    env.create_live_service(
        env.target("web", "web:1"), scalable_targets=[scalable_target(1, 4)], scaling_policies=[cpu_policy()]
    )
    before = snapshot(env, "web")

    ctx = env.context()
    rolling_deploy(ctx, env.target("web", "web:2"), DEFAULT)

    after = snapshot(env, "web")
    assert after["scalableTargets"] == before["scalableTargets"] != []
    assert after["scalingPolicies"] == before["scalingPolicies"] != []
    assert "its live autoscaling is left as it is" in ctx.log.text()


def test_scaling_manifests_replace_the_live_autoscaling(env: EcsEnv) -> None:
    env.create_live_service(
        env.target("web", "web:1"),
        scalable_targets=[scalable_target(1, 4)],
        scaling_policies=[cpu_policy("old-policy")],
    )

    rolling_deploy(
        env.context(),
        env.target(
            "web",
            "web:2",
            scalable_targets=[scalable_target(2, 8)],
            scaling_policies=[cpu_policy("new-policy", 40.0)],
        ),
        DEFAULT,
    )

    after = snapshot(env, "web")
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in after["scalableTargets"]] == [(2, 8)]
    assert [p["PolicyName"] for p in after["scalingPolicies"]] == ["new-policy"]
    config = after["scalingPolicies"][0]["TargetTrackingScalingPolicyConfiguration"]
    assert config["TargetValue"] == 40.0


def test_rollback_after_a_successful_deploy_restores_everything_it_changed(env: EcsEnv) -> None:
    alb = env.alb()
    registry = env.cloud_map_service("web")
    env.create_live_service(
        env.target("web", "web:1", load_balancer=alb.groups[0], tags={"team": "a"}, desired=2),
        scalable_targets=[scalable_target(1, 4)],
        scaling_policies=[cpu_policy()],
    )
    before = snapshot(env, "web")
    changed = env.target(
        "web",
        "web:2",
        desired=3,
        load_balancer=alb.groups[1],
        registry=registry,
        tags={"team": "b", "extra": "1"},
        scalable_targets=[scalable_target(3, 9)],
        scaling_policies=[cpu_policy("other")],
        deploymentConfiguration={"maximumPercent": 150, "minimumHealthyPercent": 50},
        networkConfiguration={
            "awsvpcConfiguration": {"subnets": env.subnets[:1], "assignPublicIp": "ENABLED"}
        },
        healthCheckGracePeriodSeconds=30,
    )
    rolling_deploy(env.context(), changed, DEFAULT)
    assert snapshot(env, "web") != before

    ctx = env.context()
    rolling_rollback(ctx, changed, env.checkpoint)

    assert_same(before, snapshot(env, "web"))
    assert env.cloud_map_instances(registry) == []
    assert "Rollback Successful." in ctx.log.text()


def test_rollback_of_a_first_deployment_deletes_the_service_and_its_autoscaling(env: EcsEnv) -> None:
    target = env.target(
        "web", "web:1", scalable_targets=[scalable_target(1, 3)], scaling_policies=[cpu_policy()]
    )
    rolling_deploy(env.context(), target, DEFAULT)

    result = rolling_rollback(env.context(), target, env.checkpoint)

    service = env.describe("web")
    assert service is not None and service["status"] == "INACTIVE"
    assert result.outputs == {"serviceName": "web", "serviceDeleted": True}
    state = snapshot(env, "web")
    assert state["scalableTargets"] == [] and state["scalingPolicies"] == []


def test_rollback_of_a_first_deployment_whose_service_is_already_gone_succeeds(env: EcsEnv) -> None:
    target = env.target("web", "web:1")
    rolling_deploy(env.context(), target, DEFAULT)
    env.ecs.delete_service(cluster=env.cluster, service="web", force=True)

    result = rolling_rollback(env.context(), target, env.checkpoint)

    assert result.outputs["serviceDeleted"] is False
    assert snapshot(env, "web")["service"]["status"] == "INACTIVE"


def test_a_draining_service_of_the_same_name_is_waited_for_then_created_again(env: EcsEnv) -> None:
    group = env.alb().groups[0]
    env.create_live_service(env.target("web", "web:1", load_balancer=group))
    env.elbv2.modify_target_group_attributes(  # a drain long enough to be seen
        TargetGroupArn=group, Attributes=[{"Key": "deregistration_delay.timeout_seconds", "Value": "200"}]
    )
    env.ecs.delete_service(cluster=env.cluster, service="web", force=True)

    ctx = env.context()
    result = rolling_deploy(ctx, env.target("web", "web:2"), DEFAULT)

    assert result.outputs["isNewServiceCreated"] is True
    assert "Waiting for existing Service web to reach inactive state" in ctx.log.text()
    service = env.describe("web")
    assert service is not None and service["status"] == "ACTIVE"


def test_a_service_of_250_tasks_lists_every_instance(env: EcsEnv) -> None:
    result = rolling_deploy(env.context(timeout=120), env.target("big", "web:1", desired=250), DEFAULT)

    instances = result.outputs["instances"]
    assert len(instances) == 250
    assert len({i["taskArn"] for i in instances}) == 250


def test_a_task_definition_arn_instead_of_a_manifest_forces_a_new_deployment(env: EcsEnv) -> None:
    target = env.target("web", "web:1")
    first = rolling_deploy(env.context(), target, DEFAULT)
    target.task_definition, target.task_definition_arn = None, first.outputs["taskDefinitionArn"]

    second = rolling_deploy(env.context(), target, DEFAULT)

    assert second.outputs["deploymentId"] != first.outputs["deploymentId"]
    assert second.outputs["taskDefinitionArn"] == first.outputs["taskDefinitionArn"]


@pytest.mark.parametrize("launch", ["EC2", "DAEMON"])
def test_ec2_and_daemon_services_deploy_and_roll_back(ec2_env: EcsEnv, launch: str) -> None:
    env = ec2_env
    extra: dict[str, Any] = {"launchType": "EC2", "desired": None if launch == "DAEMON" else 2}
    if launch == "DAEMON":
        extra["schedulingStrategy"] = "DAEMON"
        extra["deploymentConfiguration"] = {"maximumPercent": 100, "minimumHealthyPercent": 0}
    target = env.target("agent", "agent:1", **extra)
    target.service_definition.pop("networkConfiguration")  # type: ignore[union-attr]
    target.task_definition = {
        "family": "agent",
        "containerDefinitions": [{"name": "app", "image": "agent:1", "memory": 128, "essential": True}],
    }
    rolling_deploy(env.context(), target, DEFAULT)
    before = snapshot(env, "agent")
    target.task_definition["containerDefinitions"][0]["image"] = "agent:2"

    result = rolling_deploy(env.context(), target, DEFAULT)
    assert len(result.outputs["instances"]) == (3 if launch == "DAEMON" else 2)
    assert {i["launchType"] for i in result.outputs["instances"]} == {"EC2"}
    rolling_rollback(env.context(), target, env.checkpoint)

    assert_same(before, snapshot(env, "agent"))


def test_settings_pass_through_untouched_and_an_unchanged_redeploy_changes_nothing(env: EcsEnv) -> None:
    env.ecs.put_cluster_capacity_providers(
        cluster=env.cluster,
        capacityProviders=["FARGATE", "FARGATE_SPOT"],
        defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}],
    )
    strategy = [
        {"capacityProvider": "FARGATE", "weight": 1, "base": 1},
        {"capacityProvider": "FARGATE_SPOT", "weight": 3, "base": 0},
    ]
    registry = env.cloud_map_service("web")
    target = env.target(
        "web",
        "registry.example.com/team/web:1",
        registry=registry,
        tags={"team": "payments"},
        capacityProviderStrategy=strategy,
        propagateTags="SERVICE",
        enableECSManagedTags=True,
        enableExecuteCommand=True,
    )
    target.service_definition.pop("launchType")  # type: ignore[union-attr]
    assert target.task_definition is not None
    target.task_definition["executionRoleArn"] = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    target.task_definition["containerDefinitions"][0]["repositoryCredentials"] = {
        "credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf"
    }

    first = rolling_deploy(env.context(), target, DEFAULT)

    service = env.describe("web")
    assert service is not None
    assert service["capacityProviderStrategy"] == strategy and "launchType" not in service
    assert service["propagateTags"] == "SERVICE" and service["enableECSManagedTags"] is True
    assert service["enableExecuteCommand"] is True
    assert service["serviceRegistries"] == [{"registryArn": registry}]
    definition = env.ecs.describe_task_definition(taskDefinition=first.outputs["taskDefinitionArn"])
    container = definition["taskDefinition"]["containerDefinitions"][0]
    assert (
        container["repositoryCredentials"]
        == target.task_definition["containerDefinitions"][0]["repositoryCredentials"]
    )
    task = env.ecs.describe_tasks(
        cluster=env.cluster, tasks=[first.outputs["instances"][0]["taskArn"]], include=["TAGS"]
    )["tasks"][0]
    assert {"key": "team", "value": "payments"} in task["tags"]  # propagated from the service

    env.admin.clear_calls()
    second = rolling_deploy(env.context(), target, DEFAULT)

    counts = env.admin.call_counts()
    assert not {"RegisterTaskDefinition", "UpdateService", "TagResource", "UntagResource"} & set(counts)
    assert second.outputs["deploymentId"] == first.outputs["deploymentId"]


def test_a_rolling_deploy_is_cheap_on_the_ecs_api(env: EcsEnv) -> None:
    env.create_live_service(env.target("web", "web:1"))
    env.admin.clear_calls()

    rolling_deploy(env.context(), env.target("web", "web:2"), DEFAULT)

    counts = env.admin.call_counts()
    assert counts["RegisterTaskDefinition"] == counts["UpdateService"] == 1
    assert counts["ListTasks"] == counts["DescribeTasks"] == 1  # the instances output, once
    assert counts["DescribeServices"] <= 20  # one for rollback data, then the shared poller's rounds
    assert "DescribeServices" in counts and "TagResource" not in counts
