"""The Harness corpus's looped pipeline (tests/harness_corpus/ecs_tutorial/pipelines/
ecs_matrix_rollout.yaml): a Deploy stage looped by a matrix of services, environments and
infrastructures (with `exclude` and `maxConcurrency`), and inside it a step looped by
`repeat.items`, in the shapes of Harness's looping strategy pages. It validates, plans and deploys
each iteration's service to its own cluster on the sandbox through `corral` as its own process.
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

PIPELINE = "ECS_Matrix_Rollout"
# (service, environment, infrastructure) left after the three `exclude` rules, in matrix order
ITERATIONS = [
    ("Deploy_0_0_0", "ecs_tutorial", "devEcs"),
    ("Deploy_0_1_1", "ecs_tutorial", "uatEcs"),
    ("Deploy_1_0_0", "ecs_scheduled", "devEcs"),
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return corpus_copy(tmp_path)


@pytest.mark.sandbox(speed=150)
def test_the_matrix_rollout_deploys_each_iteration_in_turn(
    sandbox: Sandbox, project: Path, tmp_path: Path
) -> None:
    ecs = sandbox.client("ecs")
    subnet, group = default_network(sandbox)
    for cluster in ("staging", "uat"):  # the two infrastructure definitions' clusters
        ecs.create_cluster(clusterName=cluster)
    aws = sandbox_aws(sandbox)
    inputs = ["--input", f"variables[0].value={group}", "--input", f"variables[1].value={subnet}"]
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]

    validate = corral_cli("validate", "--project", str(project), cwd=project)
    assert validate.returncode == 0, validate.stdout + validate.stderr

    plan = corral_cli("plan", PIPELINE, *inputs, cwd=project, env=aws)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    stages = [line for line in plan.stdout.splitlines() if line.startswith("stage Deploy_")]
    assert [line.split(":")[0] for line in stages] == [f"stage {i[0]}" for i in ITERATIONS], plan.stdout

    run = corral_cli("run", PIPELINE, *store, *inputs, "--json", cwd=project, env=aws)
    assert run.returncode == 0, run.stdout + run.stderr
    execution = json.loads(run.stdout)
    assert execution["status"] == "Success"
    assert [s["identifier"] for s in execution["stages"]] == [i[0] for i in ITERATIONS]
    smoke = [s for s in execution["steps"] if s["identifier"].startswith("smoke_")]
    assert len(smoke) == 2 * len(ITERATIONS) and all(s["status"] == "Success" for s in smoke)

    for stage, service, environment in ITERATIONS:
        logs = corral_cli("logs", execution["id"], "--step", f"{stage}/smoke_1", *store, cwd=project)
        assert f"check version of {service} in {environment}" in logs.stdout, logs.stdout + logs.stderr
    # each cluster runs the service; the scheduled one (the last on staging) brought its action
    for cluster in ("staging", "uat"):
        [service] = ecs.describe_services(cluster=cluster, services=["myapp"])["services"]
        assert service["runningCount"] == service["desiredCount"] == 1, cluster
        task_definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])[
            "taskDefinition"
        ]
        assert task_definition["containerDefinitions"][0]["image"] == IMAGE
    actions = sandbox.client("application-autoscaling").describe_scheduled_actions(ServiceNamespace="ecs")
    assert [a["ResourceId"] for a in actions["ScheduledActions"]] == ["service/staging/myapp"]
