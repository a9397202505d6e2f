"""Issue 16's acceptance, per strategy: BLUE_GREEN, LINEAR and CANARY deployments run as Corral
pipelines on the sandbox, each checking the end state (the revision and task definition running,
the listener rules' weights, the target groups' registrations, the service deployment's status) and
the events (the lifecycle stages and hooks Corral logged, the EventBridge events ECS sent).

The project is test_native_steering.py's (the demo plus a `native-web` service behind a production
and a test listener rule), its service definition written per test: strategy, hooks, bake time,
alarms and circuit breaker. Scenarios that test_native_steering.py already runs for BLUE_GREEN
(a pause continued by an approval, a pause rolled back by a failing check or Verify, a stage
rollback while ECS bakes, the runner killed while ECS pauses) run here for LINEAR and CANARY.
"""

from __future__ import annotations

import http.server
import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from corral.config import load_project
from corral.demo import prepare_sandbox
from corral.engine import Execution, approve
from corral.sandbox import Sandbox
from corral.store import Store
from corral.wiring.ecs_steps import set_poll_policy
from tests.sandbox.helpers import python_zip
from tests.sandbox.test_ecs_events import Subscription, subscribe, unsubscribe

from .conftest import CLUSTER, DEMO, FAST_POLLS, Demo, use_sandbox_aws
from .test_native_steering import (
    PIPELINES,
    SERVICE_YAML,
    _rules,
    _Unhealthy,
    described,
    killed_and_resumed,
    live,
    pipeline,
    release,
    step_log,
    weights,
)

ROLE = "arn:aws:iam::123456789012:role/ecs-hooks"
STRATEGIES = ["BLUE_GREEN", "LINEAR", "CANARY"]
# already run for BLUE_GREEN by test_native_steering.py
OTHERS = ["LINEAR", "CANARY"]
# the production weights each strategy stops at on its way to 100 (5 minutes' bake each: 2 s here)
STEPS = {
    "BLUE_GREEN": {},
    "LINEAR": {"linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 5}},
    "CANARY": {"canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 5}},
}
SHIFTED = {"BLUE_GREEN": None, "LINEAR": "production traffic 50% new", "CANARY": "production traffic 10% new"}
PAUSE = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 600, "action": "ROLLBACK"},
}
# ECS's order of lifecycle stages (DescribeServiceDeployments, lifecycleStage)
STAGE_ORDER = [
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
]
EVENTS = {"source": ["aws.ecs"], "detail-type": ["ECS Deployment State Change", "ECS Hook State Change"]}


class Native:
    """One test's project: its service, its pipelines, the events ECS sent."""

    def __init__(self, demo: Demo, events: Subscription, strategy: str) -> None:
        self.demo, self.events, self.strategy = demo, events, strategy

    def hook_events(self) -> list[tuple[str, str]]:
        """Every hook state change ECS sent since the first release, oldest first."""
        found = [e for e in self.events.drain() if e["detail-type"] == "ECS Hook State Change"]
        return [(e["detail"]["eventName"], e["detail"]["hookType"]) for e in found]

    def deployment_events(self) -> list[str]:
        found = [e for e in self.events.drain() if e["detail-type"] == "ECS Deployment State Change"]
        return [e["detail"]["eventName"] for e in found]


Build = Callable[..., Native]


