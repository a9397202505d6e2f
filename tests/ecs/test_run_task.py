"""ECS Run Task against the sandbox: tasks that run, batch tasks that finish, tasks that fail."""

from __future__ import annotations

from typing import Any

import pytest

from corral.ecs.context import StepTimedOut
from corral.ecs.run_task import RunTaskOptions, failure_lines, run_task
from corral.ecs.target import EcsTarget
from corral.errors import DeploymentError

from .support import EcsEnv, task_definition

pytestmark = pytest.mark.sandbox(speed=200)


def job(env: EcsEnv, image: str, *, count: int = 1, **request: Any) -> EcsTarget:
    return EcsTarget(
        cluster=env.cluster,
        task_definition=task_definition("job", image),
        run_task_request={
            "launchType": "FARGATE",
            "networkConfiguration": env.network,
            "count": count,
            **request,
        },
    )


def test_a_batch_task_that_exits_0_succeeds_with_its_exit_code(env: EcsEnv) -> None:
    env.admin.set_images({"image": "job:ok", "exitCode": 0, "exitAfter": 5})
    ctx = env.context()

    result = run_task(ctx, job(env, "job:ok"), RunTaskOptions(wait_for_exit=True))

    (arn,) = result.outputs["runTaskArns"]
    assert result.outputs["exitCodes"] == {arn: {"app": 0}}
    task = env.ecs.describe_tasks(cluster=env.cluster, tasks=[arn])["tasks"][0]
    assert task["lastStatus"] == "STOPPED" and task["startedBy"] == result.outputs["startedBy"]
    assert task["taskDefinitionArn"] == result.outputs["taskDefinitionArn"]
    assert result.outputs["instances"][0]["taskArn"] == arn
    assert env.checkpoint == {"cluster": env.cluster, "startedBy": result.outputs["startedBy"]}
    assert "Deployment Successful." in ctx.log.text()


def test_a_batch_task_that_finishes_before_it_is_seen_running_is_done(env: EcsEnv) -> None:
    # the reference waits for RUNNING forever here
    env.admin.set_images({"image": "job:quick", "exitCode": 0, "exitAfter": 0})

    result = run_task(env.context(timeout=20), job(env, "job:quick"), RunTaskOptions())

    assert len(result.outputs["runTaskArns"]) == 1


def test_a_long_running_task_succeeds_once_running(env: EcsEnv) -> None:
    result = run_task(env.context(), job(env, "worker:1", count=2), RunTaskOptions())

    assert [i["lastStatus"] for i in result.outputs["instances"]] == ["RUNNING", "RUNNING"]
    assert result.outputs["exitCodes"] == {}


def test_a_non_zero_exit_fails_naming_the_container_and_the_code(env: EcsEnv) -> None:
    env.admin.set_images({"image": "job:bad", "exitCode": 3, "exitAfter": 2})

    with pytest.raises(
        DeploymentError, match=r"container app exited with code 3 \(Essential container in task exited\)"
    ):
        run_task(env.context(), job(env, "job:bad"), RunTaskOptions(wait_for_exit=True))


def test_a_failing_task_fails_the_step_while_others_still_run(env: EcsEnv) -> None:
    env.admin.set_images({"image": "job:bad", "exitCode": 1, "exitAfter": 0})
    target = job(env, "job:bad", count=3)

    with pytest.raises(DeploymentError, match="container app exited with code 1"):
        run_task(env.context(), target, RunTaskOptions(wait_for_exit=True))


def test_an_image_that_cannot_be_pulled_fails_with_ecs_reason(env: EcsEnv) -> None:
    env.admin.set_images({"image": "job:private", "pullFailure": "pull access denied for job"})

    with pytest.raises(DeploymentError, match="CannotPullContainerError: pull access denied for job"):
        run_task(env.context(), job(env, "job:private"), RunTaskOptions())


