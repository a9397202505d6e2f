"""Runtime inputs: given on the command line, in a file or an input set; missing ones stop the run first."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral.engine import run_pipeline
from corral.errors import ConfigError
from corral.store import Store

from .helpers import Probe, fast, pipeline, probe_step, stage, write_project

DOC = pipeline(
    "p",
    [
        stage(
            "s",
            [
                probe_step(
                    "a",
                    outputs={
                        "url": "<+input>",
                        "env": "<+input>.allowedValues(dev,prod)",
                        "n": "<+input>.default(3)",
                    },
                )
            ],
        )
    ],
    variables=[{"name": "team", "type": "String", "value": "<+input>"}],
)
INPUT_SET = """inputSet:
  name: Dev
  identifier: dev_set
  pipeline:
    identifier: p
    variables:
      - name: team
        type: String
        value: payments
    stages:
      - stage:
          identifier: s
          type: Custom
          spec:
            execution:
              steps:
                - step:
                    identifier: a
                    type: Probe
                    spec:
                      outputs:
                        url: http://dev
                        env: dev
"""


def outputs(execution) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return execution.step("a").outputs


def test_missing_required_inputs_are_one_error_before_anything_starts(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    project = write_project(tmp_path, DOC)
    with pytest.raises(ConfigError) as raised:
        run_pipeline(project, "p", store=store, inputs={"url": "http://x"}, options=fast())
    problems = {p.path: p for p in raised.value.problems}
    assert set(problems) == {
        "pipeline.variables[0].value",
        "pipeline.stages[0].stage.spec.execution.steps[0].step.spec.outputs.env",
    }
    env = problems["pipeline.stages[0].stage.spec.execution.steps[0].step.spec.outputs.env"]
    assert env.file.startswith("pipelines.yaml:")
    assert "missing required input" in env.message and "allowed values: dev, prod" in env.message
    assert store.executions() == [] and probe.calls == []


def test_inputs_by_tail_and_variable_name(tmp_path: Path, store: Store, probe: Probe) -> None:
    project = write_project(tmp_path, DOC)
    execution = run_pipeline(
        project,
        "p",
        store=store,
        inputs={"outputs.url": "http://x", "env": "prod", "team": "core"},
        options=fast(),
    )
    assert outputs(execution) == {"url": "http://x", "env": "prod", "n": 3}
    assert store.execution(execution.id).inputs["pipeline"]["pipeline.variables[0].value"] == "core"  # type: ignore[union-attr]


def test_a_value_outside_the_allowed_ones(tmp_path: Path, store: Store, probe: Probe) -> None:
    with pytest.raises(ConfigError, match="not one of the allowed values: dev, prod"):
        run_pipeline(
            write_project(tmp_path, DOC),
            "p",
            store=store,
            inputs={"url": "u", "env": "qa", "team": "t"},
            options=fast(),
        )


def test_an_input_that_names_nothing(tmp_path: Path, store: Store, probe: Probe) -> None:
    with pytest.raises(ConfigError, match="nope"):
        run_pipeline(
            write_project(tmp_path, DOC),
            "p",
            store=store,
            inputs={"url": "u", "env": "dev", "team": "t", "nope": 1},
            options=fast(),
        )


def test_input_set_then_file_then_inputs(tmp_path: Path, store: Store, probe: Probe) -> None:
    project = write_project(tmp_path / "project", [DOC, INPUT_SET])  # inputs files stay outside it
    execution = run_pipeline(project, "p", store=store, input_sets=["dev_set"], options=fast())
    assert outputs(execution) == {"url": "http://dev", "env": "dev", "n": 3}
    assert execution.step("a").status == "Success"
    flat = tmp_path / "inputs.yaml"
    flat.write_text("url: http://file\nn: 5\n")
    execution = run_pipeline(
        project, "p", store=store, input_sets=["dev_set"], inputs_file=flat, inputs={"n": 9}, options=fast()
    )
    assert outputs(execution) == {"url": "http://file", "env": "dev", "n": 9}
    shaped = tmp_path / "inputs-set.yaml"
    shaped.write_text(INPUT_SET.replace("http://dev", "http://shaped").replace("payments", "x"))
    execution = run_pipeline(project, "p", store=store, inputs_file=shaped, options=fast())
    assert outputs(execution)["url"] == "http://shaped"


def test_unknown_input_set(tmp_path: Path, store: Store, probe: Probe) -> None:
    with pytest.raises(ConfigError, match="no input set of pipeline 'p'"):
        run_pipeline(write_project(tmp_path, DOC), "p", store=store, input_sets=["nope"], options=fast())


def test_service_inputs_are_checked_before_the_run(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "deploy",
                [probe_step("a", outputs={"image": "<+artifact.image>"})],
                type="Deployment",
                spec={
                    "service": {"serviceRef": "<+input>.allowedValues(web)"},
                    "environment": {
                        "environmentRef": "dev",
                        "infrastructureDefinitions": [{"identifier": "fargate"}],
                    },
                },
            )
        ],
    )
    project = write_project(tmp_path, doc, ecs=True)
    with pytest.raises(ConfigError, match="serviceRef"):
        run_pipeline(project, "p", store=store, options=fast())
    with pytest.raises(ConfigError, match="typo"):
        run_pipeline(project, "p", store=store, inputs={"serviceRef": "web", "typo": "x"}, options=fast())
    execution = run_pipeline(
        project, "p", store=store, inputs={"serviceRef": "web", "tag": "2.0"}, options=fast()
    )
    assert outputs(execution) == {"image": "registry.hub.docker.com/library/nginx:2.0"}
