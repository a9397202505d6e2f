"""Pipelines built from templates run the resolved steps, and an execution keeps the templates it
started with: `corral run`, `corral logs` and `corral resume` on real shell steps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from corral.config import load_project
from corral.engine import create_execution
from corral.store import Store
from tests.config.test_templates import (
    GROUP_TEMPLATE,
    PIPELINE_TEMPLATE,
    STAGE_TEMPLATE,
    TWO_VERSIONS,
    custom_stage,
    pipeline,
    step_use,
    who,
    write,
)

from .helpers import corral

STABLE_TWO = "  templates:\n    stable: {say: '2'}\n"
LATER = "environmentVariables[0].value"  # the one <+input> the pipeline leaves to run time


def project(root: Path) -> Path:
    stage_use: dict[str, Any] = {
        "stage": {
            "name": "t",
            "identifier": "t",
            "template": {
                "templateRef": "stage_tpl",
                "versionLabel": "v1",
                "templateInputs": {
                    "type": "Custom",
                    "variables": [{"name": "color", "type": "String", "value": "blue"}],
                },
            },
        }
    }
    steps = [step_use("a", "say", "1", **who("world")), step_use("b", "account.say", None, **who("<+input>"))]
    return write(
        root,
        templates=[*TWO_VERSIONS, GROUP_TEMPLATE, STAGE_TEMPLATE, PIPELINE_TEMPLATE],
        pipelines=[pipeline([custom_stage("s", steps), stage_use])],
        settings=STABLE_TWO,
    )


def test_a_pipeline_of_templates_runs_and_shows_the_resolved_steps(tmp_path: Path) -> None:
    project(tmp_path)
    result = corral("run", "p", "--input", f"{LATER}=at run time", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "  [s/a] one world" in lines  # version 1, its templateInputs
    assert "  [s/b] two at run time" in lines  # the stable version, the <+input> given with --input
    assert "  [t/g/inner] two from the group" in lines  # stage template > step group template > step template
    assert any(line.startswith("step ShellScript t/g/inner: Success") for line in lines)
    [execution] = json.loads(corral("executions", "--json", cwd=tmp_path).output)
    logs = corral("logs", execution["id"], cwd=tmp_path).output
    assert "[t/g/inner] Execute: two from the group" in logs
    shown = json.loads(corral("run", "p", "--input", f"{LATER}=again", "--json", cwd=tmp_path).output)
    assert [s["identifier"] for s in shown["steps"]] == ["a", "b", "g", "inner"]


def test_editing_a_template_does_not_change_an_execution_already_started(tmp_path: Path) -> None:
    project(tmp_path)
    loaded = load_project(tmp_path)
    store = Store.for_project(loaded)
    try:  # the execution is recorded (its snapshot taken) but has not run a step yet
        record = create_execution(loaded, "p", store=store, inputs={LATER: "x"})
    finally:
        store.close()
    templates = tmp_path / "templates.yaml"
    templates.write_text(templates.read_text().replace("echo two $WHO", "echo edited $WHO"))

    resumed = corral("resume", record.id, cwd=tmp_path)
    assert resumed.exit_code == 0, resumed.output
    assert "  [t/g/inner] two from the group" in resumed.output.splitlines()
    assert "edited" not in resumed.output
    # a new execution takes the template as it is now
    fresh = corral("run", "p", "--input", f"{LATER}=x", cwd=tmp_path)
    assert "  [t/g/inner] edited from the group" in fresh.output.splitlines(), fresh.output
