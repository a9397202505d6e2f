"""A delegate killed with SIGKILL inside an ECS Rolling Deploy, at several moments, then a
failing check that rolls the stage back: the step's rollback data was recorded before its
first change, so the rollback puts the service back exactly as it was before the deployment
(task definition revision, desired count, tags, target groups).

The delegate is stopped at a named moment with CORRAL_DELEGATE_TEST_PAUSE (it pauses there
until killed): `start` (the step's first instant, before any AWS call), `checkpoint:1` (the
service captured and recorded, nothing changed yet), `checkpoint:2` (the deployment it is about
to start recorded, UpdateService not yet called), `checkpoint:3` (UpdateService made,
the deployment under way).

The same for the other ECS steps that change ECS (one table, KILLS): Canary Deploy (its rollback
deletes the canary), Blue Green Create Service and Swap Target Groups (listeners end as before),
Scale (after a rolling deploy whose rollback restores the count), Traffic Shift (the listener's
weights restored) and Run Task (the re-run adopts the task the killed attempt started: one task
for the run's startedBy). `POINT@IDENTIFIER` pauses only that step. Scale, Traffic Shift and Run
Task record no checkpoint after their change: their last pause is before it (Run Task is also
killed once its task runs, without a pause)."""

from __future__ import annotations

import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from corral.delegate.step_activity import PAUSE_ENV
from corral.delegate.temporal_runner import TemporalRunner
from corral.demo import pipeline_inputs, prepare_sandbox
from corral.engine import create_execution, get_execution, run_pipeline
from corral.sandbox import Sandbox
from corral.store import Store
from corral.wiring.ecs_steps import set_poll_policy
from tests.e2e.conftest import CLUSTER, DEMO, FAST_POLLS, fast_options, use_sandbox_aws
from tests.e2e.state import listener_actions, services

from .conftest import StartDelegate, wait_until

ROLLING_THEN_CHECK = """\
pipeline:
  name: Rolling, then a check that fails
  identifier: rolling_check
  stages:
    - stage:
        name: Rolling deploy
        identifier: deploy
        type: Deployment
        spec:
          deploymentType: ECS
          service:
            serviceRef: demo_web
          environment:
            environmentRef: sandbox
            infrastructureDefinitions:
              - identifier: sandbox
          execution:
            steps:
              - step:
                  name: ECS Rolling Deploy
                  identifier: EcsRollingDeploy
                  type: EcsRollingDeploy
                  timeout: 5m
                  spec: {}
              - step:
                  name: Check
                  identifier: check
                  type: ShellScript
                  timeout: 1m
                  spec:
                    shell: Bash
                    source:
                      type: Inline
                      spec:
                        script: echo the new release answers 500; exit 1
            rollbackSteps:
              - step:
                  name: ECS Rolling Rollback
                  identifier: EcsRollingRollback
                  type: EcsRollingRollback
                  timeout: 5m
                  spec: {}
        failureStrategies:
          - onFailure:
              errors:
                - AllErrors
              action:
                type: StageRollback
"""


def _stage(name: str, service: str, steps: str, rollback: str) -> str:
    """A one-stage ECS pipeline that rolls the stage back on any failure."""
    return f"""\
pipeline:
  name: {name}
  identifier: {name}
  stages:
    - stage:
        name: Deploy
        identifier: deploy
        type: Deployment
        spec:
          deploymentType: ECS
          service:
            serviceRef: {service}
          environment:
            environmentRef: sandbox
            infrastructureDefinitions:
              - identifier: sandbox
          execution:
            steps:
{steps}            rollbackSteps:
{rollback or "              []"}
        failureStrategies:
          - onFailure:
              errors:
                - AllErrors
              action:
                type: StageRollback
"""


def _step(identifier: str, kind: str, spec: str = "{}") -> str:
    return (
        f"              - step:\n                  name: {identifier}\n                  identifier: {identifier}\n"
        f"                  type: {kind}\n                  timeout: 5m\n                  spec: {spec}\n"
    )


