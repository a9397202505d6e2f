"""ECS Rolling Deploy on services with ECS's own strategies, against the sandbox: the step follows
the service deployment it started (DescribeServiceDeployments) to SUCCESSFUL, to a PAUSE hook or
to a lifecycle stage, and fails with ECS's reason when ECS rolls it back. Rolling services keep
the steady-state rules but record their service deployment too.

The services are made with plain boto3 (support.py); what the step did is read back from ECS
and the load balancer, not from the step's own answers.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import pytest

from corral.ecs.context import StepAborted, StepTimedOut
from corral.ecs.native.follow import ServiceDeploymentFailed, wait_for_service_deployment
from corral.ecs.native.started import service_deployment_arn
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy, rolling_rollback
from corral.ecs.target import EcsTarget
from corral.errors import DeploymentError
from corral.step_log import LogLine, StepLog

from ..sandbox.helpers import python_zip
from .support import EcsEnv

pytestmark = pytest.mark.sandbox(speed=200)

# ECS's infrastructure role for load balancers (the sandbox has no IAM: any role ARN is taken)
ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
# the hook function's own role (the sandbox's IAM lives as long as the process: another test may
# have made ROLE trusting ECS only, which Lambda refuses, as it should)
FUNCTION_ROLE = "arn:aws:iam::123456789012:role/native-follow-hook-function"
CHECK_HOOK = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
}


@dataclass
class Native:
    """The sandbox with an ALB whose production rule (listener 80) and test rule (listener 8080)
    forward to blue (`groups[0]`) at 100 and green (`groups[1]`) at 0, as ECS's docs set them up."""

    env: EcsEnv
    production_rule: str
    test_rule: str

    @classmethod
    def create(cls, env: EcsEnv) -> Native:
        alb = env.alb()
        forward = {
            "Type": "forward",
            "ForwardConfig": {
                "TargetGroups": [
                    {"TargetGroupArn": alb.groups[0], "Weight": 100},
                    {"TargetGroupArn": alb.groups[1], "Weight": 0},
                ]
            },
        }
        production, test = (
            env.elbv2.create_rule(
                ListenerArn=listener,
                Priority=10,
                Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
                Actions=[forward],
            )["Rules"][0]["RuleArn"]
            for listener in alb.listeners
        )
        return cls(env, production, test)

    def target(
        self,
        image: str,
        *,
        strategy: str = "BLUE_GREEN",
        hooks: list[dict[str, Any]] | None = None,
        bake_minutes: int = 1,
        circuit_breaker: tuple[bool, bool] | None = None,
        **configuration: Any,
    ) -> EcsTarget:
        """Service `web` (task definition family `web` running `image`) with a native strategy."""
        alb = self.env.alb()
        target = self.env.target(
            "web", image, load_balancer=alb.groups[0], desired=2, circuit_breaker=circuit_breaker
        )
        assert target.service_definition is not None and target.task_definition is not None
        target.task_definition["containerDefinitions"][0]["image"] = image
        target.service_definition["deploymentConfiguration"].update(
            strategy=strategy, bakeTimeInMinutes=bake_minutes, lifecycleHooks=hooks or [], **configuration
        )
        target.service_definition["loadBalancers"][0]["advancedConfiguration"] = {
            "alternateTargetGroupArn": alb.groups[1],
            "productionListenerRule": self.production_rule,
            "testListenerRule": self.test_rule,
            "roleArn": ROLE,
        }
        return target

    def live(self, **kwargs: Any) -> dict[str, Any]:
        """web:1 running with the native strategy: the state a release starts from."""
        return self.env.create_live_service(self.target("web:1", **kwargs))

    def release(self, **kwargs: Any) -> EcsTarget:
        return self.target("web:2", **kwargs)

    def production_weights(self) -> tuple[int, int]:
        """(blue's weight, green's weight) on the production rule."""
        rule = self.env.elbv2.describe_rules(RuleArns=[self.production_rule])["Rules"][0]
        groups = {
            g["TargetGroupArn"]: g.get("Weight", 1)
            for g in rule["Actions"][0]["ForwardConfig"]["TargetGroups"]
        }
        alb = self.env.alb()
        return groups[alb.groups[0]], groups[alb.groups[1]]

    def deployment(self, arn: str) -> dict[str, Any]:
        (deployment,) = self.env.ecs.describe_service_deployments(serviceDeploymentArns=[arn])[
            "serviceDeployments"
        ]
        return dict(deployment)


@pytest.fixture
def native(env: EcsEnv) -> Native:
    return Native.create(env)


