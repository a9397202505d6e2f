"""The verdict on an ECS service deployment, over DescribeServiceDeployments answers.

Each answer is written in the shape of botocore's ECS model (checked against its output shape
here, so a misspelt or invented field fails the test), as ECS describes a native blue/green
deployment at the points a user meets: test traffic shifted, a PAUSE hook awaiting action,
bake time, success, and each way ECS ends one badly (circuit breaker, alarm, hook, stop).
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import botocore.session
import pytest
from botocore.validate import ParamValidator

from corral.ecs.native.judge import WAIT_UNTIL, judge
from corral.ecs.native.progress import progress_text

ARN = "arn:aws:ecs:us-east-1:123456789012:service-deployment/corral/web/Kd3hR9qPz1"
SERVICE = "arn:aws:ecs:us-east-1:123456789012:service/corral/web"
OLD = "arn:aws:ecs:us-east-1:123456789012:service-revision/corral/web/1111111111"
NEW = "arn:aws:ecs:us-east-1:123456789012:service-revision/corral/web/2222222222"
T0 = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)


def _validated(answer: dict[str, Any]) -> dict[str, Any]:
    """The answer fits botocore's output shape: members, types and (ParamValidator skips them) enums."""
    model = botocore.session.get_session().get_service_model("ecs")
    shape = model.operation_model("DescribeServiceDeployments").output_shape
    report = ParamValidator().validate(answer, shape)
    assert not report.has_errors(), report.generate_report()
    _check_enums(shape, answer, "answer")
    return answer


def _check_enums(shape: Any, value: Any, path: str) -> None:
    if shape.type_name == "string" and shape.enum:
        assert value in shape.enum, f"{path}: {value!r} is not one of {shape.enum}"
    elif shape.type_name == "structure" and isinstance(value, dict):
        for name, member in shape.members.items():
            if name in value:
                _check_enums(member, value[name], f"{path}.{name}")
    elif shape.type_name == "list":
        for index, item in enumerate(value):
            _check_enums(shape.member, item, f"{path}[{index}]")


def answer(**deployment: Any) -> dict[str, Any]:
    """A DescribeServiceDeployments answer of one BLUE_GREEN deployment, changed by `deployment`."""
    base: dict[str, Any] = {
        "serviceDeploymentArn": ARN,
        "serviceArn": SERVICE,
        "clusterArn": "arn:aws:ecs:us-east-1:123456789012:cluster/corral",
        "createdAt": T0,
        "startedAt": T0,
        "updatedAt": T0,
        "sourceServiceRevisions": [
            {
                "arn": OLD,
                "requestedTaskCount": 2,
                "runningTaskCount": 2,
                "pendingTaskCount": 0,
                "requestedProductionTrafficWeight": 100.0,
                "requestedTestTrafficWeight": 0.0,
            }
        ],
        "targetServiceRevision": {
            "arn": NEW,
            "requestedTaskCount": 2,
            "runningTaskCount": 2,
            "pendingTaskCount": 0,
            "requestedProductionTrafficWeight": 0.0,
            "requestedTestTrafficWeight": 100.0,
        },
        "status": "IN_PROGRESS",
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "deploymentConfiguration": {
            "deploymentCircuitBreaker": {"enable": True, "rollback": True},
            "maximumPercent": 200,
            "minimumHealthyPercent": 100,
            "strategy": "BLUE_GREEN",
            "bakeTimeInMinutes": 5,
        },
        "deploymentCircuitBreaker": {"status": "MONITORING", "failureCount": 0, "threshold": 3},
        "alarms": {"status": "DISABLED"},
    }
    base.update(deployment)
    return _validated({"serviceDeployments": [base], "failures": []})


def paused_hook(status: str = "AWAITING_ACTION") -> dict[str, Any]:
    return {
        "hookId": "check-test-traffic",
        "targetType": "PAUSE",
        "status": status,
        "expiresAt": T0 + dt.timedelta(hours=1),
        "timeoutAction": "ROLLBACK",
    }


def production(weight: float) -> dict[str, Any]:
    target = copy.deepcopy(answer()["serviceDeployments"][0]["targetServiceRevision"])
    target["requestedProductionTrafficWeight"] = weight
    return target


