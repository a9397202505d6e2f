"""The Harness corpus (tests/harness_corpus/) validates, renders and deploys as Harness users wrote it.

Every file there is in a shape of Harness's published documentation or public repositories (each
names its example). `corral validate` and `corral render` run on the project as it is, as a
separate process, and `corral run` deploys the ECS tutorial's service on the sandbox through the
tutorial's rolling pipeline. `pending/` holds files that need a feature not yet on this branch;
a folder named in READY_PENDING is laid over the project (same paths) and checked with it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from corral.sandbox import Sandbox

CORPUS = Path(__file__).parent / "harness_corpus"
PROJECT = CORPUS / "ecs_tutorial"
# pending/<name> folders whose feature has landed: their files join the project (same paths)
READY_PENDING: tuple[str, ...] = (
    "overrides_v2",
    "describe_paste",
    "irsa_oidc_connectors",
    "exported_secrets",
    "runtime_inputs",
    "scope_builtins",
    "unquoted_expressions",
    "primary_artifact_alias",
    "ecr_without_registry_id",
    "connector_extra_fields",
    "env_config_files",
    "standalone_traffic_shift_rollback",
)
# what each pending folder adds that `corral render` shows: (service, environment, infrastructure)
PENDING_PAIRS: dict[str, list[tuple[str, str, str]]] = {
    "primary_artifact_alias": [("ecs_tutorial_alias", "devEcs", "ecsDevCluster")],
    "ecr_without_registry_id": [("ecs_ecr", "devEcs", "ecsDevCluster")],
    "runtime_inputs": [],  # its <+input> tag needs --input at render; validate covers it
    "overrides_v2": [("ecs_tutorial", "prodEcs", "ecsProdCluster")],
    "env_config_files": [],
    "unquoted_expressions": [("ecs_unquoted", "devEcs", "ecsDevCluster")],
    "describe_paste": [("described_service", "devEcs", "ecsDevCluster")],
    "connector_extra_fields": [],
    "irsa_oidc_connectors": [],
    "exported_secrets": [],
    "scope_builtins": [("scoped_service", "devEcs", "ecsDevCluster")],
    "standalone_traffic_shift_rollback": [],  # a pipeline: validate covers it
}

# (service, environment, infrastructure) pairs the corpus pipeline and environments make
PAIRS = [
    ("ecs_tutorial", "devEcs", "ecsDevCluster"),
    ("ecs_tutorial", "prodEcs", "ecsProdCluster"),
    ("ecs_tutorial_json", "devEcs", "ecsDevCluster"),
    ("ecs_tutorial_json", "prodEcs", "ecsProdCluster"),
    ("ecs_bluegreen", "devEcs", "ecsDevCluster"),
    ("ecs_scheduled", "devEcs", "ecsDevCluster"),
]
IMAGE = "registry.hub.docker.com/library/nginx:perl"  # the tutorial's Docker Hub image, fixed tag


def corral_cli(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`corral ARGS` as its own process (the worktree's code: PYTHONPATH is inherited)."""
    return subprocess.run(
        [sys.executable, "-m", "corral.cli", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **(env or {})},
    )


def corpus_copy(tmp_path: Path) -> Path:
    """The corpus project with the ready pending folders laid over it, in a scratch folder (so
    nothing Corral writes, such as `.corral/`, lands in the repository)."""
    root = tmp_path / "ecs_tutorial"
    shutil.copytree(PROJECT, root)
    for name in READY_PENDING:
        shutil.copytree(CORPUS / "pending" / name, root, dirs_exist_ok=True)
    return root


def sandbox_aws(sandbox: Sandbox) -> dict[str, str]:
    """The environment of a `corral` process whose connectors inherit credentials: the sandbox."""
    return {
        "AWS_ENDPOINT_URL": sandbox.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return corpus_copy(tmp_path)


def _notes_for(path: Path) -> Path | None:
    """The NOTES.md that speaks for a JSON file: beside it, or that of its pending folder."""
    for folder in path.parents:
        if (folder / "NOTES.md").exists():
            return folder / "NOTES.md"
        if folder == CORPUS:
            return None
    return None


def _leading_comment(text: str) -> str:
    lines = []
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        lines.append(line)
    return "\n".join(lines)


def test_every_corpus_file_names_the_published_example_it_follows() -> None:
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix in {".yaml", ".yml", ".json"}]
    assert len(files) >= 20
    for path in files:
        if path.suffix == ".json":
            notes = _notes_for(path)
            assert notes is not None and path.name in notes.read_text(encoding="utf-8"), path
            assert "https://" in notes.read_text(encoding="utf-8"), notes
            continue
        # each document of a YAML file opens with a comment naming its example (or saying it is
        # Corral's own addition)
        for document in path.read_text(encoding="utf-8").split("\n---\n"):
            comment = _leading_comment(document)
            assert "https://" in comment or "Corral" in comment, f"{path}: {document[:80]!r}"


