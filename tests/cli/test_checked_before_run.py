"""Every step's spec is checked by `corral validate`, `corral plan` and the start of `corral run`,
before anything runs; one pipeline's problems do not stop another's plan or a service's render."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml

from corral.sandbox import Sandbox
from tests.engine.helpers import pipeline, shell, stage, step, write_project

from .helpers import corral

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"


def ecs_stage(identifier: str, steps: list[Any]) -> dict[str, Any]:
    """A Deployment stage of the demo project's web service on its sandbox infrastructure."""
    return {
        "stage": {
            "name": identifier,
            "identifier": identifier,
            "type": "Deployment",
            "spec": {
                "deploymentType": "ECS",
                "service": {"serviceRef": "demo_web"},
                "environment": {
                    "environmentRef": "sandbox",
                    "infrastructureDefinitions": [{"identifier": "sandbox"}],
                },
                "execution": {"steps": steps},
            },
        }
    }


def three_stages(third: dict[str, Any]) -> str:
    """Deploy (rolling), then a script, then a stage with `third` as its step."""
    rolling = step("rolling", "EcsRollingDeploy", {"sameAsAlreadyRunningInstances": False}, timeout="5m")
    return pipeline(
        "three",
        [
            ecs_stage("first", [rolling]),
            stage("second", [shell("hi", "echo hi")]),
            ecs_stage("third", [third]),
        ],
    )


def demo_with(tmp_path: Path, text: str) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root)
    (root / "pipelines" / "three.yaml").write_text(text, encoding="utf-8")
    return root


