"""`corral deployments`, run as a separate process: wrong input is one clear line and exit 2,
before any AWS call (the commands against the sandbox: tests/e2e/test_native_steering.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.engine.helpers import write_project

ARN = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/NCWGC2ZR"


def corral(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:1"  # nothing listens: a call made would fail
    return subprocess.run(
        [sys.executable, "-m", "corral.cli", "deployments", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_arn_that_is_not_a_service_deployment_is_refused(tmp_path: Path) -> None:
    for command in ("continue", "rollback", "stop"):
        result = corral(command, "arn:aws:ecs:us-east-1:1:service/prod/web", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "is not an ECS service deployment ARN" in result.stderr
        assert "service-deployment/CLUSTER/SERVICE/ID" in result.stderr


def test_list_without_a_region_says_how_to_give_one(tmp_path: Path) -> None:
    result = corral("list", "web", "--cluster", "prod", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "corral: give --region (or --connector, or set AWS_REGION)"


def test_a_connector_that_is_not_an_aws_one_is_named_with_the_projects_aws_connectors(tmp_path: Path) -> None:
    write_project(tmp_path, [], ecs=True)
    for name, what in (("docker_hub", "not an AWS connector"), ("nope", "not found")):
        result = corral("stop", ARN, "--connector", name, cwd=tmp_path)
        assert result.returncode == 2
        assert f"connector '{name}' {what}; the project's AWS connectors: aws" in result.stderr


def test_continue_refuses_a_wait_until_that_is_not_a_stage(tmp_path: Path) -> None:
    result = corral("continue", ARN, "--wait-until", "DONE", "--region", "us-east-1", cwd=tmp_path)
    assert result.returncode == 2
    assert "--wait-until" in result.stderr and "SUCCESSFUL, PAUSED, RECONCILE_SERVICE" in result.stderr