CHECK = _step("check", "ShellScript", "{shell: Bash, source: {type: Inline, spec: {script: exit 1}}}")
BG_CREATE = _step(
    "EcsBlueGreenCreateService",
    "EcsBlueGreenCreateService",
    "{loadBalancer: <+input>, prodListener: <+input>, prodListenerRuleArn: '', stageListener: <+input>,"
    " stageListenerRuleArn: '', sameAsAlreadyRunningInstances: false}",
)
BG_SWAP = _step(
    "EcsBlueGreenSwapTargetGroups", "EcsBlueGreenSwapTargetGroups", "{doNotDownsizeOldService: false}"
)
PIPELINES = {
    "canary_check": _stage(
        "canary_check",
        "demo_web",
        _step("EcsCanaryDeploy", "EcsCanaryDeploy") + CHECK,
        _step("EcsCanaryDeleteRollback", "EcsCanaryDelete")
        + _step("EcsRollingRollback", "EcsRollingRollback"),
    ),
    "scale_check": _stage(
        "scale_check",
        "demo_web",
        _step("EcsRollingDeploy", "EcsRollingDeploy")
        + _step("EcsScale", "EcsScale", "{instances: 5, instanceUnit: Count}")
        + CHECK,
        _step("EcsRollingRollback", "EcsRollingRollback"),
    ),
    "bg_setup": _stage("bg_setup", "demo_bg", BG_CREATE + BG_SWAP, ""),
    "bg_check": _stage(
        "bg_check",
        "demo_bg",
        BG_CREATE + BG_SWAP + CHECK,
        _step("EcsBlueGreenRollback", "EcsBlueGreenRollback"),
    ),
    "shift_check": _stage(
        "shift_check",
        "demo_bg",
        _step(
            "EcsBlueGreenCreateService",
            "EcsBlueGreenCreateService",
            "{loadBalancer: <+input>, prodListener: <+input>, prodListenerRuleArn: '', isTrafficShift: true,"
            " stageTargetGroupArn: <+input>}",
        )
        + _step("EcsBlueGreenTrafficShift", "EcsBlueGreenTrafficShift", "{weightPercentage: 50}")
        + CHECK,
        _step("EcsBlueGreenTrafficShiftRollback", "EcsBlueGreenTrafficShiftRollback")
        + _step("EcsBlueGreenRollback", "EcsBlueGreenRollback"),
    ),
    "runtask_check": _stage(
        "runtask_check",
        "demo_job",
        _step(
            "EcsRunTask",
            "EcsRunTask",
            "{taskDefinition: {type: Harness, spec: {files: [account:/job/RegisterTaskDefinitionRequest.yaml]}},"
            " runTaskRequestDefinition: {type: Harness, spec: {files: [account:/job/RunTaskRequest.yaml]}},"
            " waitForExit: true}",
        )
        + CHECK,
        "",
    ),
}


@dataclass(frozen=True)
class Case:
    pipeline: str  # in PIPELINES: killed in `step`, then its check fails and the stage rolls back
    step: str
    setup: str  # the demo pipeline (or one of PIPELINES) run first, embedded: the state before
    inputs: str  # the demo pipeline whose inputs it takes
    steps: tuple[tuple[str, str], ...]  # the steps and statuses the execution ends with


CANARY = Case(
    "canary_check", "EcsCanaryDeploy", "demo_rolling", "demo_rolling",
    (("EcsCanaryDeploy", "Success"), ("check", "Failed"), ("EcsCanaryDeleteRollback", "Success"),
     ("EcsRollingRollback", "Success")),
)  # fmt: skip
SCALE = Case(
    "scale_check", "EcsScale", "demo_rolling", "demo_rolling",
    (("EcsRollingDeploy", "Success"), ("EcsScale", "Success"), ("check", "Failed"),
     ("EcsRollingRollback", "Success")),
)  # fmt: skip
BG = (
    ("EcsBlueGreenCreateService", "Success"), ("EcsBlueGreenSwapTargetGroups", "Success"), ("check", "Failed"),
    ("EcsBlueGreenRollback", "Success"),
)  # fmt: skip
BG_CREATE_CASE = Case("bg_check", "EcsBlueGreenCreateService", "bg_setup", "demo_bluegreen", BG)
BG_SWAP_CASE = Case("bg_check", "EcsBlueGreenSwapTargetGroups", "bg_setup", "demo_bluegreen", BG)
SHIFT = Case(
    "shift_check", "EcsBlueGreenTrafficShift", "demo_trafficshift", "demo_trafficshift",
    (("EcsBlueGreenCreateService", "Success"), ("EcsBlueGreenTrafficShift", "Success"), ("check", "Failed"),
     ("EcsBlueGreenTrafficShiftRollback", "Success"), ("EcsBlueGreenRollback", "Success")),
)  # fmt: skip
RUN_TASK = Case(
    "runtask_check", "EcsRunTask", "", "demo_runtask", (("EcsRunTask", "Success"), ("check", "Failed"))
)

Changed = Callable[[dict[str, Any], dict[str, Any]], bool]  # (state before, state at the kill)
TASK_RUNNING = "task running"  # not a pause: the delegate is killed once the task it started runs

