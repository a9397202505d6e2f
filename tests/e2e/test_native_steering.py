"""Pipelines steer ECS's own blue/green deployment on the sandbox: a PAUSE hook after test traffic,
checks and an approval while ECS waits, then continue, roll back or stop; and the stage's rollback
rolls an unfinished native deployment back through ECS. `corral deployments` does the same from a
terminal (run as a separate process).

The project is examples/sandbox-demo with one more service, `native-web`: deployment controller
ECS, strategy BLUE_GREEN, a PAUSE hook at POST_TEST_TRAFFIC_SHIFT, the demo's two target groups as
blue and green behind a production rule (prod listener) and a test rule (stage listener).
"""

from __future__ import annotations

import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corral.aws.clients import AwsSettings, Clients
from corral.config import load_project
from corral.demo import prepare_sandbox
from corral.ecs.context import StepContext
from corral.ecs.native import steering
from corral.engine import Execution, abort, approve, get_execution
from corral.errors import DeploymentError
from corral.sandbox import Sandbox
from corral.store import Store
from corral.wiring.ecs_steps import set_poll_policy

from .approvals import approver, waiting_for_approval
from .conftest import CLUSTER, DEMO, FAST_POLLS, Demo, aws_environment, use_sandbox_aws
from .state import image_of

ROOT = Path(__file__).resolve().parents[2]
SERVICE = "native-web"

SERVICE_YAML = """service:
  name: {name}
  identifier: {identifier}
  serviceDefinition:
    type: ECS
    spec:
      manifests:
        - manifest:
            identifier: task_def
            type: EcsTaskDefinition
            spec:
              store: {{type: Harness, spec: {{files: ["account:/web/RegisterTaskDefinitionRequest.yaml"]}}}}
        - manifest:
            identifier: service_def
            type: EcsServiceDefinition
            spec:
              store: {{type: Harness, spec: {{files: ["account:/steering/{identifier}.yaml"]}}}}
      artifacts:
        primary:
          primaryArtifactRef: app
          sources:
            - identifier: app
              type: DockerRegistry
              spec:
                connectorRef: demo_registry
                imagePath: demo/web
                tag: <+input>.default("1")
"""

# BLUE_GREEN services: native_web's deployments pause once test traffic reaches green;
# native_bake's have no hook and bake for 10 hours (4 minutes at the sandbox's speed)
PAUSE_HOOK = "[{targetType: PAUSE, lifecycleStages: [POST_TEST_TRAFFIC_SHIFT], timeoutConfiguration: {timeoutInMinutes: 600, action: ROLLBACK}}]"
SERVICES = {"native_web": ("native-web", 1, PAUSE_HOOK), "native_bake": ("native-bake", 600, "[]")}
SERVICE_REQUEST = """serviceName: {name}
launchType: FARGATE
desiredCount: 2
deploymentController:
  type: ECS
deploymentConfiguration:
  strategy: BLUE_GREEN
  bakeTimeInMinutes: {bake}
  maximumPercent: 200
  minimumHealthyPercent: 100
  lifecycleHooks: {hooks}
loadBalancers:
  - targetGroupArn: {blue}
    containerName: app
    containerPort: 80
    advancedConfiguration:
      alternateTargetGroupArn: {green}
      productionListenerRule: {production_rule}
      testListenerRule: {test_rule}
      roleArn: {role}
"""


def step(identifier: str, type_: str, spec: dict[str, Any], timeout: str = "2m") -> dict[str, Any]:
    return {
        "step": {
            "name": identifier,
            "identifier": identifier,
            "type": type_,
            "timeout": timeout,
            "spec": spec,
        }
    }


def pipeline(
    identifier: str,
    steps: list[dict[str, Any]],
    service: str = "native_web",
    rollback: list[dict[str, Any]] | None = None,
) -> str:
    """The pipeline's JSON (YAML's subset); a `<+pipeline.variables.NAME>` in a step is a run-time input."""
    stage = {
        "stage": {
            "name": "Release",
            "identifier": "release",
            "type": "Deployment",
            "spec": {
                "deploymentType": "ECS",
                "service": {"serviceRef": service},
                "environment": {
                    "environmentRef": "sandbox",
                    "infrastructureDefinitions": [{"identifier": "sandbox"}],
                },
                "execution": {
                    "steps": steps,
                    "rollbackSteps": rollback or [step("EcsRollingRollback", "EcsRollingRollback", {})],
                },
            },
            "failureStrategies": [
                {"onFailure": {"errors": ["AllErrors"], "action": {"type": "StageRollback"}}}
            ],
        }
    }
    names = sorted(set(re.findall(r"<\+pipeline\.variables\.(\w+)>", json.dumps(steps))))
    variables = [{"name": name, "type": "String", "value": "<+input>"} for name in names]
    body = {"name": identifier, "identifier": identifier, "stages": [stage], "variables": variables}
    return json.dumps({"pipeline": body})


