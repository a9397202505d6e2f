"""The deployment circuit breaker, with and without rollback, and tasks that fail to start."""

from __future__ import annotations

import itertools
import time
from typing import Any

import pytest

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_ecs_support import (
    FAST_HEALTH_CHECK,
    describe,
    describe_tasks,
    fargate_definition,
    fargate_service,
    messages,
    task_ids,
    wait_completed,
)

BREAKER_FAILED = "ECS deployment circuit breaker: tasks failed to start."


def healthy_service(sandbox: Sandbox) -> tuple[Any, str, str]:
    """A service of 2 healthy tasks, and a second revision whose image fails its health check."""
    sandbox.admin.set_images({"image": "web:broken", "healthCheck": "fail"})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    good = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
    fargate_service(ecs, "apps", "web", good, 2)
    wait_completed(ecs, "apps", "web", good)
    broken = fargate_definition(ecs, "web", "web:broken", health_check=FAST_HEALTH_CHECK)
    return ecs, good, broken


def wait_failed(ecs: Any) -> dict[str, Any]:
    def failed() -> dict[str, Any] | None:
        service = describe(ecs, "apps", "web")
        return service if any(d["rolloutState"] == "FAILED" for d in service["deployments"]) else None

    return wait_until(failed, message="the deployment to fail")


@pytest.mark.sandbox(speed=10)  # the FAILED deployment is visible until the rollback completes
def test_circuit_breaker_rolls_back_to_the_last_completed_deployment(sandbox: Sandbox) -> None:
    ecs, good, broken = healthy_service(sandbox)
    completed_id = describe(ecs, "apps", "web")["deployments"][0]["id"]
    updated = ecs.update_service(
        cluster="apps",
        service="web",
        taskDefinition=broken,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}},
    )["service"]
    failed_id = updated["deployments"][0]["id"]

    service = wait_failed(ecs)
    primary, *others = service["deployments"]
    failed = next(d for d in others if d["id"] == failed_id)
    assert (failed["status"], failed["rolloutState"]) == ("ACTIVE", "FAILED")
    assert failed["rolloutStateReason"] == BREAKER_FAILED
    assert failed["failedTasks"] >= 3, "threshold: ceil(0.5 * 2) clamped to at least 3"
    assert primary["id"] not in (failed_id, completed_id)
    assert primary["taskDefinition"] == good
    assert primary["rolloutState"] == "IN_PROGRESS"
    assert primary["rolloutStateReason"] == (
        f"ECS deployment circuit breaker: rolling back to deploymentId {completed_id}."
    )
    assert service["taskDefinition"] == good
    events = messages(service)
    failed_event = events.index(
        f"(service web) (deployment {failed_id}) deployment failed: tasks failed to start."
    )
    assert events[failed_event + 1] == f"(service web) rolling back to deployment {completed_id}."
    assert any(e.endswith("failed container health checks.") for e in events[:failed_event])

    done = wait_completed(ecs, "apps", "web", good)
    assert done["deployments"][0]["id"] == primary["id"]
    stopped = describe_tasks(ecs, "apps", task_ids(ecs, "apps", startedBy=failed_id, desiredStatus="STOPPED"))
    unhealthy = [t for t in stopped if t["stoppedReason"] == "Task failed container health checks"]
    assert len(unhealthy) >= 3 and all(t["healthStatus"] == "UNHEALTHY" for t in unhealthy)


@pytest.mark.sandbox(speed=50)
def test_circuit_breaker_without_rollback_stops_launching(sandbox: Sandbox) -> None:
    ecs, _, broken = healthy_service(sandbox)
    completed_id = describe(ecs, "apps", "web")["deployments"][0]["id"]
    ecs.update_service(
        cluster="apps",
        service="web",
        taskDefinition=broken,
        deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": False}},
    )
    service = wait_failed(ecs)
    primary, old = service["deployments"]
    assert (primary["status"], primary["rolloutState"], primary["rolloutStateReason"]) == (
        "PRIMARY",
        "FAILED",
        BREAKER_FAILED,
    )
    assert (old["id"], old["runningCount"]) == (completed_id, 2), "the old tasks keep running"
    launched = len(task_ids(ecs, "apps", startedBy=primary["id"], desiredStatus="STOPPED")) + len(
        task_ids(ecs, "apps", startedBy=primary["id"])
    )
    sandbox.admin.advance(300)
    assert task_ids(ecs, "apps", startedBy=primary["id"]) == []
    assert len(task_ids(ecs, "apps", startedBy=primary["id"], desiredStatus="STOPPED")) == launched
    later = describe(ecs, "apps", "web")
    assert [d["rolloutState"] for d in later["deployments"]] == ["FAILED", "COMPLETED"]
    assert not any("rolling back" in m for m in messages(later))


@pytest.mark.sandbox(speed=50)
@pytest.mark.parametrize("busy", [False, True], ids=["idle", "busy"])
def test_tasks_that_cannot_pull_are_retried_with_back_off(sandbox: Sandbox, busy: bool) -> None:
    """The sandbox retries at once twice, then waits 10, 20, 40 s (its own schedule: AWS publishes
    only the 15-minute maximum, checked in test_aws_service_events.py); a busy machine (timers
    firing late) must not stretch or shrink those waits."""
    sandbox.admin.set_images(
        {"image": "web:missing", "pullFailure": "pull access denied for web, repository does not exist"}
    )
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    definition = fargate_definition(ecs, "web", "web:missing")
    fargate_service(ecs, "apps", "web", definition, 1)
    if busy:  # the first failure and the retry fall due while the sandbox cannot run them
        with sandbox.world.lock:
            time.sleep(1.5)

    def five_attempts() -> dict[str, Any] | None:
        service = describe(ecs, "apps", "web")
        starts = [e for e in service["events"] if "has started 1 tasks" in e["message"]]
        return service if len(starts) >= 5 else None

    service = wait_until(five_attempts, timeout=30, message="five attempts to start a task")
    events = messages(service)
    assert "(service web) is unable to consistently start tasks successfully." in events
    assert (
        "(service web) was unable to place a task. Reason: CannotPullContainerError: "
        "pull access denied for web, repository does not exist" in events
    )
    stopped = describe_tasks(ecs, "apps", task_ids(ecs, "apps", serviceName="web", desiredStatus="STOPPED"))
    assert len(stopped) >= 4
    for task in stopped:
        assert task["stopCode"] == "TaskFailedToStart"
        assert task["stoppedReason"].startswith("CannotPullContainerError: pull access denied")
        assert task.get("startedAt") is None
        assert task["containers"][0]["reason"].startswith("CannotPullContainerError")
    starts = sorted(e["createdAt"] for e in service["events"] if "has started 1 tasks" in e["message"])
    gaps = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts)]
    pull = gaps[0]  # an attempt lasts as long as the pull takes to fail
    assert 0 < pull < 10
    assert gaps[:4] == pytest.approx([pull, pull, pull + 10, pull + 20], abs=0.5), f"back-off: {gaps}"