def test_in_progress_is_neither_done_nor_failed_and_says_stage_weights_and_tasks() -> None:
    verdict = judge(answer(), service_deployment_arn=ARN)

    assert not verdict.done and verdict.failure is None
    assert verdict.progress == (
        "Service deployment Kd3hR9qPz1 IN_PROGRESS, stage POST_TEST_TRAFFIC_SHIFT: production traffic "
        "0% new / 100% old; test traffic 100% new; new revision 2/2 tasks running"
    )


def test_successful_is_done() -> None:
    verdict = judge(
        answer(status="SUCCESSFUL", lifecycleStage="CLEAN_UP", finishedAt=T0), service_deployment_arn=ARN
    )

    assert verdict.done and verdict.settled and verdict.failure is None


def test_successful_on_another_revision_than_the_step_asked_for_fails() -> None:
    verdict = judge(answer(status="SUCCESSFUL"), service_deployment_arn=ARN, revision_arn=OLD)

    assert not verdict.done
    assert verdict.failure is not None and NEW in verdict.failure and OLD in verdict.failure


def test_a_pause_hook_awaiting_action_ends_a_wait_until_paused_only() -> None:
    paused = answer(lifecycleHookDetails=[paused_hook()])

    until_paused = judge(paused, service_deployment_arn=ARN, until="PAUSED")
    until_done = judge(paused, service_deployment_arn=ARN)

    assert until_paused.done and until_paused.paused_hook_ids == ("check-test-traffic",)
    assert not until_done.done and until_done.failure is None
    assert (
        "hook check-test-traffic (PAUSE) AWAITING_ACTION, waiting for ContinueServiceDeployment "
        "(expires at 13:00:00 UTC, then ECS will ROLLBACK)" in until_done.progress
    )


def test_a_hook_that_succeeded_does_not_end_a_wait_until_paused() -> None:
    verdict = judge(
        answer(lifecycleHookDetails=[paused_hook("SUCCEEDED")]), service_deployment_arn=ARN, until="PAUSED"
    )

    assert not verdict.done and verdict.paused_hook_ids == ()


@pytest.mark.parametrize(
    ("stage", "until", "done"),
    [
        ("TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", False),
        ("POST_TEST_TRAFFIC_SHIFT", "POST_TEST_TRAFFIC_SHIFT", True),
        ("BAKE_TIME", "PRODUCTION_TRAFFIC_SHIFT", True),  # a stage passed between two looks
        ("SCALE_UP", "BAKE_TIME", False),
    ],
)
def test_waiting_until_a_stage_is_done_at_that_stage_or_a_later_one(
    stage: str, until: str, done: bool
) -> None:
    verdict = judge(answer(lifecycleStage=stage), service_deployment_arn=ARN, until=until)

    assert verdict.done is done and verdict.failure is None


def test_every_wait_ends_when_the_deployment_succeeded() -> None:
    succeeded = answer(status="SUCCESSFUL", lifecycleStage="CLEAN_UP")

    assert all(judge(succeeded, service_deployment_arn=ARN, until=until).done for until in WAIT_UNTIL)


def test_circuit_breaker_rollback_fails_with_ecs_reason_once_ecs_has_rolled_back() -> None:
    breaker = {"status": "TRIGGERED", "failureCount": 3, "threshold": 3}
    reason = "Service deployment rolled back because the circuit breaker threshold was exceeded."
    rollback = {"reason": reason, "startedAt": T0, "serviceRevisionArn": OLD}

    rolling_back = judge(
        answer(status="ROLLBACK_IN_PROGRESS", deploymentCircuitBreaker=breaker, rollback=rollback),
        service_deployment_arn=ARN,
    )
    rolled_back = judge(
        answer(status="ROLLBACK_SUCCESSFUL", deploymentCircuitBreaker=breaker, rollback=rollback),
        service_deployment_arn=ARN,
    )

    assert rolling_back.failure is not None and not rolling_back.settled and not rolling_back.done
    assert rolled_back.settled and not rolled_back.done
    assert rolled_back.failure == (
        f"ECS rolled back service deployment Kd3hR9qPz1: {reason}; the deployment circuit breaker "
        f"triggered (3 failed tasks, threshold 3). The service runs revision {OLD} again."
    )


def test_alarm_rollback_names_the_alarm_and_status_reason() -> None:
    verdict = judge(
        answer(
            status="ROLLBACK_SUCCESSFUL",
            lifecycleStage="BAKE_TIME",
            statusReason="Rollback initiated by alarm",
            alarms={"status": "TRIGGERED", "alarmNames": ["web-5xx"], "triggeredAlarmNames": ["web-5xx"]},
        ),
        service_deployment_arn=ARN,
    )

    assert verdict.failure is not None and verdict.settled
    assert "Rollback initiated by alarm" in verdict.failure
    assert "CloudWatch alarm web-5xx went into ALARM" in verdict.failure