PAUSED_DEPLOY = step("deploy", "EcsRollingDeploy", {"waitUntil": "PAUSED"})
PIPELINES = {
    "native_first": [step("deploy", "EcsRollingDeploy", {})],
    "native_pause": [PAUSED_DEPLOY],
    # the flow of the docs: pause, check the test listener, approve, continue to production
    "native_release": [
        PAUSED_DEPLOY,
        step(
            "check",
            "ShellScript",
            {
                "shell": "Bash",
                "source": {
                    "type": "Inline",
                    "spec": {"script": "echo checking the test listener; exit <+pipeline.variables.check>"},
                },
            },
        ),
        step("approve", "HarnessApproval", {"approvalMessage": "Test traffic is on green. Go on?"}, "10m"),
        step("go_on", "EcsServiceDeploymentContinue", {"waitUntil": "SUCCESSFUL"}),
    ],
    "native_wait_rollback": [
        PAUSED_DEPLOY,
        step(
            "paused",
            "EcsServiceDeploymentWait",
            {
                "waitUntil": "PAUSED",
                "serviceDeploymentArn": "<+execution.steps.deploy.output.serviceDeploymentArn>",
            },
        ),
        step("back", "EcsServiceDeploymentRollback", {}),
    ],
    "native_stop": [PAUSED_DEPLOY, step("stop", "EcsServiceDeploymentStop", {})],
    "native_verify": [
        PAUSED_DEPLOY,
        step(
            "verify",
            "Verify",
            {
                "duration": "2s",
                "interval": "200ms",
                "failureLimit": 1,
                "checks": [
                    {
                        "name": "test listener",
                        "type": "Http",
                        "spec": {"url": "<+pipeline.variables.url>", "expectedStatus": [200]},
                    }
                ],
            },
        ),
        step("approve", "HarnessApproval", {"approvalMessage": "Go on?"}, "10m"),
        step("go_on", "EcsServiceDeploymentContinue", {"waitUntil": "SUCCESSFUL"}),
    ],
    # the deploy step's time runs out while ECS waits at the PAUSE hook (as when its runner dies)
    "native_timeout": [step("deploy", "EcsRollingDeploy", {}, "5s")],
    # ECS finished the deployment before a later step failed: the rolling rollback deploys the old
    # revision again, a native deployment of its own that pauses at the same hook
    "native_after": [
        PAUSED_DEPLOY,
        step("go_on", "EcsServiceDeploymentContinue", {"waitUntil": "SUCCESSFUL"}),
        step(
            "smoke",
            "ShellScript",
            {"shell": "Bash", "source": {"type": "Inline", "spec": {"script": "exit 1"}}},
        ),
    ],
    "native_no_deploy": [step("go_on", "EcsServiceDeploymentContinue", {})],
    "native_bake_first": [step("deploy", "EcsRollingDeploy", {})],
    # ECS is baking, not paused, when the check fails: the stage rollback stops it with a rollback
    "native_bake_release": [
        step("deploy", "EcsRollingDeploy", {"waitUntil": "BAKE_TIME"}, "10m"),
        step(
            "check",
            "ShellScript",
            {"shell": "Bash", "source": {"type": "Inline", "spec": {"script": "exit 1"}}},
        ),
    ],
}