def test_a_bad_spec_in_the_third_stage_fails_validate_and_run_before_anything_is_created(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    bad = step("canary", "EcsCanaryDeploy", {"instances": "many", "replicas": 2})
    root = demo_with(tmp_path, three_stages(bad))
    ecs = sandbox.client("ecs")
    families_before = ecs.list_task_definition_families()["families"]

    checked = corral("validate", "--project", str(root), "--offline")
    assert checked.exit_code == 1, checked.output
    where = "pipelines/three.yaml:"
    path = "pipeline.stages[2].stage.spec.execution.steps[0].step.spec"
    lines = checked.output.splitlines()
    assert any(where in line and f"{path}.instances: expected" in line and "'many'" in line for line in lines)
    assert any(where in line and f"{path}.replicas: unknown field" in line for line in lines), lines

    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    run = corral("run", "three", "--project", str(root), *store, *aws)
    assert run.exit_code == 2, run.output
    assert f"{path}.instances" in run.output and "stage first" not in run.output
    assert ecs.list_services(cluster="corral-demo")["serviceArns"] == []
    assert ecs.list_task_definition_families()["families"] == families_before

    planned = corral("plan", "three", "--project", str(root), *aws)
    assert planned.exit_code == 2 and f"{path}.replicas" in planned.output


def test_a_step_type_without_an_implementation_fails_at_validate_plan_and_run(tmp_path: Path) -> None:
    barrier = step("wait_for_all", "Barrier", {"barrierRef": "b"})
    write_project(tmp_path, pipeline("p", [stage("one", [shell("a", "echo a")]), stage("two", [barrier])]))
    message = "step type Barrier has no implementation in this build of Corral"
    for args in (("validate",), ("plan", "p"), ("run", "p")):
        result = corral(*args, cwd=tmp_path)
        assert result.exit_code in (1, 2) and message in result.output, (args, result.output)
        assert "pipeline.stages[1].stage.spec.execution.steps[0].step.type" in result.output
        assert "[one/a]" not in result.output  # nothing ran


def test_spec_fields_are_checked_by_type_with_expressions_left_for_the_run(tmp_path: Path) -> None:
    steps = [
        step("w", "Wait", {"duration": "ten minutes"}),
        step("later", "Wait", {"duration": "<+pipeline.variables.pause>"}),  # resolves at start
        step("h", "Http", {"method": "GET"}),  # no url
        step(
            "s",
            "ShellScript",
            {"shell": "Bash", "source": {"type": "Inline", "spec": {"script": "true"}}, "sript": 1},
        ),
        shell("slow", "echo", timeout="forever"),
        shell("uses", "echo <+pipeline.variables.nope> <+stage.variables.mine>"),
    ]
    text = pipeline(
        "p",
        [stage("one", steps, variables=[{"name": "mine", "type": "String", "value": "x"}])],
        variables=[{"name": "pause", "type": "String", "value": "<+input>"}],
    )
    write_project(tmp_path, text)
    result = corral("validate", cwd=tmp_path)
    assert result.exit_code == 1
    at = "pipeline.stages[0].stage.spec.execution.steps"
    out = result.output
    assert (
        f"{at}[0].step.spec.duration: expected a duration such as 10m, 1h30m or 45s, got 'ten minutes'" in out
    )
    assert f"{at}[1].step" not in out  # a run-time input: any duration may come
    assert f"{at}[2].step.spec.url: " in out and "required" in out
    assert f"{at}[3].step.spec.sript: unknown field" in out
    assert f"{at}[4].step.timeout: expected a duration" in out
    assert (
        f"{at}[5].step.spec.source.spec.script: no pipeline variable 'nope' (the pipeline has: pause)" in out
    )
    assert "stage.variables.mine" not in out
    for line in out.splitlines()[:-1]:
        assert line.startswith("pipelines.yaml:"), line  # every problem names the file and line


def test_one_broken_pipeline_stops_neither_another_pipeline_nor_a_render(tmp_path: Path) -> None:
    broken = pipeline("broken", [stage("s", [step("x", "Wait", {"duration": "1s"}, timeout="soon")])])
    unloadable = yaml.safe_dump({"pipeline": {"identifier": "worse", "name": "worse", "stages": "none"}})
    good = pipeline("good", [stage("s", [shell("hello", "echo hello")])])
    write_project(tmp_path, [broken, unloadable, good], ecs=True)
    assert corral("validate", cwd=tmp_path).exit_code == 1
    ran = corral("run", "good", "--store", f"sqlite:///{tmp_path / 'c.db'}", cwd=tmp_path)
    assert ran.exit_code == 0, ran.output
    assert "[s/hello] hello" in ran.output
    assert corral("plan", "good", cwd=tmp_path).exit_code == 0
    refused = corral("plan", "broken", cwd=tmp_path)
    assert refused.exit_code == 2 and "step.timeout" in refused.output
    rendered = corral("render", "--service", "web", "--env", "dev", "--infra", "fargate", cwd=tmp_path)
    assert rendered.exit_code == 0, rendered.output
    assert "worse" not in rendered.output


def test_harness_canary_on_a_native_strategy_service_fails_validate_and_run_before_anything_is_created(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    """The third stage's Canary makes a service of its own; the web service is on ECS's LINEAR
    strategy (config/native_stage_steps.py): refused before the first stage deploys."""
    canary = step("canary", "EcsCanaryDeploy", {}, timeout="5m")
    root = demo_with(tmp_path, three_stages(canary))
    request = root / "files" / "account" / "web" / "CreateServiceRequest.yaml"
    definition = yaml.safe_load(request.read_text(encoding="utf-8"))
    definition["deploymentConfiguration"] = {"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 50}}
    definition["serviceConnectConfiguration"] = {"enabled": True, "namespace": "corral-demo"}
    request.write_text(yaml.safe_dump(definition, sort_keys=False), encoding="utf-8")
    for harness_own_services in ("basic.yaml", "canary.yaml"):  # the demo's own, refused the same way
        (root / "pipelines" / harness_own_services).unlink()
    ecs = sandbox.client("ecs")
    families_before = ecs.list_task_definition_families()["families"]
    path = "pipeline.stages[2].stage.spec.execution.steps[0].step.type"
    said = "stage 'third' deploys service 'demo_web' with ECS's LINEAR strategy"

    checked = corral("validate", "--project", str(root), "--offline")
    assert checked.exit_code == 1, checked.output
    [line] = [line for line in checked.output.splitlines() if path in line]
    assert line.startswith("pipelines/three.yaml:") and said in line and "Use EcsRollingDeploy" in line

    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    run = corral("run", "three", "--project", str(root), *store, *aws, "--input", "tag=1")
    assert run.exit_code == 2, run.output
    assert f"{path}: {said}" in run.output and "[first/" not in run.output
    assert ecs.list_services(cluster="corral-demo")["serviceArns"] == []
    assert ecs.list_task_definition_families()["families"] == families_before
