"""LINEAR and CANARY weights, AWS_LAMBDA lifecycle hooks and CloudWatch alarm rollback of ECS's
native deployments in the sandbox (BLUE_GREEN's stages and PAUSE hooks: test_ecs_blue_green.py)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from corral.sandbox import Sandbox

from .helpers import python_zip, wait_until
from .test_ecs_blue_green import assert_restored, blue_service, deploy, running_ids
from .test_ecs_events import subscribe, unsubscribe
from .test_ecs_native_support import describe_deployment, rule_weights, wait_deployment
from .test_ecs_support import task_ids, wait_completed

ROLE = "arn:aws:iam::123456789012:role/ecs-hooks"


def wait_weights(sandbox: Sandbox, ecs: Any, alb: Any, arn: str, expected: dict[str, int]) -> dict[str, Any]:
    def reached() -> dict[str, Any] | None:
        # the rule first, then the deployment: described first, it could predate the shift seen
        if rule_weights(alb, alb.production_rule) != expected:
            return None
        return describe_deployment(ecs, arn)

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


# ---------------------------------------------------------------------- PAUSE hooks: defaults, parallel, per step


def awaiting_hooks(ecs: Any, arn: str, count: int) -> list[dict[str, Any]]:
    def found() -> list[dict[str, Any]] | None:
        hooks = describe_deployment(ecs, arn).get("lifecycleHookDetails") or []
        waiting = [h for h in hooks if h["status"] == "AWAITING_ACTION"]
        return waiting if len(waiting) == count else None

    return wait_until(found, message=f"{count} hook(s) awaiting action")


def test_pause_hook_without_timeout_waits_a_day_then_rolls_back(sandbox: Sandbox) -> None:
    pause = {"targetType": "PAUSE", "lifecycleStages": ["PRE_SCALE_UP"]}
    ecs, alb, blue = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[pause])
    blue_tasks = running_ids(ecs, blue)
    _, arn = deploy(ecs, "web:2")
    (hook,) = awaiting_hooks(ecs, arn, 1)
    assert hook["hookId"].startswith("ecs-pause-")
    assert hook["timeoutAction"] == "ROLLBACK"
    started = describe_deployment(ecs, arn)["createdAt"]
    assert 86400 - 60 <= (hook["expiresAt"] - started).total_seconds() <= 86400 + 60
    sandbox.admin.advance(86400)
    done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert done["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"
    assert_restored(ecs, alb, blue, blue_tasks)


def test_hooks_of_one_stage_run_together_and_all_must_pass(sandbox: Sandbox) -> None:
    gate = lambda_hook(sandbox, "nsb-parallel", "def handler(e, c):\n    return {}\n", "POST_SCALE_UP")
    sandbox.admin.set_functions({"function": "nsb-parallel", "hookStatus": "SUCCEEDED"})
    pause = {"targetType": "PAUSE", "lifecycleStages": ["POST_SCALE_UP"]}
    ecs, _, _ = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[gate, pause])
    green, arn = deploy(ecs, "web:2")
    (waiting,) = awaiting_hooks(ecs, arn, 1)
    lambda_done = wait_until(
        lambda: [
            h for h in describe_deployment(ecs, arn)["lifecycleHookDetails"] if h["status"] == "SUCCEEDED"
        ],
        message="the Lambda hook to succeed",
    )
    assert lambda_done[0]["targetType"] == "AWS_LAMBDA"
    assert describe_deployment(ecs, arn)["lifecycleStage"] == "POST_SCALE_UP", "the PAUSE hook holds it"
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=waiting["hookId"], action="CONTINUE")
    wait_deployment(ecs, arn, "SUCCESSFUL")
    wait_completed(ecs, "apps", "web", green)


def test_linear_pauses_before_each_production_step(sandbox: Sandbox) -> None:
    pause = {"targetType": "PAUSE", "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"]}
    ecs, alb, _ = blue_service(
        sandbox,
        strategy="LINEAR",
        bakeTimeInMinutes=0,
        lifecycleHooks=[pause],
        linearConfiguration={"stepPercent": 50.0, "stepBakeTimeInMinutes": 0},
    )
    _, arn = deploy(ecs, "web:2")
    (first,) = awaiting_hooks(ecs, arn, 1)
    assert rule_weights(alb, alb.production_rule) == {"blue": 1, "green": 0}
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=first["hookId"], action="CONTINUE")
    (second,) = awaiting_hooks(ecs, arn, 1)
    assert second["hookId"] != first["hookId"]
    assert rule_weights(alb, alb.production_rule) == {"blue": 50, "green": 50}
    ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=second["hookId"], action="CONTINUE")
    done = wait_deployment(ecs, arn, "SUCCESSFUL")
    assert [h["status"] for h in done["lifecycleHookDetails"]] == ["SUCCEEDED", "SUCCEEDED"]


@pytest.mark.sandbox(speed=50, throttling=False)
def test_hook_state_changes_are_sent_to_eventbridge(sandbox: Sandbox) -> None:
    queue, rule = subscribe(sandbox, {"source": ["aws.ecs"], "detail-type": ["ECS Hook State Change"]})
    try:
        pause = {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]}
        ecs, _, _ = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[pause])
        _, arn = deploy(ecs, "web:2")
        (hook,) = awaiting_hooks(ecs, arn, 1)
        (awaiting,) = wait_until(lambda: queue.named("HOOK_AWAITING_ACTION"), message="HOOK_AWAITING_ACTION")
        assert awaiting["resources"] == [arn]
        detail = awaiting["detail"]
        assert (detail["eventType"], detail["hookId"], detail["hookType"]) == (
            "INFO",
            hook["hookId"],
            "PAUSE",
        )
        assert (detail["lifecycleStage"], detail["serviceDeploymentArn"]) == ("POST_TEST_TRAFFIC_SHIFT", arn)
        assert detail["serviceArn"].endswith(":service/apps/web") and detail["clusterArn"].endswith(
            ":cluster/apps"
        )
        assert detail["expiresAt"].endswith("Z") and detail["updatedAt"].endswith("Z")
        ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook["hookId"], action="CONTINUE")
        (succeeded,) = wait_until(lambda: queue.named("HOOK_SUCCEEDED"), message="HOOK_SUCCEEDED")
        assert succeeded["detail"]["hookId"] == hook["hookId"]
    finally:
        unsubscribe(sandbox, rule)


def test_deleting_the_service_ends_its_native_deployment(sandbox: Sandbox) -> None:
    hook = lambda_hook(sandbox, "nsb-deleted", "def handler(e, c):\n    return {}\n", "POST_SCALE_UP")
    sandbox.admin.set_functions({"function": "nsb-deleted", "inProgressTimes": 100, "callBackDelay": 60})
    ecs, _, _ = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[hook])
    deploy(ecs, "web:2")
    wait_until(lambda: sandbox.admin.invocations("nsb-deleted"), message="the first hook call")
    ecs.delete_service(cluster="apps", service="web", force=True)
    calls = len(sandbox.admin.invocations("nsb-deleted"))
    sandbox.admin.advance(600)
    wait_until(
        lambda: (
            ecs.describe_services(cluster="apps", services=["web"])["services"][0]["status"] == "INACTIVE"
        ),
        message="the service to go INACTIVE",
    )
    assert len(sandbox.admin.invocations("nsb-deleted")) == calls, "no hook is called for a deleted service"


def test_lambda_hook_that_stays_in_progress_times_out(sandbox: Sandbox) -> None:
    hook = lambda_hook(
        sandbox,
        "nsb-slow",
        "def handler(e, c):\n    return {}\n",
        "POST_SCALE_UP",
        timeoutConfiguration={"timeoutInMinutes": 5, "action": "ROLLBACK"},
    )
    sandbox.admin.set_functions({"function": "nsb-slow", "inProgressTimes": 1000, "callBackDelay": 30})
    ecs, alb, blue = blue_service(sandbox, bakeTimeInMinutes=0, lifecycleHooks=[hook])
    blue_tasks = running_ids(ecs, blue)
    _, arn = deploy(ecs, "web:2")
    wait_until(lambda: sandbox.admin.invocations("nsb-slow"), message="the first hook call")
    (detail,) = describe_deployment(ecs, arn)["lifecycleHookDetails"]
    assert (detail["status"], detail["timeoutAction"]) == ("IN_PROGRESS", "ROLLBACK")
    sandbox.admin.advance(5 * 60)
    done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL")
    assert done["lifecycleHookDetails"][0]["status"] == "TIMED_OUT"
    assert_restored(ecs, alb, blue, blue_tasks)


@pytest.mark.parametrize("reset", [True, False], ids=["reset", "no-reset"])
def test_reset_on_healthy_task_decides_whether_crashes_after_health_add_up(
    sandbox: Sandbox, reset: bool
) -> None:
    """Green's tasks turn healthy, then crash 20 s later, again and again, during a 30 minute bake."""
    sandbox.admin.set_images({"image": "web:flaky", "crashAfter": 20})
    breaker = {"enable": True, "rollback": True, "resetOnHealthyTask": reset}
    ecs, _, _ = blue_service(sandbox, bakeTimeInMinutes=30, deploymentCircuitBreaker=breaker)
    _, arn = deploy(ecs, "web:flaky")
    wait_deployment(ecs, arn, "IN_PROGRESS", "ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL", stage="BAKE_TIME")

    def crashed() -> int:
        stopped = task_ids(ecs, "apps", serviceName="web", desiredStatus="STOPPED")
        tasks = ecs.describe_tasks(cluster="apps", tasks=stopped)["tasks"] if stopped else []
        return sum(1 for t in tasks if t["containers"][0].get("exitCode") == 139)

    # the clock runs on its own here: a jump would fire the crashes before the health checks
    wanted = 6 if reset else 3  # with the reset: three rounds of two crashes, each below the threshold
    wait_until(lambda: crashed() >= wanted, timeout=60, message=f"{wanted} crashes of green's tasks")
    if reset:
        found = describe_deployment(ecs, arn)
        assert (found["status"], found["deploymentCircuitBreaker"]["status"]) == ("IN_PROGRESS", "MONITORING")
    else:
        done = wait_deployment(ecs, arn, "ROLLBACK_SUCCESSFUL")
        assert done["deploymentCircuitBreaker"]["status"] == "TRIGGERED"
