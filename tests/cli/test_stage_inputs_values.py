"""Fixed environmentInputs, serviceOverrideInputs and serviceInputs reach what the stage's steps
see (<+env.variables.*>, <+serviceVariables.*>, <+artifact.tag>), and an input set may give a
whole serviceInputs mapping. No AWS call: the stage runs a script only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from tests.engine.helpers import ENVIRONMENT, pipeline, shell, write_project

from .helpers import corral

# the helpers' environment, with a run-time input variable and the web service's overrides
ENVIRONMENT_WITH_INPUTS = ENVIRONMENT.replace(
    "      value: blue\n",
    "      value: <+input>\n"
    "  serviceOverrides:\n"
    "    - serviceRef: web\n"
    "      variables:\n"
    "        - name: size\n"
    "          type: String\n"
    "          value: <+input>\n",
    1,
)
SAY = "echo color=<+env.variables.color> size=<+serviceVariables.size> tag=<+artifact.tag>"


def deploy(service: dict[str, Any], environment: dict[str, Any]) -> dict[str, Any]:
    spec = {
        "deploymentType": "ECS",
        "service": {"serviceRef": "web", **service},
        "environment": {
            "environmentRef": "dev",
            "infrastructureDefinitions": [{"identifier": "fargate"}],
            **environment,
        },
        "execution": {"steps": [shell("say", SAY)]},
    }
    return {"stage": {"name": "deploy", "identifier": "deploy", "type": "Deployment", "spec": spec}}


def tag_inputs(tag: str) -> dict[str, Any]:
    source = {"identifier": "nginx", "type": "DockerRegistry", "spec": {"tag": tag}}
    return {"serviceDefinition": {"type": "ECS", "spec": {"artifacts": {"primary": {"sources": [source]}}}}}


def project(root: Path, *docs: str) -> Path:
    return write_project(root, list(docs), ecs=True, extra={"environment.yaml": ENVIRONMENT_WITH_INPUTS})


def test_fixed_environment_override_and_service_inputs_reach_the_steps(tmp_path: Path) -> None:
    fixed = deploy(
        {"serviceInputs": tag_inputs("1.26")},
        {
            "environmentInputs": {
                "identifier": "dev",
                "type": "PreProduction",
                "variables": [{"name": "color", "type": "String", "value": "green"}],
            },
            "serviceOverrideInputs": {"variables": [{"name": "size", "type": "String", "value": "large"}]},
        },
    )
    project(tmp_path, pipeline("fixed", [fixed]))
    result = corral("run", "fixed", "--store", f"sqlite:///{tmp_path / 'c.db'}", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "  [deploy/say] color=green size=large tag=1.26" in result.output.splitlines()


def test_inputs_left_to_the_run_are_asked_for_as_the_entities_own(tmp_path: Path) -> None:
    asked = deploy(
        {"serviceInputs": "<+input>"}, {"environmentInputs": "<+input>", "serviceOverrideInputs": "<+input>"}
    )
    project(tmp_path, pipeline("asked", [asked]))
    store = ["--store", f"sqlite:///{tmp_path / 'c.db'}"]
    missing = corral("run", "asked", *store, cwd=tmp_path)
    assert missing.exit_code == 2
    assert "environment.variables[0].value: missing required input" in missing.output
    assert "serviceInputs" not in missing.output and "environmentInputs" not in missing.output
    given = [
        "--input",
        "environment.variables[0].value=red",
        "--input",
        "serviceOverrides[0].variables[0].value=small",
        "--input",
        "tag=1.27",
    ]
    result = corral("run", "asked", *store, *given, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "  [deploy/say] color=red size=small tag=1.27" in result.output.splitlines()


def test_an_input_set_gives_a_whole_service_inputs_mapping(tmp_path: Path) -> None:
    asked = deploy(
        {"serviceInputs": "<+input>"}, {"environmentInputs": "<+input>", "serviceOverrideInputs": "<+input>"}
    )
    stage = {
        "stage": {
            "identifier": "deploy",
            "type": "Deployment",
            "spec": {"service": {"serviceInputs": tag_inputs("1.24")}},
        }
    }
    input_set = yaml.safe_dump(
        {
            "inputSet": {
                "name": "old",
                "identifier": "old",
                "pipeline": {"identifier": "asked", "stages": [stage]},
            }
        }
    )
    project(tmp_path, pipeline("asked", [asked]), input_set)
    checked = corral("validate", cwd=tmp_path)  # the input set needs no value for the other fragments
    assert checked.exit_code == 0, checked.output
    given = [
        "--input",
        "environment.variables[0].value=red",
        "--input",
        "serviceOverrides[0].variables[0].value=small",
        "--input-set",
        "old",
    ]
    result = corral("run", "asked", "--store", f"sqlite:///{tmp_path / 'c.db'}", *given, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "  [deploy/say] color=red size=small tag=1.24" in result.output.splitlines()


def test_entity_inputs_given_at_run_time_reach_a_script_as_data(tmp_path: Path) -> None:
    asked = deploy(
        {"serviceInputs": "<+input>"}, {"environmentInputs": "<+input>", "serviceOverrideInputs": "<+input>"}
    )
    project(tmp_path, pipeline("asked", [asked]))
    given = ["--input", "environment.variables[0].value=$(echo ran)", "--input", "tag=1.27"]
    given += ["--input", "serviceOverrides[0].variables[0].value=`echo ran`"]
    result = corral("run", "asked", "--store", f"sqlite:///{tmp_path / 'c.db'}", *given, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "  [deploy/say] color=$(echo ran) size=`echo ran` tag=1.27" in result.output.splitlines()


def test_deploy_to_all_takes_the_environments_one_infrastructure_and_refuses_several(tmp_path: Path) -> None:
    stage = deploy({"serviceInputs": "<+input>"}, {"deployToAll": True})
    del stage["stage"]["spec"]["environment"]["infrastructureDefinitions"]
    project(tmp_path, pipeline("all", [stage]))
    given = [
        "--input",
        "environment.variables[0].value=red",
        "--input",
        "serviceOverrides[0].variables[0].value=s",
    ]
    result = corral("run", "all", "--store", f"sqlite:///{tmp_path / 'c.db'}", *given, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "  [deploy/say] color=red size=s tag=1.25" in result.output.splitlines()

    second = ENVIRONMENT.split("---\n", 1)[1].replace("identifier: fargate", "identifier: fargate_b")
    (tmp_path / "second.yaml").write_text(second, encoding="utf-8")
    refused = corral("validate", cwd=tmp_path)
    assert refused.exit_code == 1
    assert (
        "pipeline.stages[0].stage.spec.environment.deployToAll: environment 'dev' has 2 infrastructures "
        "(fargate, fargate_b); a Corral stage deploys to one" in refused.output
    ), refused.output


def test_input_fields_inside_stage_inputs_are_asked_for_as_the_entities_own(tmp_path: Path) -> None:
    """Harness writes `sources: <+input>` inside serviceInputs when the service's sources are
    run-time inputs; a fixed field beside such ones still applies."""
    primary = {"primaryArtifactRef": "<+input>", "sources": "<+input>"}
    service = {
        "serviceInputs": {"serviceDefinition": {"type": "ECS", "spec": {"artifacts": {"primary": primary}}}}
    }
    variables = [{"name": "color", "type": "String", "value": "<+input>"}]
    overrides = {"variables": [{"name": "size", "type": "String", "value": "medium"}]}
    stage = deploy(
        service, {"environmentInputs": {"variables": variables}, "serviceOverrideInputs": overrides}
    )
    project(tmp_path, pipeline("nested", [stage]))
    given = ["--input", "environment.variables[0].value=red", "--input", "tag=1.3"]
    result = corral("run", "nested", "--store", f"sqlite:///{tmp_path / 'c.db'}", *given, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "  [deploy/say] color=red size=medium tag=1.3" in result.output.splitlines()
