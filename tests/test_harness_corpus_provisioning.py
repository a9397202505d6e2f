"""Harness's Shell Script provisioning example for ECS (tests/harness_corpus/shell_provisioning/)
validates as written and deploys on the sandbox with only run-time inputs: the provisioner step
makes the cluster and names it and the region as JSON, the infrastructure definition takes them
from `<+provisioner.region>` / `<+provisioner.cluster>`, and the rolling deploy lands there."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from corral.sandbox import Sandbox

from .test_harness_corpus import CORPUS, corral_cli

PROJECT = CORPUS / "shell_provisioning"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "shell_provisioning"
    shutil.copytree(PROJECT, root)
    return root


def _network(sandbox: Sandbox) -> tuple[str, str]:
    ec2 = sandbox.client("ec2")
    vpc = next(v["VpcId"] for v in ec2.describe_vpcs()["Vpcs"] if v.get("IsDefault"))
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    group = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": ["default"]}]
    )["SecurityGroups"][0]["GroupId"]
    return subnet, group


def _aws(sandbox: Sandbox) -> dict[str, str]:
    return {  # the awsEcs connector (and the provisioner's aws CLI) use the process's AWS settings
        "AWS_ENDPOINT_URL": sandbox.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }


def test_the_project_validates_as_written(project: Path) -> None:
    result = corral_cli("validate", "--project", str(project), cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: Harness corpus (Shell Script provisioning): " in result.stdout
    # the provisioner's name is asked for at run time, as the example's stage input says
    assert "infrastructureDefinition.spec.provisioner: String, required" in result.stdout


def test_plan_says_a_provisioned_cluster_is_known_only_when_the_run_gets_there(project: Path) -> None:
    inputs = ["--input", "provisioner=Shell_Script_Provision"]
    inputs += ["--input", "variables[0].value=sg-1", "--input", "variables[1].value=subnet-1"]
    result = corral_cli("plan", "AWSECSprovisioning", *inputs, cwd=project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "stage ecs: service - in cluster <+provisioner.cluster>: not known before the run" in result.stdout


@pytest.mark.sandbox(speed=150)
def test_the_provisioned_cluster_gets_the_deployment(sandbox: Sandbox, project: Path, tmp_path: Path) -> None:
    ecs = sandbox.client("ecs")
    assert ecs.list_clusters()["clusterArns"] == []  # the provisioner script makes it
    subnet, group = _network(sandbox)
    inputs = [
        *("--input", "provisioner=Shell_Script_Provision"),
        *("--input", f"variables[0].value={group}"),  # securityGroup
        *("--input", f"variables[1].value={subnet}"),  # subnet
    ]
    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    result = corral_cli(
        "run", "AWSECSprovisioning", *store, *inputs, "--json", cwd=project, env=_aws(sandbox)
    )
    assert result.returncode == 0, result.stdout + result.stderr
    execution = json.loads(result.stdout)
    assert execution["status"] == "Success"
    steps = {s["identifier"]: s for s in execution["steps"]}
    assert steps["Shell_Script_Provision"]["outputs"] == {"region": "us-east-1", "cluster": "ecs-cluster-3"}
    order = [s["identifier"] for s in execution["steps"]]
    assert order.index("Shell_Script_Provision") < order.index("Rolling")

    [service] = ecs.describe_services(cluster="ecs-cluster-3", services=["myapp"])["services"]
    assert service["status"] == "ACTIVE" and service["runningCount"] == service["desiredCount"] == 1
    assert service["clusterArn"].endswith(":cluster/ecs-cluster-3")