@pytest.fixture
def native(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    """The demo project with the native service, its rules made in the sandbox."""
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)
    set_poll_policy(FAST_POLLS)
    prepared = prepare_sandbox(sandbox.endpoint_url)
    project = tmp_path / "project"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".corral"))
    rules = _rules(sandbox.client("elbv2"), prepared)
    (project / "files" / "account" / "steering").mkdir()
    for identifier, (name, bake, hooks) in SERVICES.items():
        service = SERVICE_YAML.format(name=name, identifier=identifier)
        (project / "services" / f"{identifier}.yaml").write_text(service, encoding="utf-8")
        request = SERVICE_REQUEST.format(
            name=name, bake=bake, hooks=hooks, role=prepared["taskRoleArn"], **rules
        )
        (project / "files" / "account" / "steering" / f"{identifier}.yaml").write_text(
            request, encoding="utf-8"
        )
    for identifier, steps in PIPELINES.items():
        text = pipeline(identifier, steps, "native_bake" if "bake" in identifier else "native_web")
        (project / "pipelines" / f"{identifier}.yaml").write_text(text, encoding="utf-8")
    # the same release, undone by Corral's step for ECS's rollback alone
    back = [step("back", "EcsServiceDeploymentRollback", {})]
    text = pipeline("native_release_ecs_back", PIPELINES["native_release"], rollback=back)
    (project / "pipelines" / "native_release_ecs_back.yaml").write_text(text, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'corral.db'}"
    store = Store.open(url)
    try:
        yield Demo(sandbox, load_project(project), store, prepared, url)
    finally:
        set_poll_policy(None)
        store.close()


def _rules(elb: Any, prepared: dict[str, Any]) -> dict[str, str]:
    blue, green = prepared["prodTargetGroupArn"], prepared["stageTargetGroupArn"]
    forward = {
        "Type": "forward",
        "ForwardConfig": {
            "TargetGroups": [{"TargetGroupArn": blue, "Weight": 100}, {"TargetGroupArn": green, "Weight": 0}]
        },
    }
    made = {}
    for name, listener in (
        ("production_rule", prepared["prodListener"]),
        ("test_rule", prepared["stageListener"]),
    ):
        rule = elb.create_rule(
            ListenerArn=listener,
            Priority=10,
            Conditions=[{"Field": "path-pattern", "Values": ["/*"]}],
            Actions=[forward],
        )
        made[name] = rule["Rules"][0]["RuleArn"]
    return {"blue": blue, "green": green, **made}


# ---------------------------------------------------------------- what the tests compare


def weights(elb: Any, rule_arn: str) -> dict[str, int]:
    rule = elb.describe_rules(RuleArns=[rule_arn])["Rules"][0]
    forward = next(a for a in rule["Actions"] if a["Type"] == "forward")
    return {g["TargetGroupArn"]: g.get("Weight", 1) for g in forward["ForwardConfig"]["TargetGroups"]}


def live(demo: Demo, name: str = SERVICE) -> dict[str, Any]:
    """The service and the traffic: what a failed or aborted release must leave exactly as it was."""
    ecs, elb = demo.client("ecs"), demo.client("elbv2")
    service = ecs.describe_services(cluster=CLUSTER, services=[name])["services"][0]
    rules = sorted(
        r["RuleArn"]
        for listener in (demo.prepared["prodListener"], demo.prepared["stageListener"])
        for r in elb.describe_rules(ListenerArn=listener)["Rules"]
        if not r["IsDefault"]
    )
    return {
        "image": image_of(ecs, service["taskDefinition"]),
        "desiredCount": service["desiredCount"],
        "runningCount": service["runningCount"],
        "deployments": [(d["status"], d["taskDefinition"]) for d in service["deployments"]],
        "loadBalancers": service["loadBalancers"],
        "weights": [weights(elb, arn) for arn in rules],
    }


def step_log(demo: Demo, execution: Execution, identifier: str) -> list[str]:
    return [
        line.message for line in demo.store.logs(execution.id) if line.step_key.endswith(f"/{identifier}")
    ]


def release(demo: Demo, pipeline_id: str, tag: str, **inputs: Any) -> Execution:
    return demo.run(pipeline_id, tag=tag, **inputs)


def first_release(demo: Demo) -> dict[str, Any]:
    execution = release(demo, "native_first", "1")
    assert execution.status == "Success", execution.error
    state = live(demo)
    assert state["image"].endswith("demo/web:1") and state["runningCount"] == 2
    return state


def described(demo: Demo, arn: str) -> dict[str, Any]:
    found: dict[str, Any] = demo.client("ecs").describe_service_deployments(serviceDeploymentArns=[arn])[
        "serviceDeployments"
    ][0]
    return found


# ---------------------------------------------------------------- the pipelines


