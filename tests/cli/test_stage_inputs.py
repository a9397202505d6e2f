"""Stage inputs as Harness writes them (config/stage_inputs.py): fixed serviceInputs and
infrastructure inputs apply, `<+input>` there asks for the entities' own inputs, `serviceRef:
<+input>` is asked for with its choices, and useFromStage carries the service and its inputs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import yaml

from corral.demo import prepare_sandbox
from corral.sandbox import Sandbox

from .helpers import corral

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
ROLLING = {
    "step": {
        "name": "Rolling",
        "identifier": "rolling",
        "type": "EcsRollingDeploy",
        "timeout": "5m",
        "spec": {"sameAsAlreadyRunningInstances": False, "forceNewDeployment": False},
    }
}


def service_inputs(tag: str) -> dict[str, Any]:
    """serviceInputs fixing the demo web service's artifact tag (its `tag: <+input>`)."""
    source = {"identifier": "app", "type": "DockerRegistry", "spec": {"tag": tag}}
    return {"serviceDefinition": {"type": "ECS", "spec": {"artifacts": {"primary": {"sources": [source]}}}}}


def infra_inputs(prepared: dict[str, Any]) -> dict[str, Any]:
    network = {"subnets": [prepared["subnets[0]"]], "securityGroups": [prepared["securityGroups[0]"]]}
    return {"identifier": "sandbox", "type": "ECS", "spec": {"networkConfiguration": network}}


def deploy_stage(identifier: str, service: dict[str, Any], environment: dict[str, Any]) -> dict[str, Any]:
    spec = {
        "deploymentType": "ECS",
        "service": service,
        "environment": environment,
        "execution": {"steps": [ROLLING]},
    }
    return {"stage": {"name": identifier, "identifier": identifier, "type": "Deployment", "spec": spec}}


def project_with(tmp_path: Path, identifier: str, stages: list[dict[str, Any]]) -> Path:
    root = tmp_path / "demo"
    if not root.exists():
        shutil.copytree(DEMO, root)
    document = {"pipeline": {"name": identifier, "identifier": identifier, "stages": stages}}
    (root / "pipelines" / f"{identifier}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    return root


def images(sandbox: Sandbox) -> list[str]:
    ecs = sandbox.client("ecs")
    arns = ecs.list_task_definitions(familyPrefix="demo-web")["taskDefinitionArns"]
    return [
        ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["containerDefinitions"][0]["image"]
        for arn in arns
    ]


def test_fixed_service_and_infrastructure_inputs_apply_and_use_from_stage_carries_them(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    prepared = prepare_sandbox(sandbox.endpoint_url)
    environment = {
        "environmentRef": "sandbox",
        "deployToAll": False,
        "infrastructureDefinitions": [{"identifier": "sandbox", "inputs": infra_inputs(prepared)}],
    }
    first = deploy_stage(
        "first", {"serviceRef": "demo_web", "serviceInputs": service_inputs("7")}, environment
    )
    again = deploy_stage("again", {"useFromStage": {"stage": "first"}}, environment)
    root = project_with(tmp_path, "fixed", [first, again])

    checked = corral("validate", "--project", str(root), "--offline")
    assert checked.exit_code == 0, checked.output
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    # no --input at all: the tag, subnet and security group are fixed by the stages
    run = corral("run", "fixed", "--project", str(root), *store, "--json")
    assert run.exit_code == 0, run.output
    out = json.loads(run.output)
    assert out["status"] == "Success"
    assert [s["key"] for s in out["steps"] if s["status"] == "Success"] == ["first/rolling", "again/rolling"]
    # both stages deployed the fixed tag (the second found the same task definition registered)
    assert images(sandbox) == ["registry.demo.internal/demo/web:7"]
    [service] = sandbox.client("ecs").describe_services(cluster="corral-demo", services=["demo-web"])[
        "services"
    ]
    assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [prepared["subnets[0]"]]


def test_runtime_stage_inputs_ask_for_the_chosen_entities_inputs_with_choices(
    sandbox: Sandbox, aws: list[str], tmp_path: Path
) -> None:
    service = {"serviceRef": "<+input>", "serviceInputs": "<+input>"}
    environment = {
        "environmentRef": "<+input>",
        "deployToAll": False,
        "environmentInputs": "<+input>",
        "serviceOverrideInputs": "<+input>",
        "infrastructureDefinitions": "<+input>",
    }
    root = project_with(tmp_path, "chosen", [deploy_stage("deploy", service, environment)])

    listed = corral("validate", "--project", str(root), "--offline")
    assert listed.exit_code == 0, listed.output
    lines = [line for line in listed.output.splitlines() if "pipelines/chosen.yaml" in line]
    assert any(
        "spec.service.serviceRef: String, required, allowed values: demo_bg, demo_job, demo_linear, demo_native, demo_web"
        in line
        for line in lines
    ), lines
    assert any("environmentRef: String, required, allowed values: sandbox" in line for line in lines)
    assert any(
        "infrastructureDefinitions: String, required, allowed values: sandbox" in line for line in lines
    )
    assert not any("serviceInputs" in line or "environmentInputs" in line for line in lines), lines

    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    missing = corral("run", "chosen", "--project", str(root), *store, *aws)
    assert missing.exit_code == 2
    assert "spec.service.serviceRef: missing required input" in missing.output
    assert "allowed values: demo_bg, demo_job, demo_linear, demo_native, demo_web" in missing.output
    assert "serviceInputs" not in missing.output  # `<+input>` there is no input of its own
    chosen = ["--input", "environmentRef=sandbox", "--input", "infrastructureDefinitions=sandbox"]
    wrong = corral(
        "run", "chosen", "--project", str(root), *store, *aws, *chosen, "--input", "serviceRef=nope"
    )
    assert wrong.exit_code == 2 and "'nope' is not one of the allowed values" in wrong.output, wrong.output

    chosen += ["--input", "serviceRef=demo_web", "--input", "tag=3"]
    run = corral("run", "chosen", "--project", str(root), *store, *aws, *chosen, "--json")
    assert run.exit_code == 0, run.output
    assert json.loads(run.output)["status"] == "Success"
    assert images(sandbox) == ["registry.demo.internal/demo/web:3"]  # the chosen service's own input


def test_a_fixed_value_where_the_entity_has_no_input_is_a_problem(tmp_path: Path) -> None:
    inputs = service_inputs("7")
    inputs["serviceDefinition"]["spec"]["artifacts"]["primary"]["sources"][0]["spec"]["imagePath"] = "other"
    environment = {"environmentRef": "sandbox", "infrastructureDefinitions": [{"identifier": "sandbox"}]}
    stage = deploy_stage("deploy", {"serviceRef": "demo_web", "serviceInputs": inputs}, environment)
    root = project_with(tmp_path, "wrong", [stage])
    checked = corral("validate", "--project", str(root), "--offline")
    assert checked.exit_code == 1
    assert (
        "pipelines/wrong.yaml:" in checked.output
        and "pipeline.stages[0].stage.spec.service.serviceInputs.serviceDefinition.spec.artifacts.primary"
        ".sources[0].spec.imagePath: not a run-time input of service 'demo_web' (its value there is 'demo/web')"
        in checked.output
    ), checked.output
