"""ShellScriptProvision runs where ShellScript runs (engine/step_process.py): isolated as an
unprivileged user with a private copy of the project, or refused before its script runs. Its
JSON outputs come back through the step's own output file either way."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from corral.engine import ExecutorOptions, run_pipeline
from corral.engine.step_process import StepProcesses
from corral.store import Store
from tests.engine.helpers import FAST, step, write_project
from tests.engine.helpers import pipeline as engine_pipeline
from tests.engine.helpers import stage as engine_stage


def _provision(identifier: str, script: str) -> dict[str, Any]:
    return step(
        identifier, "ShellScriptProvision", {"source": {"type": "Inline", "spec": {"script": script}}}
    )


def _run(project: Path, tmp_path: Path, processes: StepProcesses) -> Any:
    store = Store.open(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        return run_pipeline(
            project, "p", store=store, options=ExecutorOptions(**FAST, step_processes=processes)
        )
    finally:
        store.close()


@pytest.mark.skipif(os.geteuid() != 0, reason="isolation makes OS users: root only")
def test_an_isolated_provisioner_runs_as_its_own_user_and_its_json_comes_back(tmp_path: Path) -> None:
    script = 'echo "{\\"uid\\": \\"$(id -u)\\", \\"home\\": \\"$HOME\\"}" > "$PROVISIONER_OUTPUT_PATH"'
    project = write_project(
        tmp_path / "project", [engine_pipeline("p", [engine_stage("s", [_provision("make", script)])])]
    )
    done = _run(project, tmp_path, StepProcesses.isolated())
    assert done.status == "Success", done.steps
    outputs = done.step("make").outputs
    assert outputs["uid"] != "0" and outputs["uid"].isdigit()
    assert outputs["home"].startswith("/tmp/corral-step-")  # its private folder, not the project


def test_a_refused_provisioner_fails_before_its_script_runs(tmp_path: Path) -> None:
    script = f'touch {tmp_path / "ran"}; echo "{{}}" > "$PROVISIONER_OUTPUT_PATH"'
    project = write_project(
        tmp_path / "project", [engine_pipeline("p", [engine_stage("s", [_provision("make", script)])])]
    )
    done = _run(project, tmp_path, StepProcesses.refused("not here: --allow-local-steps"))
    assert done.status == "Failed" and done.step("make").error == "not here: --allow-local-steps"
    assert not (tmp_path / "ran").exists()
