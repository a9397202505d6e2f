"""`corral validate` refuses Harness's own-service steps (Blue Green, Canary, Basic) in a stage
whose service ECS deploys with its own strategy (config/native_stage_steps.py); EcsRollingDeploy
in that stage, or those steps on a ROLLING service, validate clean.

The project is the bad-input case tests/bad_inputs/config/native_harness-blue-green-on-native-service,
copied and changed per test."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import yaml
from click.testing import CliRunner

from corral.cli.main import cli

CASE = Path(__file__).parents[1] / "bad_inputs" / "config" / "native_harness-blue-green-on-native-service"
ROLLING_STEPS = """            steps:
              - step:
                  name: Rolling deploy
                  identifier: rolling_deploy
                  type: EcsRollingDeploy
                  timeout: 10m
                  spec: {}
            rollbackSteps:
              - step:
                  name: Rolling rollback
                  identifier: rolling_rollback
                  type: EcsRollingRollback
                  timeout: 10m
                  spec: {}
"""
CANARY_AND_BASIC_IN_A_GROUP = """            steps:
              - step:
                  name: Smoke test
                  identifier: smoke
                  type: ShellScript
                  timeout: 1m
                  spec:
                    shell: Bash
                    source: {type: Inline, spec: {script: echo ok}}
              - stepGroup:
                  name: Old ways
                  identifier: old_ways
                  steps:
                    - parallel:
                        - step:
                            name: Canary
                            identifier: canary
                            type: EcsCanaryDeploy
                            timeout: 10m
                            spec: {}
                        - step:
                            name: Service setup
                            identifier: setup
                            type: EcsServiceSetup
                            timeout: 10m
                            spec: {}
"""


def project(tmp_path: Path, *, strategy: str = "BLUE_GREEN", execution: str | None = None) -> Path:
    root = tmp_path / "project"
    shutil.copytree(CASE, root)
    (root / "expected.txt").unlink()
    service = root / "service.yaml"
    service.write_text(service.read_text().replace("strategy: BLUE_GREEN", f"strategy: {strategy}"))
    if execution is not None:
        pipeline = root / "pipeline.yaml"
        text = pipeline.read_text()
        head, _ = text.split("            steps:\n", 1)
        pipeline.write_text(head + execution)
    return root


def validate(root: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", "--project", str(root)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_harness_blue_green_on_a_native_blue_green_service_is_one_problem(tmp_path: Path) -> None:
    code, output = validate(project(tmp_path))
    assert code == 1
    problems = [line for line in output.splitlines() if re.match(r"^\S+\.yaml:\d+: ", line)]
    assert len(problems) == 1, output
    assert problems[0].startswith(
        "pipeline.yaml:22: pipeline.stages[0].stage.spec.execution.steps[0].step.type: "
    )
    assert "ECS's BLUE_GREEN strategy" in problems[0] and "Use EcsRollingDeploy" in problems[0]


def test_rolling_deploy_follows_a_native_service_and_validates(tmp_path: Path) -> None:
    for strategy in ("BLUE_GREEN", "LINEAR", "CANARY"):
        code, output = validate(project(tmp_path / strategy, strategy=strategy, execution=ROLLING_STEPS))
        assert code == 0, output


def test_harness_blue_green_on_a_rolling_service_validates(tmp_path: Path) -> None:
    code, output = validate(project(tmp_path, strategy="ROLLING"))
    assert code == 0, output


def test_the_problem_is_at_the_first_such_step_inside_groups_and_parallels(tmp_path: Path) -> None:
    root = project(tmp_path, strategy="LINEAR", execution=CANARY_AND_BASIC_IN_A_GROUP)
    code, output = validate(root)
    assert code == 1, output
    path = "pipeline.stages[0].stage.spec.execution.steps[1].stepGroup.steps[0].parallel[0].step.type"
    line = next(line for line in output.splitlines() if path in line)
    assert "ECS's LINEAR strategy" in line
    assert "EcsCanaryDeploy and EcsServiceSetup make services of their own" in line
    assert "(Harness's Basic and Canary deployments)" in line
    number = int(line.split(":")[1])
    assert "type: EcsCanaryDeploy" in (root / "pipeline.yaml").read_text().splitlines()[number - 1]


def test_only_the_stage_with_such_steps_is_named(tmp_path: Path) -> None:
    root = project(tmp_path)
    pipeline = root / "pipeline.yaml"
    document = yaml.safe_load(pipeline.read_text())
    harness_stage = document["pipeline"]["stages"][0]
    rolling_stage = yaml.safe_load(
        (project(tmp_path / "other", execution=ROLLING_STEPS) / "pipeline.yaml").read_text()
    )["pipeline"]["stages"][0]
    rolling_stage["stage"]["identifier"] = rolling_stage["stage"]["name"] = "rolling"
    document["pipeline"]["stages"] = [rolling_stage, harness_stage]
    pipeline.write_text(yaml.safe_dump(document, sort_keys=False))
    code, output = validate(root)
    assert code == 1
    assert "pipeline.stages[1].stage.spec.execution.steps[0].step.type: stage 'deploy'" in output
    assert "stage 'rolling'" not in output