# (case, moment, a check that the moment is after the step's first change): `start` (before any
# AWS call) and the checkpoint right after the first change where the step has one, else its last
KILLS = [
    pytest.param(CANARY, "start", None, id="canary-start"),
    pytest.param(CANARY, "checkpoint:3", lambda b, n: "demo-webCanary" in n["services"], id="canary-created"),
    pytest.param(SCALE, "start", None, id="scale-start"),
    pytest.param(SCALE, "checkpoint:1", None, id="scale-captured"),
    pytest.param(BG_CREATE_CASE, "start", None, id="bg-create-start"),
    pytest.param(
        BG_CREATE_CASE, "checkpoint:3", lambda b, n: n["services"] != b["services"], id="bg-create-created"
    ),
    pytest.param(BG_SWAP_CASE, "start", None, id="bg-swap-start"),
    pytest.param(
        BG_SWAP_CASE,
        "checkpoint:2",
        lambda b, n: n["listeners"][0] != b["listeners"][0],
        id="bg-swap-prod-swapped",
    ),
    pytest.param(SHIFT, "start", None, id="shift-start"),
    pytest.param(SHIFT, "checkpoint:1", None, id="shift-captured"),
    pytest.param(RUN_TASK, "start", None, id="runtask-start"),
    pytest.param(RUN_TASK, "checkpoint:1", None, id="runtask-captured"),
    pytest.param(RUN_TASK, TASK_RUNNING, None, id="runtask-running"),
]


def _state(sandbox: Sandbox, prepared: dict[str, Any]) -> dict[str, Any]:
    """What a rollback must restore: services, both listeners' actions, autoscaling."""
    scaling = sandbox.client("application-autoscaling")
    targets = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    policies = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    return {
        "services": services(sandbox.client("ecs"), CLUSTER),
        "listeners": listener_actions(
            sandbox.client("elbv2"), prepared["prodListener"], prepared["stageListener"]
        ),
        "scalableTargets": sorted((t["ResourceId"], t["MinCapacity"], t["MaxCapacity"]) for t in targets),
        "scalingPolicies": sorted((p["ResourceId"], p["PolicyName"]) for p in policies),
    }


def _progress(store: Store, execution_id: str) -> str:
    """The steps so far and their last log lines: why a wait did not end."""
    steps = get_execution(execution_id, store=store).steps
    return "\n".join(
        f"{s.identifier} {s.status} ({s.error or ''}): "
        + " | ".join(line.message for line in store.logs(execution_id, step_key=s.key)[-5:])
        for s in steps
    )


def _job_tasks(sandbox: Sandbox) -> int:
    return len(sandbox.client("ecs").list_tasks(cluster=CLUSTER, family="demo-job")["taskArns"])


def _tasks_started_by(sandbox: Sandbox, started_by: str) -> int:
    ecs = sandbox.client("ecs")
    return sum(
        len(ecs.list_tasks(cluster=CLUSTER, startedBy=started_by, desiredStatus=status)["taskArns"])
        for status in ("RUNNING", "STOPPED")
    )


@pytest.mark.sandbox(speed=150)
@pytest.mark.parametrize(("case", "moment", "changed"), KILLS)
def test_a_delegate_killed_in_an_ecs_step_leaves_an_exact_rollback(
    case: Case,
    moment: str,
    changed: Changed | None,
    tmp_path: Path,
    sandbox: Sandbox,
    store: Store,
    runner: TemporalRunner,
    delegates: StartDelegate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)  # the delegate processes inherit it
    project = tmp_path / "project"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".corral"))
    for name, text in PIPELINES.items():
        (project / "pipelines" / f"{name}.yaml").write_text(text)
    prepared = prepare_sandbox(sandbox.endpoint_url)
    inputs = pipeline_inputs(prepared, case.inputs)
    if case.setup:
        set_poll_policy(FAST_POLLS)
        try:
            first = run_pipeline(
                project, case.setup, inputs=inputs | {"tag": "1"}, store=store, options=fast_options()
            )
        finally:
            set_poll_policy(None)
        assert first.status == "Success", first.error
    if case is RUN_TASK:  # 1500 sandbox seconds: 10 s here, long enough to kill while it runs
        exit_after = 1500 if moment == TASK_RUNNING else 150
        sandbox.admin.set_images({"image": "*/demo/job:*", "exitCode": 0, "exitAfter": exit_after})
    if case.setup == "demo_rolling":
        sandbox.client("ecs").update_service(cluster=CLUSTER, service="demo-web", desiredCount=3)
    before = _state(sandbox, prepared)

    if moment != TASK_RUNNING:
        monkeypatch.setenv(PAUSE_ENV, f"{moment}@{case.step}")
    doomed = delegates("doomed", "default")
    monkeypatch.delenv(PAUSE_ENV, raising=False)
    if case is SHIFT:  # the first deployment took production to the stage group: the other is free
        inputs |= {"stageTargetGroupArn": prepared["prodTargetGroupArn"]}
    record = create_execution(project, case.pipeline, store=store, inputs=inputs | {"tag": "2"})
    runner.start(record.id)
    if moment == TASK_RUNNING:  # RunTask made; the step waits for the task to exit
        wait_until(lambda: _job_tasks(sandbox) > 0, what="the job's task")
    else:
        try:
            wait_until(
                lambda: f"paused at {moment}" in _stderr(tmp_path, "doomed"), what=f"the pause at {moment}"
            )
        except AssertionError as error:
            raise AssertionError(f"{error}; the steps so far:\n{_progress(store, record.id)}") from None
    if changed is not None:  # the moment is after the step's first change
        assert changed(before, _state(sandbox, prepared))
    delegates("survivor", "default")
    wait_until(lambda: "polling" in _stderr(tmp_path, "survivor"), what="the survivor")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()

    try:
        status = runner.wait(record.id, 120)
    except TimeoutError:
        running = get_execution(record.id, store=store)
        raise AssertionError(
            f"the execution did not end: {[(s.identifier, s.status) for s in running.steps]}\n"
            + "\n".join(
                f"{s.identifier}: {line.message}"
                for s in running.steps
                for line in store.logs(record.id, step_key=s.key)
            )
            + _stderr(tmp_path, "survivor")[-3000:]
        ) from None
    assert status == "Failed"
    execution = get_execution(record.id, store=store)
    assert [(s.identifier, s.status) for s in execution.steps] == list(case.steps)
    assert _state(sandbox, prepared) == before
    killed = next(s for s in execution.steps if s.identifier == case.step)
    log = "\n".join(line.message for line in store.logs(record.id, step_key=killed.key))
    assert "Attempt 1 ended: delegate lost (no heartbeat for 2s)" in log
    assert "Running on delegate survivor (attempt 2)" in log
    if case is RUN_TASK:  # the re-run adopted the first attempt's tasks: none twice
        assert _tasks_started_by(sandbox, killed.outputs["startedBy"]) == 1


