"""ECS Scale against the sandbox: counts and percentages, steady state, rollback."""

from __future__ import annotations

import pytest

from corral.ecs.scale import ScaleOptions, scale, scale_rollback
from corral.errors import DeploymentError

from .support import EcsEnv, scalable_target

pytestmark = pytest.mark.sandbox(speed=200)


def test_scale_to_a_count_waits_for_the_tasks_and_rolls_back(env: EcsEnv) -> None:
    target = env.target("web", "web:1", load_balancer=env.alb().groups[0], desired=2)
    env.create_live_service(target)
    ctx = env.context()

    result = scale(ctx, target, ScaleOptions(instances=5))

    service = env.describe("web")
    assert service is not None and service["desiredCount"] == service["runningCount"] == 5
    assert len(service["deployments"]) == 1
    assert result.outputs["desiredCount"] == 5 and result.outputs["previousDesiredCount"] == 2
    assert len(result.outputs["instances"]) == 5
    assert env.checkpoint == {"cluster": env.cluster, "serviceName": "web", "desiredCount": 2}
    assert "Updating Service web with desired count 5" in ctx.log.text()
    assert "Service web reached steady state" in ctx.log.text()

    scale_rollback(env.context(), target, env.checkpoint)

    service = env.describe("web")
    assert service is not None and service["desiredCount"] == service["runningCount"] == 2


@pytest.mark.parametrize(("percentage", "expected"), [(50, 2), (150, 6), (10, 1), (0, 0)])
def test_scale_to_a_percentage_of_the_desired_count(env: EcsEnv, percentage: int, expected: int) -> None:
    target = env.target("web", "web:1", desired=4)
    env.create_live_service(target)

    result = scale(env.context(), target, ScaleOptions(instances=percentage, instance_unit="Percentage"))

    service = env.describe("web")
    assert service is not None and service["desiredCount"] == service["runningCount"] == expected
    assert len(result.outputs["instances"]) == expected


def test_skip_steady_state_check_returns_without_waiting(env: EcsEnv) -> None:
    target = env.target("web", "web:1", desired=1)
    env.create_live_service(target)
    env.admin.set_images({"image": "web:1", "startDelay": 3000})

    result = scale(env.context(), target, ScaleOptions(instances=3, skip_steady_state_check=True))

    service = env.describe("web")
    assert service is not None and service["desiredCount"] == 3 and service["runningCount"] == 1
    assert result.outputs["desiredCount"] == 3


def test_scaling_outside_the_autoscaling_range_is_warned_about(env: EcsEnv) -> None:
    target = env.target("web", "web:1", desired=2)
    env.create_live_service(target, scalable_targets=[scalable_target(1, 3)])
    ctx = env.context()

    scale(ctx, target, ScaleOptions(instances=4))

    assert any(line.level == "WARN" and "autoscaling from 1 to 3" in line.message for line in ctx.log.lines)


def test_a_daemon_service_cannot_be_scaled(ec2_env: EcsEnv) -> None:
    env = ec2_env
    target = env.target("agent", "agent:1", desired=None, schedulingStrategy="DAEMON", launchType="EC2")
    target.service_definition.pop("networkConfiguration")  # type: ignore[union-attr]
    target.service_definition["deploymentConfiguration"] = {"maximumPercent": 100, "minimumHealthyPercent": 0}  # type: ignore[index]
    target.task_definition = {
        "family": "agent",
        "containerDefinitions": [{"name": "app", "image": "agent:1", "memory": 128, "essential": True}],
    }
    arn = env.ecs.register_task_definition(**target.task_definition)["taskDefinition"]["taskDefinitionArn"]
    env.ecs.create_service(cluster=env.cluster, taskDefinition=arn, **target.service_definition)  # type: ignore[arg-type]

    with pytest.raises(DeploymentError, match="DAEMON service"):
        scale(env.context(), target, ScaleOptions(instances=2))


def test_a_missing_service_cannot_be_scaled(env: EcsEnv) -> None:
    with pytest.raises(DeploymentError, match="Service web is MISSING in cluster corral"):
        scale(env.context(), env.target("web", "web:1"), ScaleOptions(instances=2))