@pytest.fixture
def build(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Build]:
    """Makes the project for a strategy and a service configuration, then releases demo/web:1."""
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)
    set_poll_policy(FAST_POLLS)
    events, rule = subscribe(sandbox, EVENTS)
    stores: list[Store] = []

    def make(
        strategy: str,
        *,
        hooks: list[dict[str, Any]] | None = None,
        bake: int = 0,
        pipelines: dict[str, list[dict[str, Any]]] | None = None,
        **configuration: Any,
    ) -> Native:
        prepared = prepare_sandbox(sandbox.endpoint_url)
        project = tmp_path / "project"
        shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".corral"))
        rules = _rules(sandbox.client("elbv2"), prepared)
        (project / "files" / "account" / "steering").mkdir()
        request = {
            "serviceName": "native-web",
            "launchType": "FARGATE",
            "desiredCount": 2,
            "deploymentController": {"type": "ECS"},
            "deploymentConfiguration": {
                "strategy": strategy,
                "bakeTimeInMinutes": bake,
                "maximumPercent": 200,
                "minimumHealthyPercent": 100,
                "lifecycleHooks": hooks or [],
                **STEPS[strategy],
                **configuration,
            },
            "loadBalancers": [
                {
                    "targetGroupArn": rules["blue"],
                    "containerName": "app",
                    "containerPort": 80,
                    "advancedConfiguration": {
                        "alternateTargetGroupArn": rules["green"],
                        "productionListenerRule": rules["production_rule"],
                        "testListenerRule": rules["test_rule"],
                        "roleArn": prepared["taskRoleArn"],
                    },
                }
            ],
        }
        (project / "files" / "account" / "steering" / "native_web.yaml").write_text(
            json.dumps(request), encoding="utf-8"
        )
        service = SERVICE_YAML.format(name="native-web", identifier="native_web")
        (project / "services" / "native_web.yaml").write_text(service, encoding="utf-8")
        wanted = {"native_first": PIPELINES["native_first"], **(pipelines or {})}
        for identifier, steps in wanted.items():
            (project / "pipelines" / f"{identifier}.yaml").write_text(
                pipeline(identifier, steps), encoding="utf-8"
            )
        store = Store.open(f"sqlite:///{tmp_path / 'corral.db'}")
        stores.append(store)
        demo = Demo(sandbox, load_project(project), store, prepared, f"sqlite:///{tmp_path / 'corral.db'}")
        first = release(demo, "native_first", "1")
        assert first.status == "Success", first.error
        native = Native(demo, events, strategy)
        native.events.drain()
        native.events.received.clear()  # the events of the releases under test only
        return native

    try:
        yield make
    finally:
        unsubscribe(sandbox, rule)
        set_poll_policy(None)
        for store in stores:
            store.close()


# ---------------------------------------------------------------- what the tests compare


def serving(demo: Demo) -> dict[str, Any]:
    """The revision ECS says is serving and what the load balancer sends production traffic to."""
    ecs, elb = demo.client("ecs"), demo.client("elbv2")
    service = ecs.describe_services(cluster=CLUSTER, services=["native-web"])["services"][0]
    arns = ecs.list_tasks(cluster=CLUSTER, serviceName="native-web", desiredStatus="RUNNING")["taskArns"]
    tasks = ecs.describe_tasks(cluster=CLUSTER, tasks=arns)["tasks"] if arns else []
    ips = sorted(
        detail["value"]
        for task in tasks
        for attachment in task.get("attachments", [])
        for detail in attachment["details"]
        if detail["name"] == "privateIPv4Address"
    )
    production = next(
        r
        for r in elb.describe_rules(ListenerArn=demo.prepared["prodListener"])["Rules"]
        if not r["IsDefault"]
    )
    shares = weights(elb, production["RuleArn"])
    registered = {
        group: sorted(
            t["Target"]["Id"]
            for t in elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
        )
        for group in shares
    }
    return {
        "taskDefinition": service["taskDefinition"],
        "taskDefinitions": sorted({t["taskDefinitionArn"] for t in tasks}),
        "ips": ips,
        "weights": shares,
        "registered": registered,
    }


def assert_serves_new_revision(native: Native, arn: str) -> None:
    """ECS's SUCCESSFUL: its target revision is the service's, its tasks alone run and take all
    production traffic; the old revision's target group is empty (ECS's clean-up)."""
    demo = native.demo
    deployment = described(demo, arn)
    assert deployment["status"] == "SUCCESSFUL", deployment
    revision = demo.client("ecs").describe_service_revisions(
        serviceRevisionArns=[deployment["targetServiceRevision"]["arn"]]
    )["serviceRevisions"][0]
    now = serving(demo)
    assert revision["taskDefinition"] == now["taskDefinition"]
    assert now["taskDefinitions"] == [now["taskDefinition"]] and len(now["ips"]) == 2
    (full,) = [group for group, weight in now["weights"].items() if weight == 100]
    assert now["registered"][full] == now["ips"]
    assert all(not ids for group, ids in now["registered"].items() if group != full)


def logged_stages(native: Native, execution: Execution, identifier: str) -> list[str]:
    """The lifecycle stages the step's log named, in the order it saw them, each once."""
    stages: list[str] = []
    for line in step_log(native.demo, execution, identifier):
        for stage in STAGE_ORDER:
            if f"stage {stage}" in line and (not stages or stages[-1] != stage):
                stages.append(stage)
    return stages


def assert_in_ecs_order(stages: list[str]) -> None:
    positions = [STAGE_ORDER.index(s) for s in stages]
    assert positions == sorted(positions), stages