def _stderr(tmp_path: Path, name: str) -> str:
    path = tmp_path / f"delegate-{name}.err"
    return path.read_text() if path.exists() else ""


@pytest.mark.sandbox(speed=150)
@pytest.mark.parametrize("moment", ["start", "checkpoint:1", "checkpoint:2", "checkpoint:3"])
def test_a_delegate_killed_in_a_rolling_deploy_leaves_an_exact_rollback(
    moment: str,
    tmp_path: Path,
    sandbox: Sandbox,
    store: Store,
    runner: TemporalRunner,
    delegates: StartDelegate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)  # the delegate processes inherit it
    project = tmp_path / "project"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".corral"))
    (project / "pipelines" / "rolling_check.yaml").write_text(ROLLING_THEN_CHECK)
    inputs = pipeline_inputs(prepare_sandbox(sandbox.endpoint_url), "demo_rolling")
    ecs = sandbox.client("ecs")

    # before: demo/web:1 (run here), then scaled out to 3 by hand
    set_poll_policy(FAST_POLLS)
    try:
        first = run_pipeline(
            project, "demo_rolling", inputs=inputs | {"tag": "1"}, store=store, options=fast_options()
        )
    finally:
        set_poll_policy(None)
    assert first.status == "Success", first.error
    ecs.update_service(cluster=CLUSTER, service="demo-web", desiredCount=3)
    before = services(ecs, CLUSTER)
    assert before["demo-web"]["desiredCount"] == 3

    monkeypatch.setenv(PAUSE_ENV, moment)
    doomed = delegates("doomed", "default")
    monkeypatch.delenv(PAUSE_ENV)
    record = create_execution(project, "rolling_check", store=store, inputs=inputs | {"tag": "2"})
    runner.start(record.id)
    wait_until(lambda: f"paused at {moment}" in _stderr(tmp_path, "doomed"), what=f"the pause at {moment}")
    if moment == "checkpoint:3":  # the first change is made
        assert services(ecs, CLUSTER)["demo-web"]["taskDefinition"] != before["demo-web"]["taskDefinition"]
    else:
        assert services(ecs, CLUSTER) == before
    delegates("survivor", "default")
    wait_until(lambda: "polling" in _stderr(tmp_path, "survivor"), what="the survivor")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()

    assert runner.wait(record.id, 120) == "Failed"
    execution = get_execution(record.id, store=store)
    assert [(s.identifier, s.status) for s in execution.steps] == [
        ("EcsRollingDeploy", "Success"),
        ("check", "Failed"),
        ("EcsRollingRollback", "Success"),
    ]
    assert services(ecs, CLUSTER) == before
    deploy_log = "\n".join(line.message for line in store.logs(record.id, step_key=execution.steps[0].key))
    assert "Attempt 1 ended: delegate lost (no heartbeat for 2s)" in deploy_log
    resumed = "Running on delegate survivor (attempt 2)"
    assert resumed + (", from the last checkpoint" if moment != "start" else "\n") in deploy_log + "\n"
    assert execution.steps[2].outputs["rollbackSkipped"] is False
