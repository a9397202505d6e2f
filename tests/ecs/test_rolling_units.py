"""The pure decisions behind the steps: what counts as a difference, which count a rollback sets,
what a percentage scales to, and when a task has failed."""

from __future__ import annotations

from typing import Any

import pytest

from corral.ecs.autoscaling import Scaling
from corral.ecs.rolling import rollback_desired_count
from corral.ecs.run_task import task_failure
from corral.ecs.scale import ScaleOptions, desired_count
from corral.ecs.service_requests import clear_removed, contains, differs
from corral.ecs.snapshot import ServiceSnapshot
from corral.errors import DeploymentError

LIVE: dict[str, Any] = {
    "serviceName": "web",
    "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
    "desiredCount": 2,
    "deploymentConfiguration": {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    },
    "networkConfiguration": {
        "awsvpcConfiguration": {"subnets": ["subnet-a", "subnet-b"], "assignPublicIp": "DISABLED"}
    },
    "loadBalancers": [{"targetGroupArn": "tg-1", "containerName": "app", "containerPort": 80}],
    "serviceRegistries": [],
    "propagateTags": "NONE",
    "enableExecuteCommand": False,
}


def test_defaults_ecs_fills_in_are_no_difference() -> None:
    update = {
        "service": "web",
        "taskDefinition": LIVE["taskDefinition"],
        "desiredCount": 2,
        "deploymentConfiguration": {"maximumPercent": 200, "minimumHealthyPercent": 100},
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-b", "subnet-a"]}},
        "propagateTags": "NONE",
        "enableExecuteCommand": False,
    }
    assert differs(LIVE, update) == []


def test_real_changes_are_named() -> None:
    update = {
        "service": "web",
        "taskDefinition": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4",
        "desiredCount": 3,
        "deploymentConfiguration": {"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
        "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-a"]}},
    }
    assert differs(LIVE, update) == [
        "taskDefinition",
        "desiredCount",
        "deploymentConfiguration",
        "networkConfiguration",
    ]


def test_a_load_balancer_left_out_of_the_manifest_is_removed() -> None:
    update = clear_removed({"service": "web"}, LIVE)
    assert update["loadBalancers"] == [] and "serviceRegistries" not in update
    assert differs(LIVE, update) == ["loadBalancers"]


def test_contains_compares_lists_of_records_in_order() -> None:
    assert contains([{"a": 1, "b": 2}], [{"a": 1}])
    assert not contains([{"a": 1}], [{"a": 1}, {"a": 2}])
    assert contains(None, []) and contains(None, False) and not contains(None, 0.5)


def snapshot_with(count: int, scaling: Scaling | None = None) -> ServiceSnapshot:
    request = {"serviceName": "web", "taskDefinition": "td:1", "desiredCount": count}
    return ServiceSnapshot("c", "web", True, request, scaling or Scaling())


def test_rollback_restores_the_saved_count_without_autoscaling() -> None:
    assert rollback_desired_count(snapshot_with(2), live_count=5, deployed_count=5) == 2
    assert rollback_desired_count(snapshot_with(2), live_count=7, deployed_count=5) == 2


def test_rollback_keeps_a_count_autoscaling_grew_within_its_maximum() -> None:
    scaling = Scaling([{"MinCapacity": 1, "MaxCapacity": 6}])
    assert rollback_desired_count(snapshot_with(2, scaling), live_count=5, deployed_count=2) == 5
    assert rollback_desired_count(snapshot_with(2, scaling), live_count=9, deployed_count=2) == 6
    assert rollback_desired_count(snapshot_with(2, scaling), live_count=4, deployed_count=4) == 2  # ours
    assert rollback_desired_count(snapshot_with(3, scaling), live_count=1, deployed_count=2) == 3


@pytest.mark.parametrize(
    ("unit", "instances", "current", "expected"),
    [("Count", 7, 2, 7), ("Percentage", 50, 5, 3), ("Percentage", 200, 3, 6), ("Percentage", 0, 4, 0)],
)
def test_scale_counts(unit: Any, instances: int, current: int, expected: int) -> None:
    assert desired_count(ScaleOptions(instances=instances, instance_unit=unit), current) == expected


def test_scale_refuses_a_negative_count() -> None:
    with pytest.raises(DeploymentError, match="0 or more"):
        desired_count(ScaleOptions(instances=-1), 2)


def task(status: str, *containers: dict[str, Any], reason: str = "") -> dict[str, Any]:
    return {
        "taskArn": "arn:aws:ecs:us-east-1:123456789012:task/c/abc",
        "lastStatus": status,
        "stoppedReason": reason,
        "containers": list(containers),
    }


def test_a_task_is_fine_while_running_and_when_its_essential_containers_exit_0() -> None:
    assert task_failure(task("RUNNING", {"name": "app"}), {"app"}) is None
    done = task("STOPPED", {"name": "app", "exitCode": 0}, {"name": "log", "exitCode": 1}, reason="x")
    assert task_failure(done, {"app"}) is None


def test_a_task_fails_naming_the_container_and_the_exit_code() -> None:
    failed = task("STOPPED", {"name": "app", "exitCode": 2}, reason="Essential container in task exited")
    assert task_failure(failed, {"app"}) == (
        "Task abc failed: container app exited with code 2 (Essential container in task exited)"
    )


def test_a_task_that_never_ran_fails_with_ecs_reason() -> None:
    pulled = task(
        "STOPPED",
        {"name": "app", "reason": "CannotPullContainerError: pull access denied"},
        reason="CannotPullContainerError: pull access denied",
    )
    message = task_failure(pulled, {"app"})
    assert message is not None and "container app: CannotPullContainerError: pull access denied" in message
