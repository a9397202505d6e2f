"""`corral validate` names a manifest's `<+pipeline.variables.x>` that a pipeline deploying the
service does not declare (config/run_value_checks.py): a run of that pipeline would fail its ECS
steps. The project is the bad-input case tests/bad_inputs/config/run-values-pipeline-variable-undeclared,
copied and changed per test."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from corral.cli.main import cli

CASE = Path(__file__).parents[1] / "bad_inputs" / "config" / "run-values-pipeline-variable-undeclared"
WHERE = "service.yaml:34 (inline service_def): tags[0].value: reads pipeline variable 'release'"


def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(CASE, root)
    (root / "expected.txt").unlink()
    return root


def edit_pipeline(root: Path, change: Any, *, into: str = "pipeline.yaml") -> None:
    """Apply change(document) to a copy of the case's pipeline, written to `into`."""
    document = yaml.safe_load((root / "pipeline.yaml").read_text())
    change(document["pipeline"])
    (root / into).write_text(yaml.safe_dump(document, sort_keys=False))


def declare_release(pipeline: dict[str, Any]) -> None:
    pipeline["variables"] = [{"name": "release", "type": "String", "value": "<+input>"}]


def validate(root: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", "--project", str(root), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_a_declared_pipeline_variable_validates(tmp_path: Path) -> None:
    root = project(tmp_path)
    edit_pipeline(root, declare_release)
    code, output = validate(root)
    assert code == 0, output
    assert "reads pipeline variable" not in output


def test_only_the_pipelines_that_lack_it_are_named(tmp_path: Path) -> None:
    root = project(tmp_path)

    def second(pipeline: dict[str, Any]) -> None:
        pipeline["identifier"], pipeline["name"] = "hotfix", "Hotfix"

    edit_pipeline(root, second, into="hotfix.yaml")
    edit_pipeline(root, declare_release)
    code, output = validate(root)
    assert code == 1
    assert f"{WHERE}, which pipeline 'hotfix' (hotfix.yaml) does not declare: " in output
    assert "'rolling'" not in output
    edit_pipeline(root, lambda p: p.pop("variables"))
    code, output = validate(root)
    assert "which pipelines 'hotfix' (hotfix.yaml), 'rolling' (pipeline.yaml) do not declare" in output


def test_a_pipeline_that_takes_any_service_gets_a_warning(tmp_path: Path) -> None:
    root = project(tmp_path)

    def any_service(pipeline: dict[str, Any]) -> None:
        pipeline["stages"][0]["stage"]["spec"]["service"]["serviceRef"] = "<+input>"

    edit_pipeline(root, any_service)
    code, output = validate(root)
    assert code == 0, output
    assert (
        f"{WHERE}, which pipeline 'rolling' (pipeline.yaml) does not declare; it deploys whichever" in output
    )
    code, _ = validate(root, "--strict")
    assert code == 1


def test_other_run_time_values_and_other_services_are_left_alone(tmp_path: Path) -> None:
    """<+pipeline.sequenceId> is the run's own; a service no pipeline deploys has no one to ask."""
    root = project(tmp_path)
    edit_pipeline(root, declare_release)
    service = root / "service.yaml"
    text = service.read_text()
    service.write_text(
        text + "---\n" + text.replace("identifier: web", "identifier: api").replace("name: Web", "name: Api")
    )
    code, output = validate(root)
    assert code == 0, output
    assert "reads pipeline variable" not in output


def test_stage_variables_are_looked_for_on_the_stage_that_deploys_the_service(tmp_path: Path) -> None:
    root = project(tmp_path)
    edit_pipeline(root, declare_release)
    service = root / "service.yaml"
    service.write_text(
        service.read_text().replace("run-<+pipeline.sequenceId>", '<+stage.variables["track"]>')
    )
    code, output = validate(root)
    assert code == 1
    assert (
        "service.yaml:34 (inline service_def): tags[1].value: reads stage variable 'track', which stage "
        "'deploy' of pipeline 'rolling' (pipeline.yaml) does not declare: a run fails the stage's ECS steps "
        "before they change anything (declare 'track' under the stage's variables)"
    ) in output

    def declare_track(pipeline: dict[str, Any]) -> None:
        pipeline["stages"][0]["stage"]["variables"] = [{"name": "track", "type": "String", "value": "stable"}]

    edit_pipeline(root, declare_track)
    code, output = validate(root)
    assert code == 0, output
