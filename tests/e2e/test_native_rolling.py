"""examples/sandbox-demo's rolling pipeline with a service ECS deploys itself (BLUE_GREEN behind the
demo's load balancer), end to end: the pipeline's EcsRollingDeploy follows the service deployment,
and with `waitUntil: PAUSED` hands the paused deployment on in its outputs."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import yaml

from corral.config import load_project
from corral.engine import Execution, run_pipeline
from corral.engine.steps import StepRun
from corral.step_log import StepLog
from corral.step_outcome import StepOutcome
from corral.wiring.ecs_steps import outcome

from ..ecs.support import wait_until
from .conftest import CLUSTER, DEMO, Demo, fast_options

ROLE = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
PAUSE_AFTER_TEST_TRAFFIC = {
    "targetType": "PAUSE",
    "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
    "timeoutConfiguration": {"timeoutInMinutes": 60, "action": "ROLLBACK"},
}


def listener_rules(demo: Demo) -> tuple[str, str]:
    """Production (listener 80) and test (listener 8080) rules: blue at 100, green at 0."""
    elb = demo.client("elbv2")
    blue, green = demo.prepared["prodTargetGroupArn"], demo.prepared["stageTargetGroupArn"]
    forward = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]
        },
    }
    production, test = (
        elb.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[forward],
        )["Rules"][0]["RuleArn"]
        for listener in (demo.prepared["prodListener"], demo.prepared["stageListener"])
    )
    return production, test


def native_project(
    demo: Demo, root: Path, rules: tuple[str, str], *, hooks: list[dict[str, Any]], wait_until: str | None
) -> Path:
    """A copy of the demo whose web service deploys BLUE_GREEN and whose deploy step waits as told."""
    if root.exists():
        shutil.rmtree(root)
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".corral"))
    manifest = root / "files" / "account" / "web" / "CreateServiceRequest.yaml"
    service = yaml.safe_load(manifest.read_text())
    service["deploymentConfiguration"].update(
        strategy="BLUE_GREEN", bakeTimeInMinutes=1, lifecycleHooks=hooks
    )
    service["healthCheckGracePeriodSeconds"] = 0
    service["loadBalancers"] = [
        {
            "targetGroupArn": demo.prepared["prodTargetGroupArn"],
            "containerName": "app",
            "containerPort": 80,
            "advancedConfiguration": {
                "alternateTargetGroupArn": demo.prepared["stageTargetGroupArn"],
                "productionListenerRule": rules[0],
                "testListenerRule": rules[1],
                "roleArn": ROLE,
            },
        }
    ]
    manifest.write_text(yaml.safe_dump(service))
    if wait_until is not None:
        pipeline = root / "pipelines" / "rolling.yaml"
        text = pipeline.read_text()
        old = "forceNewDeployment: false"
        assert old in text
        pipeline.write_text(text.replace(old, f"{old}\n                    waitUntil: {wait_until}"))
    return root


def run(demo: Demo, root: Path, tag: str) -> Execution:
    return run_pipeline(
        load_project(root),
        "demo_rolling",
        inputs=demo.inputs("demo_rolling", tag=tag),
        store=demo.store,
        options=fast_options(),
    )


def production_weights(demo: Demo, rule: str) -> tuple[int, int]:
    """(blue's weight, green's weight) on the production rule."""
    found = demo.client("elbv2").describe_rules(RuleArns=[rule])["Rules"][0]
    groups = {g["TargetGroupArn"]: g["Weight"] for g in found["Actions"][0]["ForwardConfig"]["TargetGroups"]}
    return groups[demo.prepared["prodTargetGroupArn"]], groups[demo.prepared["stageTargetGroupArn"]]


def test_a_pipeline_follows_a_blue_green_service_deployment_and_hands_on_a_paused_one(
    demo: Demo, tmp_path: Path
) -> None:
    rules = listener_rules(demo)
    ecs = demo.client("ecs")
    first = run(demo, native_project(demo, tmp_path / "p", rules, hooks=[], wait_until=None), "1")

    assert first.status == "Success", first.error
    created = first.step("EcsRollingDeploy").outputs
    assert created["status"] == "SUCCESSFUL"
    service = ecs.describe_services(cluster=CLUSTER, services=["demo-web"])["services"][0]
    assert created["serviceDeploymentArn"] == service["currentServiceDeployment"]

    paused_project = native_project(
        demo, tmp_path / "p", rules, hooks=[PAUSE_AFTER_TEST_TRAFFIC], wait_until="PAUSED"
    )
    second = run(demo, paused_project, "2")

    assert second.status == "Success", second.error
    outputs = second.step("EcsRollingDeploy").outputs
    arn = outputs["serviceDeploymentArn"]
    (deployment,) = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    assert deployment["status"] == outputs["status"] == "IN_PROGRESS"
    assert deployment["lifecycleStage"] == outputs["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert outputs["pausedHookIds"] == [h["hookId"] for h in deployment["lifecycleHookDetails"]]
    step = second.step("EcsRollingDeploy")
    log = " ".join(line.message for line in demo.store.logs(second.id, step_key=step.key))
    assert "stage POST_TEST_TRAFFIC_SHIFT" in log and "waiting for ContinueServiceDeployment" in log
    blue_green_before = production_weights(demo, rules[0])
    assert 0 in blue_green_before, "production traffic stays on the revision that served it"

    ecs.continue_service_deployment(
        serviceDeploymentArn=arn, hookId=outputs["pausedHookIds"][0], action="CONTINUE"
    )

    def finished() -> bool:
        (now,) = ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
        return bool(now["status"] == "SUCCESSFUL")

    wait_until(finished, timeout=30, message="the continued deployment to succeed")
    assert production_weights(demo, rules[0]) == blue_green_before[::-1]


def test_a_re_run_journals_the_service_deployment_it_follows_over_the_first_attempts() -> None:
    """Rollback data of a re-run keeps the first attempt's view of the service (the state before),
    but the service deployment is the one this attempt follows, when it knows one yet."""
    first = {"exists": True, "desiredCount": 2, "serviceDeploymentArn": "arn:first"}
    run = StepRun(
        execution_id="e",
        stage="deploy",
        identifier="deploy",
        name="Deploy",
        type="EcsRollingDeploy",
        key="k",
        attempt=2,
        phase="execution",
        spec={},
        target=None,
        log=StepLog(),
        deadline=0.0,
        abort=threading.Event(),
        checkpoint=lambda data: None,
        previous_checkpoint=first,
    )

    followed = outcome(
        run,
        StepOutcome(outputs={}, checkpoint={"exists": True, "serviceDeploymentArn": "arn:again"}),
        keep_first=True,
    )
    not_yet = outcome(run, StepOutcome(outputs={}, checkpoint={"exists": True}), keep_first=True)

    assert followed.checkpoint is not None and followed.checkpoint["serviceDeploymentArn"] == "arn:again"
    assert not_yet.checkpoint is not None and not_yet.checkpoint["serviceDeploymentArn"] == "arn:first"
    assert followed.checkpoint["desiredCount"] == 2, "the first attempt's view of the service is kept"