def assert_rolled_back_by_ecs(native: Native, execution: Execution) -> dict[str, Any]:
    """The deploy step failed with ECS's reason, its log shows the rollback, and the stage's rollback
    found the service already as it was. Returns the service deployment."""
    demo = native.demo
    arn = _newest(demo)  # a failed step has no outputs: its deployment is the service's newest
    found = described(demo, arn)
    assert found["status"] == "ROLLBACK_SUCCESSFUL", found
    name = arn.rsplit("/", 1)[-1]
    deploy = execution.step("deploy")
    error = deploy.error or ""
    assert deploy.status == "Failed"
    assert error.startswith(f"ECS rolled back service deployment {name}: {found['rollback']['reason']}"), (
        error
    )
    assert any(
        line.startswith(f"Service deployment {name} ROLLBACK_SUCCESSFUL")
        for line in step_log(demo, execution, "deploy")
    )
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success", rollback.error
    assert any(
        "already runs as before the deployment" in line
        for line in step_log(demo, execution, "EcsRollingRollback")
    )
    return found


def assert_failed_once(native: Native) -> None:
    """ECS's events for a rolled back deployment: in progress, then its rolloutState FAILED once."""
    assert native.deployment_events() == ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_FAILED"]


def wait_for(found: Callable[[], Any], message: str, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"never saw {message}")


# ---------------------------------------------------------------- 1. success


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_release_ends_successful_on_the_new_revision(build: Build, strategy: str) -> None:
    native = build(strategy, bake=5)  # 2 s here: long enough for the log to show the bake
    execution = release(native.demo, "native_first", "2")
    assert execution.status == "Success", execution.error
    arn = execution.step("deploy").outputs["serviceDeploymentArn"]
    assert execution.step("deploy").outputs["status"] == "SUCCESSFUL"
    assert_serves_new_revision(native, arn)
    assert live(native.demo)["image"].endswith("demo/web:2")
    log = step_log(native.demo, execution, "deploy")
    stages = logged_stages(native, execution, "deploy")
    assert_in_ecs_order(stages)
    assert stages[-2:] == ["BAKE_TIME", "CLEAN_UP"] or stages[-1] == "BAKE_TIME", stages
    assert any("bake time left" in line for line in log), log
    assert any(line.endswith("is SUCCESSFUL") for line in log), log
    if SHIFTED[strategy]:  # the step's weight on the way: ECS baked there for 5 minutes
        assert any(SHIFTED[strategy] in line for line in log), log  # type: ignore[operator]
    events = native.deployment_events()
    assert events == ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"], events


