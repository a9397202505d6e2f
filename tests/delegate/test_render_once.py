"""Distributed mode: the ECS step on a delegate deploys the service as its stage rendered it
when the stage started (journaled), not as the project's files say when the step runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral.delegate.temporal_runner import TemporalRunner
from corral.demo import pipeline_inputs, prepare_sandbox
from corral.engine import create_execution, get_execution
from corral.sandbox import Sandbox
from corral.store import Store
from tests.artifacts.registries import SpecRegistry
from tests.e2e.conftest import aws_environment
from tests.e2e.test_render_once import SECRET, TAGS, deployed, project

from .conftest import StartDelegate

EDIT_STEP = """              - step:
                  name: Edit the manifest
                  identifier: edit
                  type: ShellScript
                  timeout: 1m
                  spec:
                    shell: Bash
                    source:
                      type: Inline
                      spec:
                        script: sed -i 's/"first"/"second"/' '{path}'
"""


@pytest.mark.sandbox(speed=150)
def test_the_delegate_deploys_the_journaled_rendering(
    sandbox: Sandbox,
    store: Store,
    runner: TemporalRunner,
    delegates: StartDelegate,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for key, value in aws_environment(sandbox.endpoint_url).items():
        monkeypatch.setenv(key, value)  # the delegate processes inherit them
    monkeypatch.setenv("DEMO_DB_PASSWORD", SECRET)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with SpecRegistry(bearer=True, default_page=2) as registry:
        for tag, created in TAGS.items():
            registry.add_image("demo/web", tag, created=created)
        root = project(tmp_path, registry, "                tagRegex: ^1\\.\n")
        task = root / "files" / "account" / "web" / "task.json"
        pipeline = root / "pipelines" / "rolling.yaml"
        text = pipeline.read_text()
        steps = "            steps:\n"
        pipeline.write_text(text.replace(steps, steps + EDIT_STEP.format(path=task), 1))
        prepared = prepare_sandbox(sandbox.endpoint_url)
        delegates("ecs", "default")

        record = create_execution(
            root, "demo_rolling", store=store, inputs=pipeline_inputs(prepared, "demo_rolling")
        )
        runner.start(record.id)
        assert runner.wait(record.id, 150) == "Success", get_execution(record.id, store=store).error

    assert '"second"' in task.read_text()  # the step before the deploy changed the file
    [container] = deployed(sandbox)["containerDefinitions"]
    assert {"name": "MANIFEST", "value": "first"} in container["environment"]
    assert {"name": "DB_PASSWORD", "value": SECRET} in container["environment"]
    assert container["image"].endswith("/demo/web:1.10")
    execution = get_execution(record.id, store=store)
    assert "Running on delegate ecs" in "\n".join(
        line.message for line in store.logs(record.id, step_key=execution.step("EcsRollingDeploy").key)
    )