def test_twelve_tasks_run_in_two_calls_with_one_started_by(env: EcsEnv) -> None:
    env.admin.clear_calls()

    result = run_task(env.context(), job(env, "worker:1", count=12), RunTaskOptions())

    arns = result.outputs["runTaskArns"]
    assert len(set(arns)) == 12
    assert env.admin.call_counts()["RunTask"] == 2
    listed = env.ecs.list_tasks(cluster=env.cluster, startedBy=result.outputs["startedBy"])["taskArns"]
    assert sorted(listed) == sorted(arns)
    # one DescribeTasks describes all twelve at a time
    assert env.admin.call_counts()["DescribeTasks"] < 12


def test_the_request_documents_started_by_is_kept(env: EcsEnv) -> None:
    result = run_task(env.context(), job(env, "worker:1", startedBy="nightly-migration"), RunTaskOptions())

    assert result.outputs["startedBy"] == "nightly-migration"


def test_skip_steady_state_check_returns_once_ecs_accepted_the_tasks(env: EcsEnv) -> None:
    env.admin.set_images({"image": "worker:slow", "startDelay": 3000})

    result = run_task(env.context(), job(env, "worker:slow"), RunTaskOptions(skip_steady_state_check=True))

    assert result.outputs["instances"][0]["lastStatus"] != "RUNNING"


def test_a_task_definition_arn_is_run_and_only_essential_containers_decide(env: EcsEnv) -> None:
    env.admin.set_images(
        {"image": "job:ok", "exitCode": 0, "exitAfter": 3},
        {"image": "sidecar:1", "exitCode": 2, "exitAfter": 1},
    )
    sidecar = {"name": "sidecar", "image": "sidecar:1", "essential": False}
    arn = env.ecs.register_task_definition(**task_definition("job", "job:ok", containers=[sidecar]))[
        "taskDefinition"
    ]["taskDefinitionArn"]
    target = job(env, "job:ok")
    target.task_definition, target.task_definition_arn = None, arn

    result = run_task(env.context(), target, RunTaskOptions(wait_for_exit=True))

    (codes,) = result.outputs["exitCodes"].values()
    assert codes == {"app": 0, "sidecar": 2}
    assert result.outputs["taskDefinitionArn"] == arn


def test_a_task_that_does_not_finish_in_time_times_out(env: EcsEnv) -> None:
    env.admin.set_images({"image": "worker:slow", "startDelay": 3000})

    with pytest.raises(StepTimedOut, match="Timed out waiting for tasks to be running: 0/1 running"):
        run_task(env.context(timeout=1.0), job(env, "worker:slow"), RunTaskOptions())


def test_run_task_failures_read_as_sentences() -> None:
    # The sandbox places every task it is asked for, so RunTask's failures[] is checked on its own.
    failures = [
        {"arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/c/1", "reason": "RESOURCE:MEMORY"},
        {"reason": "AGENT", "detail": "agent disconnected"},
    ]
    assert failure_lines(failures) == [
        "Failed to start a task: RESOURCE:MEMORY on arn:aws:ecs:us-east-1:123456789012:container-instance/c/1",
        "Failed to start a task: AGENT: agent disconnected",
    ]


def test_a_re_run_takes_the_tasks_its_first_attempt_started_and_starts_only_the_rest(env: EcsEnv) -> None:
    # the first attempt's process died after starting 2 of the 3 tasks
    first = run_task(env.context(), job(env, "worker:2", count=2, startedBy="corral-rerun"), RunTaskOptions())
    again = run_task(
        env.context(),
        job(env, "worker:2", count=3, startedBy="corral-rerun"),
        RunTaskOptions(adopt_started=True),
    )

    assert set(again.outputs["runTaskArns"][:2]) == set(first.outputs["runTaskArns"])
    listed = env.ecs.list_tasks(cluster=env.cluster, startedBy="corral-rerun")["taskArns"]
    assert sorted(listed) == sorted(again.outputs["runTaskArns"]), "3 tasks in all, not 5"
    third = run_task(
        env.context(),
        job(env, "worker:2", count=3, startedBy="corral-rerun"),
        RunTaskOptions(adopt_started=True),
    )
    assert sorted(third.outputs["runTaskArns"]) == sorted(again.outputs["runTaskArns"])
