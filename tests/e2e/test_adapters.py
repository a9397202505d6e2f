"""What the ECS step adapters add around the steps: spec errors, skipped rollbacks, re-runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from corral.config import load_project
from corral.engine import get_execution, run_pipeline
from corral.errors import ConfigError

from .conftest import DEMO, Demo, fast_options
from .state import services
from .test_crash import _checkpoint, _runner


def _variant(demo: Demo, tmp_path: Path, old: str, new: str) -> Path:
    """A copy of the demo project whose rolling pipeline has `old` replaced by `new`."""
    root = tmp_path / "project"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".corral"))
    pipeline = root / "pipelines" / "rolling.yaml"
    text = pipeline.read_text()
    assert old in text
    pipeline.write_text(text.replace(old, new))
    return root


def test_an_unknown_spec_field_is_refused_before_the_run_naming_it(demo: Demo, tmp_path: Path) -> None:
    root = _variant(
        demo,
        tmp_path,
        "forceNewDeployment: false",
        "forceNewDeployment: false\n                    surge: 50",
    )
    with pytest.raises(ConfigError) as refused:
        run_pipeline(
            load_project(root),
            "demo_rolling",
            inputs=demo.inputs("demo_rolling"),
            store=demo.store,
            options=fast_options(),
        )
    error = str(refused.value)
    assert "step.spec.surge: unknown field" in error and "sameAsAlreadyRunningInstances" in error
    assert services(demo.client("ecs")) == {}


def test_a_rollback_step_whose_deploy_never_ran_is_skipped(demo: Demo, tmp_path: Path) -> None:
    failing = """            steps:
              - step:
                  name: Fail first
                  identifier: fail_first
                  type: ShellScript
                  timeout: 1m
                  spec:
                    shell: Bash
                    source:
                      type: Inline
                      spec:
                        script: exit 1"""
    root = _variant(demo, tmp_path, "            steps:", failing)
    execution = run_pipeline(
        load_project(root),
        "demo_rolling",
        inputs=demo.inputs("demo_rolling"),
        store=demo.store,
        options=fast_options(),
    )
    assert execution.status == "Failed"
    rollback = execution.step("EcsRollingRollback")
    assert rollback.status == "Success" and rollback.outputs["rollbackSkipped"] is True
    assert "No ECS Rolling Deploy ran" in " ".join(
        line.message for line in demo.store.logs(execution.id, step_key=rollback.key)
    )


def test_a_deploy_re_run_after_a_crash_keeps_the_state_before_it_for_the_rollback(demo: Demo) -> None:
    assert demo.run("demo_rolling", tag="1").status == "Success"
    ecs = demo.client("ecs")
    before = services(ecs)
    # tasks that take long to fail to start: the runner dies while the deploy waits for them
    demo.sandbox.admin.set_images({"image": "*:broken", "startDelay": 60, "pullFailure": "manifest unknown"})
    inputs = demo.inputs("demo_rolling", tag="broken")
    runner = _runner(demo, "run", demo.store_url, "demo_rolling", json.dumps(inputs))
    assert runner.stdout is not None
    execution_id = runner.stdout.readline().strip()
    deadline = time.monotonic() + 60
    while "deployedDesiredCount" not in _checkpoint(demo.store, execution_id, "EcsRollingDeploy"):
        assert time.monotonic() < deadline and runner.poll() is None
        time.sleep(0.01)
    os.kill(runner.pid, signal.SIGKILL)
    runner.wait()
    # the re-run finds the service already on the broken revision; its rollback must not stop there
    resumed = _runner(demo, "resume", demo.store_url, execution_id)
    assert resumed.wait(120) == 0
    execution = get_execution(execution_id, store=demo.store)
    assert execution.status == "Failed"
    assert execution.step("EcsRollingRollback").status == "Success"
    assert services(ecs) == before