def test_a_rolling_service_records_its_service_deployment_and_keeps_the_steady_state_rules(
    env: EcsEnv,
) -> None:
    env.create_live_service(env.target("web", "web:1"))
    ctx = env.context()

    result = rolling_deploy(ctx, env.target("web", "web:2"), RollingDeployOptions(wait_until="PAUSED"))

    service = env.describe("web")
    assert service is not None
    arn = result.outputs["serviceDeploymentArn"]
    assert arn == service["currentServiceDeployment"] == env.checkpoint["serviceDeploymentArn"]
    (deployment,) = env.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    assert deployment["status"] == "SUCCESSFUL"
    assert "Waiting for Service web to reach steady state" in ctx.log.text()
    assert "Waiting for service deployment" not in ctx.log.text()
    assert "lifecycleStage" not in result.outputs
    assert "waitUntil PAUSED applies to ECS's own strategies; service web deploys ROLLING" in ctx.log.text()


def test_a_blue_green_release_is_followed_to_successful(native: Native) -> None:
    before = native.live()
    ctx = native.env.context()

    result = rolling_deploy(ctx, native.release(), RollingDeployOptions())

    service = native.env.describe("web")
    assert service is not None and service["taskDefinition"] != before["taskDefinition"]
    arn = result.outputs["serviceDeploymentArn"]
    assert arn == service["currentServiceDeployment"] == native.env.checkpoint["serviceDeploymentArn"]
    deployment = native.deployment(arn)
    assert deployment["status"] == result.outputs["status"] == "SUCCESSFUL"
    assert result.outputs["lifecycleStage"] == deployment.get("lifecycleStage")
    assert result.outputs["pausedHookIds"] == []
    assert native.production_weights() == (0, 100)
    log = ctx.log.text()
    for line in (
        f"Waiting for service deployment {arn.rsplit('/', 1)[-1]} to succeed",
        # the stages in between pass faster than a look at sandbox speed: the stage test shows them
        "SUCCESSFUL, stage CLEAN_UP: production traffic 100% new / 0% old",
        "is SUCCESSFUL",
        "Deployment Successful.",
    ):
        assert line in log, line
    assert "reach steady state" not in log


def test_wait_until_paused_ends_the_step_at_the_pause_hook_and_continue_finishes_it(native: Native) -> None:
    native.live(hooks=[CHECK_HOOK])
    ctx = native.env.context()

    result = rolling_deploy(
        ctx, native.release(hooks=[CHECK_HOOK]), RollingDeployOptions(wait_until="PAUSED")
    )

    outputs = result.outputs
    paused = native.deployment(outputs["serviceDeploymentArn"])
    assert paused["status"] == outputs["status"] == "IN_PROGRESS"
    assert paused["lifecycleStage"] == outputs["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    hook_ids = [h["hookId"] for h in paused["lifecycleHookDetails"] if h["status"] == "AWAITING_ACTION"]
    assert outputs["pausedHookIds"] == hook_ids and len(hook_ids) == 1
    assert native.production_weights() == (100, 0), "production stays on blue while paused"
    log = ctx.log.text()
    assert "waiting for ContinueServiceDeployment" in log and "then ECS will ROLLBACK" in log
    assert "the step ends here as waitUntil PAUSED says" in log and "Deployment Successful." not in log

    native.env.ecs.continue_service_deployment(
        serviceDeploymentArn=outputs["serviceDeploymentArn"], hookId=hook_ids[0], action="CONTINUE"
    )
    done = wait_for_service_deployment(
        native.env.context(), native.env.cluster, outputs["serviceDeploymentArn"]
    )

    assert done["status"] == "SUCCESSFUL" and native.production_weights() == (0, 100)


def test_a_pause_rolled_back_fails_the_wait_with_ecs_reason_and_blue_serves_as_before(native: Native) -> None:
    before = native.live(hooks=[CHECK_HOOK])
    result = rolling_deploy(
        native.env.context(), native.release(hooks=[CHECK_HOOK]), RollingDeployOptions(wait_until="PAUSED")
    )
    arn = result.outputs["serviceDeploymentArn"]

    native.env.ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId=result.outputs["pausedHookIds"][0], action="ROLLBACK"
    )
    with pytest.raises(ServiceDeploymentFailed) as raised:
        wait_for_service_deployment(native.env.context(), native.env.cluster, arn)

    deployment = native.deployment(arn)
    assert deployment["status"] == "ROLLBACK_SUCCESSFUL", "the wait ends when ECS's rollback has"
    message = str(raised.value)
    assert message.startswith(f"ECS rolled back service deployment {arn.rsplit('/', 1)[-1]}")
    reason = deployment.get("rollback", {}).get("reason") or deployment.get("statusReason")
    assert reason and reason in message
    service = native.env.describe("web")
    assert service is not None and service["taskDefinition"] == before["taskDefinition"]
    assert native.production_weights() == (100, 0)


