"""LINEAR and CANARY weights, AWS_LAMBDA lifecycle hooks and CloudWatch alarm rollback of ECS's
native deployments in the sandbox (BLUE_GREEN's stages and PAUSE hooks: test_ecs_blue_green.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from corral.sandbox import Sandbox

from .helpers import python_zip, wait_until
from .test_ecs_blue_green import assert_restored, blue_service, deploy, running_ids
from .test_ecs_native_support import describe_deployment, rule_weights, wait_deployment
from .test_ecs_support import wait_completed

ROLE = "arn:aws:iam::123456789012:role/ecs-hooks"


def wait_weights(sandbox: Sandbox, ecs: Any, alb: Any, arn: str, expected: dict[str, int]) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        found = describe_deployment(ecs, arn)
        return found if rule_weights(alb, alb.production_rule) == expected else None

    return wait_until(reached, message=f"production weights {expected}")


def test_linear_moves_production_traffic_step_by_step(sandbox: Sandbox) -> None:
    ecs, alb, _ = blue_service(
        sandbox,
        strategy="LINEAR",
        bakeTimeInMinutes=0,
        linearConfiguration={"stepPercent": 40.0, "stepBakeTimeInMinutes": 5},
    )
    green, arn = deploy(ecs, "web:2")
    first = wait_weights(sandbox, ecs, alb, arn, {"blue": 60, "green": 40})
    assert first["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
    assert first["targetServiceRevision"]["requestedProductionTrafficWeight"] == 40.0
    sandbox.admin.advance(5 * 60)
    wait_weights(sandbox, ecs, alb, arn, {"blue": 20, "green": 80})
    sandbox.admin.advance(5 * 60)
    wait_deployment(ecs, arn, "SUCCESSFUL")
    assert rule_weights(alb, alb.production_rule) == {"blue": 0, "green": 100}
    wait_completed(ecs, "apps", "web", green)


@pytest.mark.parametrize(
    ("percent", "canary_weights"),
    [(10.0, {"blue": 90, "green": 10}), (0.5, {"blue": 995, "green": 5})],
    ids=["whole", "fraction"],
)
def test_canary_shifts_its_percent_then_the_rest(
    sandbox: Sandbox, percent: float, canary_weights: dict[str, int]
) -> None:
    ecs, alb, _ = blue_service(
        sandbox,
        strategy="CANARY",
        bakeTimeInMinutes=0,
        canaryConfiguration={"canaryPercent": percent, "canaryBakeTimeInMinutes": 10},
    )
    _, arn = deploy(ecs, "web:2")
    canary = wait_weights(sandbox, ecs, alb, arn, canary_weights)
    assert canary["targetServiceRevision"]["requestedProductionTrafficWeight"] == percent
    sandbox.admin.advance(10 * 60)
    wait_deployment(ecs, arn, "SUCCESSFUL")
    assert rule_weights(alb, alb.production_rule) == {"blue": 0, "green": 100}


# ---------------------------------------------------------------------- AWS_LAMBDA hooks

CHECKING_HOOK = """
def handler(event, context):
    details = event["executionDetails"]
    target = details["targetServiceRevisionArn"]
    ok = (
        details["testTrafficWeights"][target] == 100
        and details["productionTrafficWeights"][target] == 0
        and event["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
        and event["hookDetails"] == {"path": "/health"}
    )
    return {"hookStatus": "SUCCEEDED" if ok else "FAILED"}
"""


def lambda_hook(sandbox: Sandbox, name: str, source: str, stage: str, **extra: Any) -> dict[str, Any]:
    created = sandbox.client("lambda").create_function(
        FunctionName=name,
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={"ZipFile": python_zip(source)},
    )
    return {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": created["FunctionArn"],
        "roleArn": ROLE,
        "lifecycleStages": [stage],
        **extra,
    }


def test_lambda_hook_gets_ecs_payload_and_its_success_continues(sandbox: Sandbox) -> None:
    hook = lambda_hook(
        sandbox, "nsb-check", CHECKING_HOOK, "POST_TEST_TRAFFIC_SHIFT", hookDetails={"path": "/health"}
    )
    ecs, alb, _ = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[hook])
    green, arn = deploy(ecs, "web:2")
    done = wait_deployment(ecs, arn, "SUCCESSFUL")
    (detail,) = done["lifecycleHookDetails"]
    assert (detail["targetType"], detail["status"], detail["targetArn"]) == (
        "AWS_LAMBDA",
        "SUCCEEDED",
        hook["hookTargetArn"],
    )
    [call] = sandbox.admin.invocations("nsb-check")
    assert call["via"] == "ecs" and call["answer"] == {"hookStatus": "SUCCEEDED"}
    assert call["event"]["resourceArn"] == arn
    assert rule_weights(alb, alb.production_rule) == {"blue": 0, "green": 100}
    wait_completed(ecs, "apps", "web", green)


def test_lambda_hook_in_progress_is_called_again_after_its_call_back_delay(sandbox: Sandbox) -> None:
    hook = lambda_hook(sandbox, "nsb-poll", "def handler(e, c):\n    return {}\n", "PRE_SCALE_UP")
    # an hour between calls: nothing moves until the clock is jumped past it
    sandbox.admin.set_functions({"function": "nsb-poll", "inProgressTimes": 1, "callBackDelay": 3600})
    ecs, _, _ = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[hook])
    _, arn = deploy(ecs, "web:2")
    wait_until(lambda: sandbox.admin.invocations("nsb-poll"), message="the first hook call")
    waiting = describe_deployment(ecs, arn)
    assert (waiting["status"], waiting["lifecycleStage"]) == ("IN_PROGRESS", "PRE_SCALE_UP")
    assert waiting["lifecycleHookDetails"][0]["status"] == "IN_PROGRESS"
    assert len(sandbox.admin.invocations("nsb-poll")) == 1
    sandbox.admin.advance(3600)
    wait_deployment(ecs, arn, "SUCCESSFUL")
    calls = sandbox.admin.invocations("nsb-poll")
    assert [c["answer"]["hookStatus"] for c in calls] == ["IN_PROGRESS", "SUCCEEDED"]
    assert calls[1]["sandboxTime"] - calls[0]["sandboxTime"] > 3000, "called again only after the delay"


@pytest.mark.parametrize(
    "behaviour",
    [
        {"hookStatus": "FAILED"},
        {"error": "smoke test failed", "errorType": "CheckFailed"},
        {"answer": {"ok": 1}},
    ],
    ids=["failed", "raised", "no-hook-status"],
)
def test_failing_lambda_hook_rolls_back_to_blue(sandbox: Sandbox, behaviour: dict[str, Any]) -> None:
    hook = lambda_hook(sandbox, "nsb-gate", "def handler(e, c):\n    return {}\n", "POST_TEST_TRAFFIC_SHIFT")
    sandbox.admin.set_functions({"function": "nsb-gate", **behaviour})
    ecs, alb, blue = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[hook])
    blue_tasks = running_ids(ecs, blue)
    _, arn = deploy(ecs, "web:2")
    done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert done["lifecycleHookDetails"][0]["status"] == "FAILED"
    assert "nsb-gate" in done["rollback"]["reason"]
    assert_restored(ecs, alb, blue, blue_tasks)


# ---------------------------------------------------------------------- alarms


def test_alarm_in_alarm_during_bake_rolls_back(sandbox: Sandbox) -> None:
    cloudwatch = sandbox.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="nsb-5xx",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="nsb-5xx", StateValue="OK", StateReason="quiet")
    ecs, alb, blue = blue_service(
        sandbox,
        bakeTimeInMinutes=30,
        alarms={"alarmNames": ["nsb-5xx"], "enable": True, "rollback": True},
    )
    blue_tasks = running_ids(ecs, blue)
    _, arn = deploy(ecs, "web:2")
    baking = wait_deployment(ecs, arn, "IN_PROGRESS", stage="BAKE_TIME")
    assert baking["alarms"] == {"status": "MONITORING", "alarmNames": ["nsb-5xx"], "triggeredAlarmNames": []}
    cloudwatch.set_alarm_state(AlarmName="nsb-5xx", StateValue="ALARM", StateReason=json.dumps("errors"))
    sandbox.admin.advance(60)
    done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert done["alarms"]["status"] == "TRIGGERED"
    assert done["alarms"]["triggeredAlarmNames"] == ["nsb-5xx"]
    assert "nsb-5xx" in done["rollback"]["reason"]
    assert_restored(ecs, alb, blue, blue_tasks)