def test_a_failed_lambda_hook_and_a_timed_out_pause_are_named() -> None:
    hooks = [
        {
            "hookId": "smoke",
            "targetType": "AWS_LAMBDA",
            "targetArn": "arn:aws:lambda:us-east-1:123456789012:function:smoke",
            "status": "FAILED",
        },
        paused_hook("TIMED_OUT"),
    ]
    verdict = judge(answer(status="ROLLBACK_FAILED", lifecycleHookDetails=hooks), service_deployment_arn=ARN)

    assert verdict.failure is not None and verdict.settled
    assert verdict.failure.startswith(
        "ECS could not roll back service deployment Kd3hR9qPz1: the rollback failed:"
    )
    assert (
        "lifecycle hook smoke (AWS_LAMBDA arn:aws:lambda:us-east-1:123456789012:function:smoke) failed"
        in (verdict.failure)
    )
    assert "lifecycle hook check-test-traffic (PAUSE) timed out" in verdict.failure


def test_stopped_fails_settled_and_stop_requested_fails_unsettled() -> None:
    stopping = judge(answer(status="STOP_REQUESTED"), service_deployment_arn=ARN)
    stopped = judge(
        answer(status="STOPPED", statusReason="Stopped by StopServiceDeployment"), service_deployment_arn=ARN
    )

    assert stopping.failure is not None and not stopping.settled
    assert stopped.failure == "Service deployment Kd3hR9qPz1 was stopped: Stopped by StopServiceDeployment."


def test_an_unknown_arn_fails_with_ecs_failure_entry() -> None:
    missing = _validated({"serviceDeployments": [], "failures": [{"arn": ARN, "reason": "MISSING"}]})

    verdict = judge(missing, service_deployment_arn=ARN)

    assert verdict.failure == "ECS cannot describe service deployment Kd3hR9qPz1: MISSING" and verdict.settled


def test_bake_time_left_counts_down_from_the_stage_start() -> None:
    baking = answer(
        lifecycleStage="BAKE_TIME",
        targetServiceRevision=production(100.0),
        sourceServiceRevisions=[{"arn": OLD, "requestedProductionTrafficWeight": 0.0}],
    )["serviceDeployments"][0]

    text = progress_text(baking, now=T0 + dt.timedelta(seconds=90), state_since=T0)

    assert "production traffic 100% new / 0% old" in text and text.endswith("bake time left 3m 30s")


def test_linear_step_bake_is_shown_between_traffic_steps() -> None:
    config = {
        "strategy": "LINEAR",
        "linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2},
    }
    shifting = answer(
        lifecycleStage="PRODUCTION_TRAFFIC_SHIFT",
        deploymentConfiguration=config,
        targetServiceRevision=production(25.0),
        sourceServiceRevisions=[{"arn": OLD, "requestedProductionTrafficWeight": 75.0}],
    )["serviceDeployments"][0]

    text = progress_text(shifting, now=T0 + dt.timedelta(seconds=30), state_since=T0)

    assert "production traffic 25% new / 75% old" in text and text.endswith("bake time left 1m 30s")


def test_only_a_change_of_state_is_news_not_the_clock() -> None:
    baking = answer(lifecycleStage="BAKE_TIME")
    first = judge(baking, service_deployment_arn=ARN, now=T0, state_since=T0)
    later = judge(baking, service_deployment_arn=ARN, now=T0 + dt.timedelta(seconds=30), state_since=T0)
    shifted = judge(answer(lifecycleStage="CLEAN_UP"), service_deployment_arn=ARN)

    assert first.progress != later.progress and first.state == later.state
    assert shifted.state != first.state


def test_an_unknown_until_is_refused() -> None:
    with pytest.raises(ValueError, match="PAUSED"):
        judge(answer(), service_deployment_arn=ARN, until="PAUSE")


def test_no_bake_time_is_shown_while_a_hook_holds_the_deployment() -> None:
    held = answer(lifecycleStage="BAKE_TIME", lifecycleHookDetails=[paused_hook()])["serviceDeployments"][0]

    text = progress_text(held, now=T0 + dt.timedelta(seconds=90), state_since=T0)

    assert "AWAITING_ACTION" in text and "bake time left" not in text