def test_a_paused_deployment_is_checked_approved_and_continued_to_successful(native: Demo) -> None:
    first_release(native)
    started = native.start("native_release", tag="2", check="0")
    started.wait_waiting("approval")
    paused = started.store.steps(started.id)
    deploy = next(s for s in paused if s.identifier == "deploy")
    arn = deploy.outputs["serviceDeploymentArn"]
    assert deploy.outputs["status"] == "IN_PROGRESS"
    assert deploy.outputs["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT" and deploy.outputs["pausedHookIds"]
    state = live(native)  # while paused: test traffic on green, production still on blue
    blue, green = native.prepared["prodTargetGroupArn"], native.prepared["stageTargetGroupArn"]
    assert sorted((w[blue], w[green]) for w in state["weights"]) == [(0, 100), (100, 0)]
    approve(started.id, store=started.store, comment="test traffic looks good")
    execution = started.result()
    assert execution.status == "Success", execution.error
    go_on = execution.step("go_on").outputs
    assert go_on["status"] == "SUCCESSFUL" and go_on["serviceDeploymentArn"] == arn
    assert go_on["continuedHookIds"] == deploy.outputs["pausedHookIds"]
    assert described(native, arn)["status"] == "SUCCESSFUL"
    after = live(native)
    assert after["image"].endswith("demo/web:2") and after["runningCount"] == 2


def test_a_failing_check_while_paused_rolls_the_deployment_back_through_ecs(native: Demo) -> None:
    before = first_release(native)
    execution = release(native, "native_release", "2", check="1")
    assert execution.status == "Failed"
    assert execution.step("check").status == "Failed"
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success", rollback.error
    assert rollback.outputs["serviceDeploymentRollback"] == "ContinueServiceDeployment ROLLBACK"
    arn = execution.step("deploy").outputs["serviceDeploymentArn"]
    assert described(native, arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert live(native) == before


class _Unhealthy(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_aborting_the_execution_while_ecs_pauses_rolls_the_deployment_back(native: Demo) -> None:
    before = first_release(native)
    started = native.start("native_release", tag="2", check="0")
    started.wait_waiting("approval")
    abort(started.id, store=started.store)
    execution = started.result()
    assert execution.status == "Aborted"
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success", rollback.error
    assert rollback.outputs["serviceDeploymentRollback"] == "ContinueServiceDeployment ROLLBACK"
    assert live(native) == before


def test_a_verify_seeing_errors_on_the_test_listener_rolls_the_deployment_back(native: Demo) -> None:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Unhealthy)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        before = first_release(native)
        execution = release(native, "native_verify", "2", url=f"http://127.0.0.1:{server.server_address[1]}/")
    finally:
        server.shutdown()
        server.server_close()
    assert execution.status == "Failed"
    assert execution.step("verify").status == "Failed"
    assert execution.step("EcsRollingRollback").status == "Success"
    assert described(native, execution.step("deploy").outputs["serviceDeploymentArn"])["status"] == (
        "ROLLBACK_SUCCESSFUL"
    )
    assert live(native) == before


def test_a_deploy_step_out_of_time_while_ecs_pauses_is_rolled_back_through_ecs(native: Demo) -> None:
    """The step failed, so it has no outputs: the stage rollback finds the deployment in its
    rollback data."""
    before = first_release(native)
    execution = release(native, "native_timeout", "2")
    assert execution.status == "Failed"
    # the step's own wait or the engine's timeout notices first: either ends it
    assert execution.step("deploy").status in ("Expired", "Failed")
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success", rollback.error
    # paused by then, or still on its way to the hook
    assert rollback.outputs["serviceDeploymentRollback"] in (
        "ContinueServiceDeployment ROLLBACK",
        "StopServiceDeployment ROLLBACK",
    )
    assert live(native) == before


def test_wait_then_rollback_steps_end_rollback_successful_and_the_service_as_before(native: Demo) -> None:
    before = first_release(native)
    execution = release(native, "native_wait_rollback", "2")
    assert execution.status == "Success", execution.error
    assert execution.step("paused").outputs["pausedHookIds"]
    back = execution.step("back").outputs
    assert back["status"] == "ROLLBACK_SUCCESSFUL"
    assert back["rollbackMove"] == "ContinueServiceDeployment ROLLBACK"
    assert live(native) == before


def test_the_rollback_step_in_rollback_steps_rolls_the_paused_deployment_back(native: Demo) -> None:
    before = first_release(native)
    execution = release(native, "native_release_ecs_back", "2", check="1")
    assert execution.status == "Failed"
    back = execution.step("back")
    assert back.status == "Success", back.error
    assert back.outputs["status"] == "ROLLBACK_SUCCESSFUL"
    assert back.outputs["rollbackMove"] == "ContinueServiceDeployment ROLLBACK"
    assert live(native) == before


def test_a_step_failing_after_ecs_finished_is_undone_by_the_rolling_rollback(native: Demo) -> None:
    before = first_release(native)
    execution = release(native, "native_after", "2")
    assert execution.status == "Failed"
    assert execution.step("go_on").outputs["status"] == "SUCCESSFUL"
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success", rollback.error
    assert "serviceDeploymentRollback" not in rollback.outputs  # nothing left for ECS to roll back
    after = live(native)  # the old revision again, by a deployment of its own (blue and green swapped)
    for key in ("image", "desiredCount", "runningCount", "deployments"):
        assert after[key] == before[key], key
    assert any(
        "a rollback does not wait for checks" in line
        for line in step_log(native, execution, "EcsRollingRollback")
    )


def test_a_steering_step_with_no_deployment_to_act_on_says_what_to_give(native: Demo) -> None:
    execution = release(native, "native_no_deploy", "1")
    assert execution.status == "Failed"
    error = execution.step("go_on").error or ""
    assert "spec.serviceDeploymentArn: is required: no EcsRollingDeploy before this step" in error, error


def test_a_check_failing_while_ecs_bakes_stops_the_deployment_with_a_rollback(native: Demo) -> None:
    first = native.run("native_bake_first", tag="1")
    assert first.status == "Success", first.error
    before = live(native, "native-bake")
    execution = native.run("native_bake_release", tag="2")
    assert execution.status == "Failed"
    assert execution.step("deploy").outputs["lifecycleStage"] == "BAKE_TIME"
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success", rollback.error
    assert rollback.outputs["serviceDeploymentRollback"] == "StopServiceDeployment ROLLBACK"
    arn = execution.step("deploy").outputs["serviceDeploymentArn"]
    assert described(native, arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert live(native, "native-bake") == before


def test_a_stop_ecs_refuses_fails_the_step_in_one_line_and_the_stage_restores_the_service(
    native: Demo,
) -> None:
    """ECS documents ROLLBACK as the stop type it takes; the sandbox refuses ABORT for BLUE_GREEN."""
    before = first_release(native)
    execution = release(native, "native_stop", "2")
    assert execution.status == "Failed"
    error = execution.step("stop").error or ""
    assert error.startswith("AWS StopServiceDeployment failed: InvalidParameterException:"), error
    assert "\n" not in error
    assert execution.step("EcsRollingRollback").outputs["serviceDeploymentRollback"] == (
        "ContinueServiceDeployment ROLLBACK"
    )
    assert live(native) == before


# ---------------------------------------------------------------- corral deployments


def corral(demo: Demo, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= aws_environment(demo.sandbox.endpoint_url)
    return subprocess.run(
        [sys.executable, "-m", "corral.cli", "deployments", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def paused_release(demo: Demo) -> str:
    execution = release(demo, "native_pause", "2")
    assert execution.status == "Success", execution.error
    return str(execution.step("deploy").outputs["serviceDeploymentArn"])


def test_the_cli_lists_a_paused_deployment_and_continues_it(native: Demo) -> None:
    first_release(native)
    arn = paused_release(native)
    listed = corral(native, "list", SERVICE, "--cluster", CLUSTER, "--json")
    assert listed.returncode == 0, listed.stderr
    newest = json.loads(listed.stdout)[0]
    assert newest["serviceDeploymentArn"] == arn and newest["status"] == "IN_PROGRESS"
    # through the project's AWS connector this time (the demo's inherits the AWS settings)
    project = ("--connector", "sandbox_aws", "--project", str(native.project.root))
    text = corral(native, "list", SERVICE, "--cluster", CLUSTER, "--status", "IN_PROGRESS", *project)
    assert text.returncode == 0, text.stderr
    assert arn in text.stdout and "paused at hook" in text.stdout
    continued = corral(native, "continue", arn, "--wait-until", "SUCCESSFUL")
    assert continued.returncode == 0, continued.stderr
    assert (
        continued.stdout.strip().endswith(f"{arn}: SUCCESSFUL at CLEAN_UP")
        or "SUCCESSFUL" in continued.stdout
    )
    assert live(native)["image"].endswith("demo/web:2")
    again = corral(native, "continue", arn)
    assert again.returncode == 1
    assert (
        f"corral: Service deployment {arn} is not paused at a lifecycle hook: it is SUCCESSFUL"
        in again.stderr
    )


def test_the_cli_rolls_a_paused_deployment_back(native: Demo) -> None:
    before = first_release(native)
    arn = paused_release(native)
    rolled = corral(native, "rollback", arn)
    assert rolled.returncode == 0, rolled.stderr
    assert f"{arn}: ROLLBACK_SUCCESSFUL" in rolled.stdout
    assert described(native, arn)["status"] == "ROLLBACK_SUCCESSFUL"
    assert live(native) == before
    twice = corral(native, "rollback", arn)
    assert twice.returncode == 1 and "cannot be rolled back through ECS" in twice.stderr


def test_the_cli_stop_says_what_ecs_answered(native: Demo) -> None:
    first_release(native)
    arn = paused_release(native)
    stopped = corral(native, "stop", arn)
    assert stopped.returncode == 1
    assert stopped.stderr.startswith("corral: AWS StopServiceDeployment failed: InvalidParameterException:")
    assert described(native, arn)["status"] == "IN_PROGRESS"  # still paused, as ECS left it


def test_a_continue_repeated_after_a_crash_neither_fails_nor_continues_twice(native: Demo) -> None:
    """A Continue step re-run after its process died: the hooks its first attempt journaled as
    continued are recognised; only a fresh Continue on a deployment no longer paused is refused."""
    first_release(native)
    arn = paused_release(native)
    settings = AwsSettings(
        region="us-east-1",
        endpoint_url=native.sandbox.endpoint_url,
        access_key_id="testing",
        secret_access_key="testing",
    )
    journaled: list[dict[str, Any]] = []
    ctx = StepContext.with_timeout(Clients(settings), 60.0, checkpoint=journaled.append)
    with ctx.calls():
        hooks = steering.continue_deployment(ctx, arn)
    assert hooks and journaled == [{"serviceDeploymentArn": arn, "continuedHookIds": hooks}]
    with ctx.calls():
        assert steering.continue_deployment(ctx, arn, already=hooks) == []
        with pytest.raises(DeploymentError, match="is not paused at a lifecycle hook"):
            steering.continue_deployment(ctx, arn)


# ---------------------------------------------------------------- the runner killed while ECS pauses


def _checkpoint(store: Store, execution_id: str, identifier: str) -> dict[str, Any]:
    found = next((s for s in store.steps(execution_id) if s.identifier == identifier), None)
    return (store.latest_checkpoint(execution_id, found.key) or {}) if found is not None else {}


KILL_POINTS = {
    # ECS waits at the PAUSE hook, the pipeline at the approval
    "approval-waiting": waiting_for_approval,
    # the Continue step journaled the hook it continues: sent, or about to be
    "continue-sent": lambda store, eid: bool(_checkpoint(store, eid, "go_on").get("continuedHookIds")),
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_the_runner_killed_while_ecs_pauses_then_resumed_ends_as_an_uninterrupted_run(
    native: Demo, point: str
) -> None:
    first_release(native)
    env = {
        **os.environ,
        **aws_environment(native.sandbox.endpoint_url),
        "CORRAL_E2E_PROJECT": str(native.project.root),
    }
    inputs = native.inputs("native_release", tag="2", check="0")

    def runner(*args: str) -> subprocess.Popen[str]:
        command = [sys.executable, "-m", "tests.e2e.runner", *args]
        return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)

    first = runner("run", native.store_url, "native_release", json.dumps(inputs))
    assert first.stdout is not None
    execution_id = first.stdout.readline().strip()
    stop = threading.Event()
    approving = None if point == "approval-waiting" else approver(native.store, execution_id, stop)
    deadline = time.monotonic() + 60
    while not KILL_POINTS[point](native.store, execution_id):
        assert first.poll() is None, f"the runner ended before {point}"
        assert time.monotonic() < deadline, f"never reached {point}"
        time.sleep(0.01)
    os.kill(first.pid, signal.SIGKILL)
    first.wait()
    approving = approving or approver(native.store, execution_id, stop)
    resumed = runner("resume", native.store_url, execution_id)
    try:
        assert resumed.wait(120) == 0
    finally:
        stop.set()
        approving.join()
    execution = get_execution(execution_id, store=native.store)
    assert execution.status == "Success", execution.error
    arn = execution.step("deploy").outputs["serviceDeploymentArn"]
    assert described(native, arn)["status"] == "SUCCESSFUL"
    after = live(native)
    assert after["image"].endswith("demo/web:2") and after["runningCount"] == 2