def test_waiting_until_a_stage_ends_the_step_there_with_the_bake_time_left(native: Native) -> None:
    native.live(bake_minutes=600)
    ctx = native.env.context()

    result = rolling_deploy(
        ctx, native.release(bake_minutes=600), RollingDeployOptions(wait_until="BAKE_TIME")
    )

    assert result.outputs["status"] == "IN_PROGRESS" and result.outputs["lifecycleStage"] == "BAKE_TIME"
    assert native.production_weights() == (0, 100)
    log = ctx.log.text()
    assert "to reach BAKE_TIME" in log and "reached stage BAKE_TIME" in log
    assert "IN_PROGRESS, stage BAKE_TIME: production traffic 100% new / 0% old" in log
    # the bake clock starts when the step sees the stage: 600 minutes, less a look's time
    assert "bake time left 600m 00s" in log or "bake time left 599m" in log


def test_a_circuit_breaker_rollback_fails_the_step_with_ecs_reason(native: Native) -> None:
    before = native.live(circuit_breaker=(True, True))
    native.env.admin.set_images({"image": "web:2", "exitCode": 1, "exitAfter": 1})
    ctx = native.env.context()

    with pytest.raises(ServiceDeploymentFailed) as raised:
        rolling_deploy(ctx, native.release(circuit_breaker=(True, True)), RollingDeployOptions())

    deployment = native.deployment(native.env.checkpoint["serviceDeploymentArn"])
    assert deployment["status"] == "ROLLBACK_SUCCESSFUL"
    breaker = deployment["deploymentCircuitBreaker"]
    assert breaker["status"] == "TRIGGERED"
    message = str(raised.value)
    assert f"the deployment circuit breaker triggered ({breaker['failureCount']} failed tasks" in message
    assert "Essential container in task exited (container app exit code 1)" in message, "why tasks stopped"
    assert "\nRecent events:\n" in message
    assert "Deployment Successful." not in ctx.log.text()
    service = native.env.describe("web")
    assert service is not None and service["taskDefinition"] == before["taskDefinition"]
    assert native.production_weights() == (100, 0)


def test_a_failing_lambda_hook_fails_the_step_naming_the_hook_and_blue_serves_as_before(
    native: Native,
) -> None:
    function = native.env.sandbox.client("lambda").create_function(
        FunctionName="smoke",
        Runtime="python3.12",
        Role=FUNCTION_ROLE,
        Handler="app.handler",
        Code={"ZipFile": python_zip("def handler(event, context):\n    return {'hookStatus': 'FAILED'}\n")},
    )["FunctionArn"]
    hook = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": function,
        "roleArn": ROLE,
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    }
    before = native.live()

    with pytest.raises(ServiceDeploymentFailed) as raised:
        rolling_deploy(native.env.context(), native.release(hooks=[hook]), RollingDeployOptions())

    deployment = native.deployment(native.env.checkpoint["serviceDeploymentArn"])
    assert deployment["status"] == "ROLLBACK_SUCCESSFUL"
    (detail,) = deployment["lifecycleHookDetails"]
    assert f"lifecycle hook {detail['hookId']} (AWS_LAMBDA {function}) failed" in str(raised.value)
    service = native.env.describe("web")
    assert service is not None and service["taskDefinition"] == before["taskDefinition"]
    assert native.production_weights() == (100, 0)