# ---------------------------------------------------------------- 2. a failing Lambda hook


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_a_failing_lambda_hook_fails_the_step_and_the_old_revision_serves(
    build: Build, sandbox: Sandbox, strategy: str
) -> None:
    function = sandbox.client("lambda").create_function(
        FunctionName=f"gate-{strategy.lower()}",
        Runtime="python3.12",
        Role=ROLE,
        Handler="app.handler",
        Code={
            "ZipFile": python_zip("def handler(event, context):\n    return {'hookStatus': 'SUCCEEDED'}\n")
        },
    )["FunctionArn"]
    # the function's code would pass: the sandbox's fixed behaviour makes it fail
    sandbox.admin.set_functions({"function": f"gate-{strategy.lower()}", "hookStatus": "FAILED"})
    hook = {
        "targetType": "AWS_LAMBDA",
        "hookTargetArn": function,
        "roleArn": ROLE,
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    }
    native = build(strategy, hooks=[hook])
    before = live(native.demo)
    execution = release(native.demo, "native_first", "2")
    assert execution.status == "Failed"
    found = assert_rolled_back_by_ecs(native, execution)
    assert f"(AWS_LAMBDA {function}) failed" in (execution.step("deploy").error or "")
    assert found["rollback"]["reason"] == f"Lifecycle hook {function} returned hookStatus FAILED."
    assert live(native.demo) == before
    [call] = sandbox.admin.invocations(f"gate-{strategy.lower()}")
    assert call["via"] == "ecs" and call["event"]["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert native.hook_events() == [("HOOK_IN_PROGRESS", "AWS_LAMBDA"), ("HOOK_FAILED", "AWS_LAMBDA")]
    assert_failed_once(native)


def _newest(demo: Demo) -> str:
    listed = demo.client("ecs").list_service_deployments(cluster=CLUSTER, service="native-web")
    return str(listed["serviceDeployments"][0]["serviceDeploymentArn"])


# ---------------------------------------------------------------- 3. a PAUSE hook continued by an approval


@pytest.mark.parametrize("strategy", OTHERS)
def test_a_pause_hook_continued_by_an_approval_ends_successful(build: Build, strategy: str) -> None:
    native = build(strategy, hooks=[PAUSE], pipelines={"native_release": PIPELINES["native_release"]})
    demo = native.demo
    before = serving(demo)
    started = demo.start("native_release", tag="2", check="0")
    started.wait_waiting("approval")
    deploy = next(s for s in started.store.steps(started.id) if s.identifier == "deploy")
    assert deploy.outputs["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT" and deploy.outputs["pausedHookIds"]
    # while paused: test traffic on the new revision, production still all on the old one
    paused = serving(demo)
    assert paused["weights"] == before["weights"]
    assert sorted(tuple(w.values()) for w in live(demo)["weights"]) == [(0, 100), (100, 0)]
    assert native.hook_events() == [("HOOK_AWAITING_ACTION", "PAUSE")]
    approve(started.id, store=started.store, comment="test traffic looks good")
    execution = started.result()
    assert execution.status == "Success", execution.error
    arn = deploy.outputs["serviceDeploymentArn"]
    assert execution.step("go_on").outputs["status"] == "SUCCESSFUL"
    assert_serves_new_revision(native, arn)
    assert native.hook_events() == [("HOOK_AWAITING_ACTION", "PAUSE"), ("HOOK_SUCCEEDED", "PAUSE")]
    continued = logged_stages(native, execution, "go_on")
    assert_in_ecs_order(continued)
    if SHIFTED[strategy]:
        assert any(SHIFTED[strategy] in line for line in step_log(demo, execution, "go_on"))  # type: ignore[operator]


# ---------------------------------------------------------------- 4. a PAUSE hook rolled back by a failing Verify


@pytest.mark.parametrize("strategy", OTHERS)
def test_a_pause_hook_rolled_back_by_a_failing_verify(build: Build, strategy: str) -> None:
    native = build(strategy, hooks=[PAUSE], pipelines={"native_verify": PIPELINES["native_verify"]})
    before = live(native.demo)
    server = http.server.HTTPServer(("127.0.0.1", 0), _Unhealthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        execution = release(
            native.demo, "native_verify", "2", url=f"http://127.0.0.1:{server.server_address[1]}/"
        )
    finally:
        server.shutdown()
        server.server_close()
    assert execution.status == "Failed"
    assert execution.step("verify").status == "Failed"
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success", rollback.error
    assert rollback.outputs["serviceDeploymentRollback"] == "ContinueServiceDeployment ROLLBACK"
    found = described(native.demo, execution.step("deploy").outputs["serviceDeploymentArn"])
    assert found["status"] == "ROLLBACK_SUCCESSFUL"
    assert "ContinueServiceDeployment" in found["rollback"]["reason"]
    assert live(native.demo) == before
    assert native.hook_events() == [("HOOK_AWAITING_ACTION", "PAUSE"), ("HOOK_FAILED", "PAUSE")]
    assert_failed_once(native)


# ---------------------------------------------------------------- 5. an alarm in ALARM during bake


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_an_alarm_in_alarm_during_bake_rolls_back_and_fails_the_step_naming_it(
    build: Build, sandbox: Sandbox, strategy: str
) -> None:
    cloudwatch = sandbox.client("cloudwatch")
    name = f"web-5xx-{strategy.lower()}"
    cloudwatch.put_metric_alarm(
        AlarmName=name,
        Namespace="AWS/ApplicationELB",
        MetricName="HTTPCode_Target_5XX_Count",
        Statistic="Sum",
        Period=60,
        EvaluationPeriods=1,
        Threshold=10.0,
        ComparisonOperator="GreaterThanThreshold",
    )
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="quiet")
    alarms = {"alarmNames": [name], "enable": True, "rollback": True}
    native = build(strategy, bake=600, alarms=alarms)
    demo = native.demo
    before = live(demo)
    ecs = demo.client("ecs")

    def baking() -> str | None:
        listed = ecs.list_service_deployments(cluster=CLUSTER, service="native-web")["serviceDeployments"]
        newest = described(demo, listed[0]["serviceDeploymentArn"]) if listed else {}
        new = newest.get("status") == "IN_PROGRESS" and newest.get("lifecycleStage") == "BAKE_TIME"
        return str(newest["serviceDeploymentArn"]) if new else None

    started = demo.start("native_first", tag="2")
    arn = wait_for(baking, "the deployment baking")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="5xx above 10")
    sandbox.admin.advance(60)  # ECS looks at the alarm within the minute
    execution = started.result()
    assert execution.status == "Failed"
    found = assert_rolled_back_by_ecs(native, execution)
    assert found["serviceDeploymentArn"] == arn
    assert f"CloudWatch alarm {name} went into ALARM" in (execution.step("deploy").error or "")
    assert found["alarms"]["triggeredAlarmNames"] == [name]
    assert live(demo) == before
    stages = logged_stages(native, execution, "deploy")
    assert_in_ecs_order(stages)
    assert stages[-1] == "BAKE_TIME", stages
    assert_failed_once(native)


# ---------------------------------------------------------------- 6. circuit breaker thresholds


THRESHOLDS = {
    # (thresholdConfiguration, the failed tasks that trip it with 2 desired tasks)
    "count": ({"type": "COUNT", "value": 3}, 3),
    "percent": ({"type": "UNBOUNDED_PERCENT", "value": 50}, 1),
}


@pytest.mark.parametrize("threshold", list(THRESHOLDS))
@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_circuit_breaker_threshold_rolls_back_and_fails_the_step(
    build: Build, sandbox: Sandbox, strategy: str, threshold: str
) -> None:
    configuration, trips_at = THRESHOLDS[threshold]
    breaker = {"enable": True, "rollback": True, "thresholdConfiguration": configuration}
    native = build(strategy, deploymentCircuitBreaker=breaker)
    sandbox.admin.set_images({"image": "*demo/web:bad", "exitCode": 1, "exitAfter": 1})
    before = live(native.demo)
    execution = release(native.demo, "native_first", "bad")
    assert execution.status == "Failed"
    found = assert_rolled_back_by_ecs(native, execution)
    error = execution.step("deploy").error or ""
    assert "the deployment circuit breaker triggered" in error, error
    assert "Essential container in task exited (container app exit code 1)" in error, error
    tripped = found["deploymentCircuitBreaker"]
    assert tripped["status"] == "TRIGGERED" and tripped["threshold"] == trips_at
    assert tripped["failureCount"] >= trips_at
    assert live(native.demo) == before
    assert_failed_once(native)


# ---------------------------------------------------------------- 7. Corral's stage rollback


@pytest.mark.parametrize("where", ["paused", "baking"])
@pytest.mark.parametrize("strategy", OTHERS)
def test_a_later_step_failing_rolls_the_deployment_back_through_ecs(
    build: Build, strategy: str, where: str
) -> None:
    if where == "paused":
        native = build(strategy, hooks=[PAUSE], pipelines={"native_release": PIPELINES["native_release"]})
        execution = release(native.demo, "native_release", "2", check="1")
        move, expected_stage = "ContinueServiceDeployment ROLLBACK", "POST_TEST_TRAFFIC_SHIFT"
    else:
        native = build(
            strategy, bake=600, pipelines={"native_bake_release": PIPELINES["native_bake_release"]}
        )
        execution = release(native.demo, "native_bake_release", "2")
        move, expected_stage = "StopServiceDeployment ROLLBACK", "BAKE_TIME"
    assert execution.status == "Failed"
    assert execution.step("check").status == "Failed"
    deploy = execution.step("deploy").outputs
    assert deploy["lifecycleStage"] == expected_stage
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success", rollback.error
    assert rollback.outputs["serviceDeploymentRollback"] == move
    assert described(native.demo, deploy["serviceDeploymentArn"])["status"] == "ROLLBACK_SUCCESSFUL"
    # the old revision serves, from the target group it served from, and alone
    now = serving(native.demo)
    assert now["taskDefinitions"] == [now["taskDefinition"]]
    assert live(native.demo)["image"].endswith("demo/web:1")
    (full,) = [group for group, weight in now["weights"].items() if weight == 100]
    assert now["registered"][full] == now["ips"]
    if where == "paused":
        assert native.hook_events() == [("HOOK_AWAITING_ACTION", "PAUSE"), ("HOOK_FAILED", "PAUSE")]
    assert_failed_once(native)


# ---------------------------------------------------------------- 8. the runner killed while ECS pauses


# each strategy killed once, the two moments shared between them (blue green is killed at both
# in test_native_steering.py; tests/reliability's demo_native and demo_linear points add more)
@pytest.mark.parametrize("strategy, point", [("LINEAR", "continue-sent"), ("CANARY", "approval-waiting")])
def test_the_runner_killed_while_ecs_pauses_then_resumed_ends_successful(
    build: Build, strategy: str, point: str
) -> None:
    native = build(strategy, hooks=[PAUSE], pipelines={"native_release": PIPELINES["native_release"]})
    execution = killed_and_resumed(native.demo, point)
    assert_serves_new_revision(native, execution.step("deploy").outputs["serviceDeploymentArn"])
    assert native.hook_events() == [("HOOK_AWAITING_ACTION", "PAUSE"), ("HOOK_SUCCEEDED", "PAUSE")]
