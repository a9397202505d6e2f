"""Done means done: the verdict on a service description, as ECS reports it."""

from __future__ import annotations

from typing import Any

from corral.ecs.steady_state import failure_threshold, judge

OURS = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:2"
OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:1"


def service(*deployments: dict[str, Any], status: str = "ACTIVE") -> dict[str, Any]:
    return {"serviceName": "web", "status": status, "deployments": list(deployments), "events": []}


def deployment(id_: str, status: str, task_definition: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": id_,
        "status": status,
        "taskDefinition": task_definition,
        "desiredCount": 4,
        "runningCount": 4,
        **fields,
    }


def test_completed_primary_that_is_ours_is_done() -> None:
    verdict = judge(
        service(deployment("ecs-svc/2", "PRIMARY", OURS, rolloutState="COMPLETED")),
        deployment_id="ecs-svc/2",
        task_definition_arn=OURS,
    )
    assert verdict.done and verdict.failure is None


def test_in_progress_reports_running_over_desired() -> None:
    verdict = judge(
        service(
            deployment("ecs-svc/2", "PRIMARY", OURS, rolloutState="IN_PROGRESS", runningCount=1),
            deployment("ecs-svc/1", "ACTIVE", OLD, rolloutState="COMPLETED"),
        ),
        deployment_id="ecs-svc/2",
        task_definition_arn=OURS,
    )
    assert not verdict.done and verdict.failure is None
    assert verdict.progress == "Waiting for pending tasks to finish. 1/4 running ..."


def test_circuit_breaker_rollback_is_a_failure_not_a_success() -> None:
    # The SDK waiter and several tools report this as a success once the old revision is steady again.
    verdict = judge(
        service(
            deployment(
                "ecs-svc/3",
                "PRIMARY",
                OLD,
                rolloutState="COMPLETED",
                rolloutStateReason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.",
            ),
            deployment(
                "ecs-svc/2",
                "ACTIVE",
                OURS,
                rolloutState="FAILED",
                rolloutStateReason="ECS deployment circuit breaker: tasks failed to start.",
            ),
        ),
        deployment_id="ecs-svc/2",
        task_definition_arn=OURS,
    )
    assert not verdict.done
    assert (
        verdict.failure
        == "Deployment ecs-svc/2 failed: ECS deployment circuit breaker: tasks failed to start."
    )


def test_rolled_back_primary_without_our_deployment_left_is_a_failure() -> None:
    verdict = judge(
        service(
            deployment(
                "ecs-svc/3",
                "PRIMARY",
                OLD,
                rolloutState="COMPLETED",
                rolloutStateReason="ECS deployment circuit breaker: rolling back to deploymentId ecs-svc/1.",
            )
        ),
        deployment_id="ecs-svc/2",
        task_definition_arn=OURS,
    )
    assert verdict.failure is not None and "rolling back to deploymentId ecs-svc/1" in verdict.failure


def test_tasks_that_keep_failing_fail_without_a_circuit_breaker() -> None:
    verdict = judge(
        service(
            deployment(
                "ecs-svc/2", "PRIMARY", OURS, rolloutState="IN_PROGRESS", failedTasks=3, runningCount=0
            )
        ),
        deployment_id="ecs-svc/2",
        task_definition_arn=OURS,
    )
    assert verdict.failure == "Tasks keep failing: 3 tasks of deployment ecs-svc/2 failed"


def test_service_without_rollout_state_needs_one_deployment_at_desired_count() -> None:
    two = service(deployment("a", "PRIMARY", OURS), deployment("b", "ACTIVE", OLD))
    assert not judge(two, deployment_id=None, task_definition_arn=OURS).done
    one = service(deployment("a", "PRIMARY", OURS))
    assert judge(one, deployment_id=None, task_definition_arn=OURS).done


def test_draining_service_fails() -> None:
    verdict = judge(service(status="DRAINING"), deployment_id=None, task_definition_arn=OURS)
    assert verdict.failure == "Service web is DRAINING"


def test_failure_threshold_is_the_circuit_breakers() -> None:
    assert [failure_threshold(d) for d in (1, 6, 10, 1000)] == [3, 3, 5, 200]


def test_a_completed_deployment_is_not_done_until_a_new_desired_count_runs() -> None:
    # UpdateService(desiredCount) alone starts no deployment: the PRIMARY stays COMPLETED
    scaled = service(deployment("ecs-svc/2", "PRIMARY", OURS, rolloutState="COMPLETED", runningCount=2))
    scaled["desiredCount"] = 4
    verdict = judge(scaled, deployment_id="ecs-svc/2", task_definition_arn=OURS)
    assert not verdict.done and verdict.progress == "Waiting for pending tasks to finish. 2/4 running ..."
    scaled["deployments"][0]["runningCount"] = 4
    assert judge(scaled, deployment_id="ecs-svc/2", task_definition_arn=OURS).done


def test_a_deployment_ecs_already_dropped_is_explained_from_the_events() -> None:
    # once ECS's rollback completes, the failed deployment is gone from the array
    rolled_back = service(
        deployment(
            "ecs-svc/3",
            "PRIMARY",
            OLD,
            rolloutState="COMPLETED",
            rolloutStateReason="ECS deployment ecs-svc/3 completed.",
        )
    )
    rolled_back["events"] = [
        {"id": "2", "message": "(service web) rolling back to deployment ecs-svc/1."},
        {
            "id": "1",
            "message": "(service web) (deployment ecs-svc/2) deployment failed: tasks failed to start.",
        },
    ]
    verdict = judge(rolled_back, deployment_id="ecs-svc/2", task_definition_arn=OURS)
    assert verdict.failure is not None
    assert verdict.failure.startswith("Deployment ecs-svc/2 failed: tasks failed to start.")
    assert "circuit breaker rolled back" in verdict.failure
