"""An Ecr artifact source without `registryId`, as Harness's artifact source docs write it:
`corral run` (a separate process) deploys the image of the repository in the account of the AWS
connector's credentials, which ECR names when the stage starts, as Harness does (its delegate
asks DescribeRepositories for the repository's URI). `corral render` shows AWS's placeholder
`aws_account_id` there, with an info line, and makes no AWS call; `corral plan` asks ECR, as a
run would."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from corral.sandbox import Sandbox

from .conftest import DEMO
from .test_render_once import corral_run, deployed, inputs

ACCOUNT = "123456789012"  # the sandbox's account (docs/sandbox.md)
DOCKER_SOURCE = """            - identifier: app
              type: DockerRegistry
              spec:
                connectorRef: demo_registry
                imagePath: demo/web
                tag: <+input>.default("1")
"""
PAIR = ("--service", "demo_web", "--env", "sandbox", "--infra", "sandbox")
ECR_SOURCE = """            - identifier: app
              type: Ecr
              spec:
                connectorRef: sandbox_aws
                imagePath: todolist-sample
                region: us-east-1
                tag: "1.0"
"""


def ecr_project(tmp_path: Path) -> Path:
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".corral"))
    service = root / "services" / "web.yaml"
    assert DOCKER_SOURCE in service.read_text()
    service.write_text(service.read_text().replace(DOCKER_SOURCE, ECR_SOURCE))
    return root


def render(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "corral.cli", "render", "--project", str(root), *PAIR, "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        # no AWS settings at all: render asks no AWS API
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")},
    )


def test_an_ecr_source_without_registry_id_deploys_from_the_connectors_account(
    tmp_path: Path, sandbox: Sandbox
) -> None:
    sandbox.client("ecr").create_repository(repositoryName="todolist-sample")
    root = ecr_project(tmp_path)
    # Fargate pulls a private ECR image with the task's execution role: without one, render says
    # so before anything reaches AWS, although the account is not known yet
    refused = render(root)
    assert refused.returncode == 1
    assert refused.stdout.strip().endswith(
        "RegisterTaskDefinitionRequest.yaml: containerDefinitions[0].image: Fargate requires task definition "
        "to have execution role ARN to pull the private ECR image "
        "'aws_account_id.dkr.ecr.us-east-1.amazonaws.com/todolist-sample:1.0'."
    ), refused.stdout
    task = root / "files" / "account" / "web" / "RegisterTaskDefinitionRequest.yaml"
    task.write_text(
        task.read_text() + f"executionRoleArn: arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole\n"
    )

    rendered = render(root)
    assert rendered.returncode == 0, rendered.stdout + rendered.stderr
    assert '"image": "aws_account_id.dkr.ecr.us-east-1.amazonaws.com/todolist-sample:1.0"' in rendered.stdout
    assert "sources[0].spec.imagePath: no registryId: the repository is in the AWS account" in rendered.stderr

    process = corral_run(root, sandbox, "run", "demo_rolling", *inputs(sandbox), "--json")
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, out + err
    [container] = deployed(sandbox)["containerDefinitions"]
    assert container["image"] == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/todolist-sample:1.0"

    # plan asks ECR too: what is live is what a run would deploy, no stand-in compared with it
    process = corral_run(root, sandbox, "plan", "demo_rolling", *inputs(sandbox))
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, out + err
    assert "aws_account_id" not in out and "--- live task definition" not in out, out
