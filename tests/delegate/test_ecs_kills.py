"""A delegate killed with SIGKILL inside an ECS Rolling Deploy, at several moments, then a
failing check that rolls the stage back: the step's rollback data was recorded before its
first change, so the rollback puts the service back exactly as it was before the deployment
(task definition revision, desired count, tags, target groups).

The delegate is stopped at a named moment with CORRAL_DELEGATE_TEST_PAUSE (it pauses there
until killed): `start` (the step's first instant, before any AWS call), `checkpoint:1` (the
service captured and recorded, nothing changed yet), `checkpoint:2` (the deployment it is about
to start recorded, UpdateService not yet called), `checkpoint:3` (UpdateService made,
the deployment under way)."""

from __future__ import annotations

import os
import shutil
import signal
from pathlib import Path

import pytest

from corral.delegate.step_activity import PAUSE_ENV
from corral.delegate.temporal_runner import TemporalRunner
from corral.demo import pipeline_inputs, prepare_sandbox
from corral.engine import create_execution, get_execution, run_pipeline
from corral.engine.ecs_steps import set_poll_policy
from corral.sandbox import Sandbox
from corral.store import Store
from tests.e2e.conftest import CLUSTER, DEMO, FAST_POLLS, aws_environment, fast_options
from tests.e2e.state import services

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
    for key, value in aws_environment(sandbox.endpoint_url).items():
        monkeypatch.setenv(key, value)  # the delegate processes inherit them
    monkeypatch.delenv("AWS_PROFILE", raising=False)
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