def test_the_project_validates_as_written(project: Path) -> None:
    result = corral_cli("validate", "--project", str(project), cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    # info lines (pasted describe output) may come first; then the summary, then the runtime
    # inputs a run will ask for (indented)
    lines = result.stdout.splitlines()
    summary = [line for line in lines if line.startswith("ok: ")]
    assert summary and summary[0].startswith("ok: Harness corpus (ECS tutorial): "), result.stdout
    # the only warnings: secrets exported without their value, once each (pending/exported_secrets)
    warnings = [line for line in lines if line.startswith("warning: ")]
    assert all("exported from Harness" in line for line in warnings), warnings
    assert len(warnings) == ("exported_secrets" in READY_PENDING)
    if not READY_PENDING:  # the pipeline's pair; the JSON and Blue Green services on both infrastructures
        assert "3 services rendered for 5 service/infrastructure pairs" in result.stdout


def test_every_pending_folder_is_listed_with_what_it_renders() -> None:
    assert sorted(PENDING_PAIRS) == sorted(p.name for p in (CORPUS / "pending").iterdir() if p.is_dir())
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    assert all(f"`{name}`" in readme for name in PENDING_PAIRS)  # with what it needs


@pytest.mark.parametrize(
    ("service", "env", "infra"), PAIRS + [pair for name in READY_PENDING for pair in PENDING_PAIRS[name]]
)
def test_each_service_renders_on_each_infrastructure(
    project: Path, service: str, env: str, infra: str
) -> None:
    result = corral_cli(
        "render", "--service", service, "--env", env, "--infra", infra, "--format", "json", cwd=project
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = json.loads(result.stdout)
    if (service, env, infra) not in PAIRS:  # a pending folder's service: it renders as written
        assert rendered["taskDefinition"]["request"]["containerDefinitions"], rendered
        return
    task = rendered["taskDefinition"]["request"]
    [container] = task["containerDefinitions"]
    assert container["image"] == IMAGE and container["name"] == "nginx"
    # the tutorial's `null` fields are not sent to ECS (RegisterTaskDefinition has no null values)
    assert "ipcMode" not in task and "dnsSearchDomains" not in container
    assert task["requiresCompatibilities"] == ["FARGATE"] and (task["cpu"], task["memory"]) == ("256", "512")
    request = rendered["serviceDefinition"]["request"]
    assert request["serviceName"] == "myapp" and request["launchType"] == "FARGATE"
    assert request["cluster"] == {"ecsDevCluster": "staging", "ecsProdCluster": "production"}[infra]
    source = rendered["serviceDefinition"]["source"]
    if env == "prodEcs":  # the Production environment's `overrides:` replaces the service definition
        assert source.endswith("CreateServiceRequest.json")
        assert request["deploymentConfiguration"] == {"maximumPercent": 100, "minimumHealthyPercent": 0}
    elif service == "ecs_tutorial":
        vpc = request["networkConfiguration"]["awsvpcConfiguration"]
        assert vpc["subnets"] == ["subnet-0a1b2c3d4e5f60718"]  # the variable's <+input> default
        assert vpc["securityGroups"] == ["sg-0a1b2c3d4e5f60718"]
    if service == "ecs_bluegreen":  # the Blue Green step puts the stage target group there
        assert request["loadBalancers"] == [
            {"targetGroupArn": "<+targetGroupArn>", "containerName": "nginx", "containerPort": 80}
        ]
        assert request["desiredCount"] == 2
    if service == "ecs_tutorial":
        [target] = rendered["scalableTargets"]
        assert (target["request"]["MinCapacity"], target["request"]["MaxCapacity"]) == (1, 3)
        [policy] = rendered["scalingPolicies"]
        assert policy["request"]["PolicyName"] == "P1"
        assert policy["request"]["PolicyType"] == "TargetTrackingScaling"


@pytest.mark.sandbox(speed=150)
def test_the_tutorial_pipeline_deploys_the_service_on_the_sandbox(
    sandbox: Sandbox, project: Path, tmp_path: Path
) -> None:
    ecs = sandbox.client("ecs")
    subnet, group = default_network(sandbox)
    ecs.create_cluster(clusterName="staging")  # the infrastructure definition's cluster
    aws = sandbox_aws(sandbox)  # the awsEcs connector inherits the credentials of the process it runs in
    # the service variables securityGroup and subnet are run-time inputs with defaults
    inputs = ["--input", f"variables[0].value={group}", "--input", f"variables[1].value={subnet}"]
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    result = corral_cli("run", "ECS_Rolling", *store, *inputs, "--json", cwd=project, env=aws)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "Success"

    [service] = ecs.describe_services(cluster="staging", services=["myapp"])["services"]
    assert service["status"] == "ACTIVE" and service["runningCount"] == service["desiredCount"] == 1
    assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [subnet]
    task_definition = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    assert task_definition["family"] == "sainath-fargate"
    assert task_definition["containerDefinitions"][0]["image"] == IMAGE
    scaling = sandbox.client("application-autoscaling")
    [target] = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert target["ResourceId"] == "service/staging/myapp"
    assert (target["MinCapacity"], target["MaxCapacity"]) == (1, 3)
    [policy] = scaling.describe_scaling_policies(ServiceNamespace="ecs")["ScalingPolicies"]
    assert policy["PolicyName"] == "P1" and policy["ResourceId"] == "service/staging/myapp"

    # what ECS now holds is what the files say: the tutorial's null fields leave no difference
    plan = corral_cli("plan", "ECS_Rolling", *inputs, cwd=project, env=aws)
    assert plan.returncode == 0, plan.stdout + plan.stderr
    assert "stage Deploy: service myapp in cluster staging: no changes" in plan.stdout.splitlines()


@pytest.mark.sandbox(speed=150)
def test_a_service_with_a_scheduled_action_deploys_and_the_action_runs(
    sandbox: Sandbox, project: Path, tmp_path: Path
) -> None:
    """services/ecs_scheduled.yaml: its EcsScheduledActionDefinition is put on the service's
    scalable target, and on the sandbox clock it sets the range and scales the service."""
    ecs = sandbox.client("ecs")
    subnet, group = default_network(sandbox)
    ecs.create_cluster(clusterName="staging")
    aws = sandbox_aws(sandbox)
    inputs = ["--input", f"variables[0].value={group}", "--input", f"variables[1].value={subnet}"]
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    result = corral_cli("run", "ECS_Rolling_Scheduled", *store, *inputs, "--json", cwd=project, env=aws)
    assert json.loads(result.stdout)["status"] == "Success", result.stdout + result.stderr
    scaling = sandbox.client("application-autoscaling")
    [action] = scaling.describe_scheduled_actions(ServiceNamespace="ecs")["ScheduledActions"]
    assert action["ResourceId"] == "service/staging/myapp"
    assert (action["Schedule"], action["Timezone"]) == ("cron(0 8 ? * MON-FRI *)", "Europe/Paris")
    assert action["ScalableTargetAction"] == {"MinCapacity": 2, "MaxCapacity": 3}
    sandbox.admin.advance(8 * 24 * 3600)  # a week and a day: some weekday 08:00 in Paris has passed
    [target] = scaling.describe_scalable_targets(ServiceNamespace="ecs")["ScalableTargets"]
    assert (target["MinCapacity"], target["MaxCapacity"]) == (2, 3)
    [service] = ecs.describe_services(cluster="staging", services=["myapp"])["services"]
    assert service["desiredCount"] == 2


def default_network(sandbox: Sandbox) -> tuple[str, str]:
    """(a subnet, the default security group) of the sandbox's default VPC."""
    ec2 = sandbox.client("ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault"))
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    return subnet, group


@pytest.mark.sandbox(speed=150)
def test_the_stage_input_pipelines_plan_and_deploy_on_the_sandbox(
    sandbox: Sandbox, project: Path, tmp_path: Path
) -> None:
    """ecs_rolling_chosen_at_run.yaml (service, environment, infrastructure chosen at run time) and
    ecs_rolling_fixed_inputs.yaml (serviceInputs fixed from pipeline variables, useFromStage)."""
    subnet, group = default_network(sandbox)
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="staging")  # ecsDevCluster's cluster
    aws = sandbox_aws(sandbox)
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    chosen = ["--input", "serviceRef=ecs_tutorial", "--input", "environmentRef=devEcs"]
    chosen += ["--input", "infrastructureDefinitions=ecsDevCluster"]
    chosen += ["--input", f"variables[0].value={group}", "--input", f"variables[1].value={subnet}"]
    planned = corral_cli("plan", "ECS_Rolling_Chosen_At_Run", *chosen, cwd=project, env=aws)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    assert "stage Deploy: service myapp in cluster staging: new service" in planned.stdout
    result = corral_cli("run", "ECS_Rolling_Chosen_At_Run", *store, *chosen, "--json", cwd=project, env=aws)
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout)["status"] == "Success"

    ecs.delete_service(cluster="staging", service="myapp", force=True)  # the next one starts afresh
    fixed = ["--input", f"ecsSecurityGroup={group}", "--input", f"ecsSubnet={subnet}"]
    planned = corral_cli("plan", "ECS_Rolling_Fixed_Inputs", *fixed, cwd=project, env=aws)
    assert planned.returncode == 0, planned.stdout + planned.stderr
    result = corral_cli("run", "ECS_Rolling_Fixed_Inputs", *store, *fixed, "--json", cwd=project, env=aws)
    assert result.returncode == 0, result.stdout + result.stderr
    out = json.loads(result.stdout)
    assert out["status"] == "Success"
    assert [s["key"] for s in out["steps"] if s["status"] == "Success"] == [
        "Deploy/EcsRollingDeploy",
        "Redeploy/EcsRollingDeploy",
    ]
    [service] = ecs.describe_services(cluster="staging", services=["myapp"])["services"]
    # the subnet came from the pipeline variable through the stage's serviceInputs
    assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == [subnet]
    assert service["status"] == "ACTIVE" and service["runningCount"] == service["desiredCount"] == 1
