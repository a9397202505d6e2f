"""The Harness corpus's templates (tests/harness_corpus/ecs_tutorial/templates/): a Stage template
for an ECS rolling deploy used with templateInputs, a Step template with two versions (one
stable), a StepGroup template and a Pipeline template, each in the shape of Harness's published
example it names. The two pipelines that use them validate, plan and deploy the ECS tutorial's
service on the sandbox through `corral` run as its own process.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from corral.sandbox import Sandbox
from tests.test_harness_corpus import (
    IMAGE,
    corpus_copy,
    corral_cli,
    default_network,
    sandbox_aws,
)

PIPELINES = ("ECS_Rolling_Stage_Template", "ECS_Golden")
CONDITION = "pipeline.stages[0].stage.spec.execution.steps[1].stepGroup.when.condition"
STAGE_CONDITION = "pipeline.stages[0].stage.when.condition"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return corpus_copy(tmp_path)


def test_the_templates_and_their_uses_validate(project: Path) -> None:
    result = corral_cli("validate", "--project", str(project), cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    # the inputs the stage template's use leaves to run time, named where the use left them
    lines = result.stdout.splitlines()
    assert f"  pipelines/ecs_rolling_stage_template.yaml:37: {CONDITION}: String, required" in lines, (
        result.stdout
    )
    assert f"  pipelines/ecs_rolling_stage_template.yaml:49: {STAGE_CONDITION}: String, required" in lines


@pytest.mark.sandbox(speed=150)
def test_each_pipeline_of_templates_plans_and_deploys_on_the_sandbox(
    sandbox: Sandbox, project: Path, tmp_path: Path
) -> None:
    ecs = sandbox.client("ecs")
    subnet, group = default_network(sandbox)
    ecs.create_cluster(clusterName="staging")  # the infrastructure definition's cluster
    aws = sandbox_aws(sandbox)
    inputs = ["--input", f"variables[0].value={group}", "--input", f"variables[1].value={subnet}"]
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    notices = {
        # the stage template's step takes the stable version (0.0.2) of the Step template
        "ECS_Rolling_Stage_Template": "notice 0.0.2 for ECS Tutorial in devEcs: deployed by the stage template",
        "ECS_Golden": "notice 0.0.2 for ECS Tutorial in devEcs: deployed by the golden pipeline",
    }
    for pipeline in PIPELINES:
        extra = ["--input", f"{CONDITION}=true", "--input", f"{STAGE_CONDITION}=true"]
        extra = extra if pipeline == "ECS_Rolling_Stage_Template" else []
        plan = corral_cli("plan", pipeline, *inputs, *extra, cwd=project, env=aws)
        assert plan.returncode == 0, plan.stdout + plan.stderr
        assert any(
            line.startswith("stage ") and "service myapp in cluster staging" in line
            for line in plan.stdout.splitlines()
        ), plan.stdout

        run = corral_cli("run", pipeline, *store, *inputs, *extra, cwd=project, env=aws)
        assert run.returncode == 0, run.stdout + run.stderr
        lines = run.stdout.splitlines()
        assert any(line.endswith(notices[pipeline]) for line in lines), run.stdout
        # the step group template's own step, and its step from version 0.0.1 of the Step template
        assert any(line.endswith("] checked ECS Tutorial on staging") for line in lines), run.stdout
        assert any(line.endswith("] notice 0.0.1: rollout verified") for line in lines), run.stdout
        assert any(line.startswith("execution ") and ": Success in " in line for line in lines), run.stdout

        [service] = ecs.describe_services(cluster="staging", services=["myapp"])["services"]
        assert service["status"] == "ACTIVE" and service["runningCount"] == service["desiredCount"] == 1
        task_definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
            "taskDefinition"
        ]
        assert task_definition["containerDefinitions"][0]["image"] == IMAGE

    shown = json.loads(corral_cli("executions", "--json", *store, cwd=project, env=aws).stdout)
    assert [(e["pipeline"], e["status"]) for e in shown] == [
        ("ECS_Golden", "Success"),
        ("ECS_Rolling_Stage_Template", "Success"),
    ]