def test_an_alarm_in_alarm_during_bake_fails_the_wait_naming_the_alarm(native: Native) -> None:
    cloudwatch = native.env.sandbox.client("cloudwatch")
    cloudwatch.put_metric_alarm(
        AlarmName="web-5xx",
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="OK", StateReason="quiet")
    alarms = {"alarms": {"alarmNames": ["web-5xx"], "enable": True, "rollback": True}}
    native.live(bake_minutes=600, **alarms)
    baking = rolling_deploy(
        native.env.context(),
        native.release(bake_minutes=600, **alarms),
        RollingDeployOptions(wait_until="BAKE_TIME"),
    )
    arn = baking.outputs["serviceDeploymentArn"]

    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="5xx above 10")
    with pytest.raises(ServiceDeploymentFailed) as raised:
        wait_for_service_deployment(native.env.context(), native.env.cluster, arn)

    assert native.deployment(arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert "CloudWatch alarm web-5xx went into ALARM" in str(raised.value)
    assert native.production_weights() == (100, 0)


@pytest.mark.parametrize(
    ("strategy", "configuration"),
    [
        ("LINEAR", {"linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}}),
        ("CANARY", {"canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 1}}),
    ],
)
def test_linear_and_canary_releases_are_followed_to_successful(
    native: Native, strategy: str, configuration: dict[str, Any]
) -> None:
    native.live()
    ctx = native.env.context()

    result = rolling_deploy(
        ctx, native.release(strategy=strategy, bake_minutes=0, **configuration), RollingDeployOptions()
    )

    assert result.outputs["status"] == "SUCCESSFUL"
    deployment = native.deployment(result.outputs["serviceDeploymentArn"])
    assert deployment["status"] == "SUCCESSFUL"
    assert deployment["deploymentConfiguration"]["strategy"] == strategy
    assert native.production_weights() == (0, 100)
    assert "is SUCCESSFUL" in ctx.log.text()


def test_the_rolling_rollback_of_a_native_service_follows_its_own_service_deployment(native: Native) -> None:
    before = native.live()
    deployed = rolling_deploy(native.env.context(), native.release(), RollingDeployOptions())
    ctx = native.env.context()

    result = rolling_rollback(ctx, native.env.target("web", "web:1"), deployed.checkpoint)

    arn = result.outputs["serviceDeploymentArn"]
    assert arn != deployed.outputs["serviceDeploymentArn"]
    deployment = native.deployment(arn)
    assert deployment["status"] == "SUCCESSFUL"
    service = native.env.describe("web")
    assert service is not None and service["taskDefinition"] == before["taskDefinition"]
    assert native.production_weights() == (100, 0), "production back on the first target group"
    assert f"Waiting for service deployment {arn.rsplit('/', 1)[-1]} to succeed" in ctx.log.text()


def test_without_current_service_deployment_the_listed_one_of_the_task_definition_is_followed(
    native: Native,
) -> None:
    first = native.live()
    released = rolling_deploy(native.env.context(), native.release(), RollingDeployOptions())
    service = native.env.describe("web")
    assert service is not None
    answer_without = {k: v for k, v in service.items() if k != "currentServiceDeployment"}
    ctx = native.env.context()

    with ctx.calls():
        newest = service_deployment_arn(ctx, answer_without, task_definition_arn=service["taskDefinition"])
        creation = service_deployment_arn(ctx, answer_without, task_definition_arn=first["taskDefinition"])
        unknown = service_deployment_arn(
            ctx, answer_without, task_definition_arn=first["taskDefinition"] + "0"
        )

    assert newest == released.outputs["serviceDeploymentArn"]
    assert creation == first["currentServiceDeployment"] != newest
    assert unknown is None


def test_a_wait_on_a_paused_deployment_ends_on_abort_and_on_the_step_timeout(native: Native) -> None:
    native.live(hooks=[CHECK_HOOK])
    paused = rolling_deploy(
        native.env.context(), native.release(hooks=[CHECK_HOOK]), RollingDeployOptions(wait_until="PAUSED")
    )
    arn = paused.outputs["serviceDeploymentArn"]
    abort = threading.Event()

    def on_line(line: LogLine) -> None:  # a person aborts once the log says the deployment waits
        if "waiting for ContinueServiceDeployment" in line.message:
            abort.set()

    with pytest.raises(StepAborted):
        wait_for_service_deployment(
            native.env.context(abort=abort, log=StepLog(sink=on_line)), native.env.cluster, arn
        )
    with pytest.raises(StepTimedOut) as timed_out:
        wait_for_service_deployment(native.env.context(timeout=1.0), native.env.cluster, arn)

    assert "Timed out waiting for service deployment" in str(timed_out.value)
    assert "waiting for ContinueServiceDeployment" in str(timed_out.value)
    assert native.deployment(arn)["status"] == "IN_PROGRESS", "a wait that ends changes nothing in ECS"


def test_a_re_run_while_ecs_pauses_finds_its_own_deployment_and_starts_no_other(native: Native) -> None:
    native.live(hooks=[CHECK_HOOK])
    release = native.release(hooks=[CHECK_HOOK])
    first = rolling_deploy(native.env.context(), release, RollingDeployOptions(wait_until="PAUSED"))
    listed = native.env.ecs.list_service_deployments(cluster=native.env.cluster, service="web")[
        "serviceDeployments"
    ]
    ctx = native.env.context()
    ctx.adopt(first.checkpoint)  # as the pipeline's re-run after a crash knows its first attempt's

    again = rolling_deploy(ctx, release, RollingDeployOptions(wait_until="PAUSED"))

    assert again.outputs["serviceDeploymentArn"] == first.outputs["serviceDeploymentArn"]
    assert again.outputs["pausedHookIds"] == first.outputs["pausedHookIds"]
    assert (
        native.env.ecs.list_service_deployments(cluster=native.env.cluster, service="web")[
            "serviceDeployments"
        ]
        == listed
    )
    assert "no update needed" in ctx.log.text()


def test_throttled_failing_and_dropped_describe_calls_are_retried_while_following(native: Native) -> None:
    native.live()
    for kind, extra in (("throttle", {}), ("error", {"status": 503}), ("drop", {})):
        native.env.admin.add_fault(
            kind, service="ecs", operation="DescribeServiceDeployments", count=2, **extra
        )

    result = rolling_deploy(native.env.context(), native.release(), RollingDeployOptions())

    assert result.outputs["status"] == "SUCCESSFUL"
    assert native.production_weights() == (0, 100)


def test_a_refused_describe_fails_the_step_naming_the_call_and_ecs_error(native: Native) -> None:
    native.live()
    native.env.admin.add_fault(
        "error",
        service="ecs",
        operation="DescribeServiceDeployments",
        status=400,
        code="AccessDeniedException",
    )

    with pytest.raises(DeploymentError) as raised:
        rolling_deploy(native.env.context(), native.release(), RollingDeployOptions())

    assert "DescribeServiceDeployments failed: AccessDeniedException" in str(raised.value)


def test_a_step_waiting_for_another_paused_native_deployment_says_where_it_is(native: Native) -> None:
    native.live(hooks=[CHECK_HOOK])
    release = native.release(hooks=[CHECK_HOOK])
    rolling_deploy(native.env.context(), release, RollingDeployOptions(wait_until="PAUSED"))
    other = native.env.context(timeout=1.0)  # another execution: it did not start that deployment

    with pytest.raises(StepTimedOut):
        rolling_deploy(other, release, RollingDeployOptions())

    log = other.log.text()
    assert "has a deployment in progress that this execution did not start" in log
    assert "Waiting: Service deployment" in log and "waiting for ContinueServiceDeployment" in log


def test_wait_until_paused_without_a_pause_hook_ends_with_the_deployment_and_says_so(native: Native) -> None:
    native.live()
    ctx = native.env.context()

    result = rolling_deploy(ctx, native.release(), RollingDeployOptions(wait_until="PAUSED"))

    assert result.outputs["status"] == "SUCCESSFUL" and result.outputs["pausedHookIds"] == []
    assert "finished without pausing: no PAUSE hook waited" in ctx.log.text()
    assert "Deployment Successful." in ctx.log.text()


def test_a_linear_release_paused_before_each_step_shows_the_weights_reached(native: Native) -> None:
    before_each_step = {
        "targetType": "PAUSE",
        "lifecycleStages": ["PRE_PRODUCTION_TRAFFIC_SHIFT"],
        "timeoutConfiguration": {"timeoutInMinutes": 600, "action": "ROLLBACK"},
    }
    linear = {"linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}}
    native.live()
    release = native.release(strategy="LINEAR", bake_minutes=0, hooks=[before_each_step], **linear)
    first = rolling_deploy(native.env.context(), release, RollingDeployOptions(wait_until="PAUSED"))
    arn = first.outputs["serviceDeploymentArn"]
    assert native.production_weights() == (100, 0)

    native.env.ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId=first.outputs["pausedHookIds"][0], action="CONTINUE"
    )
    ctx = native.env.context()
    halfway = wait_for_service_deployment(ctx, native.env.cluster, arn, until="PAUSED")

    assert halfway["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
    assert [h for h in halfway["lifecycleHookDetails"] if h["status"] == "AWAITING_ACTION"]
    assert native.production_weights() == (50, 50)
    (paused_line,) = [line for line in ctx.log.text().splitlines() if "AWAITING_ACTION" in line]
    assert "stage PRODUCTION_TRAFFIC_SHIFT: production traffic 50% new / 50% old" in paused_line
    assert "bake time left" not in paused_line, "a PAUSE holds the deployment: no bake runs"
