"""Fixtures for the ECS step tests: a sandbox with a cluster and the default VPC (see support.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral.sandbox import Sandbox

from .support import EcsEnv


@pytest.fixture(autouse=True)
def _no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No credentials, profiles, endpoints or instance metadata from the machine running the tests."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def env(sandbox: Sandbox) -> EcsEnv:
    """A cluster `corral` (Fargate; no container instances) in a fresh sandbox, with its default VPC."""
    return EcsEnv.create(sandbox)


@pytest.fixture
def ec2_env(sandbox: Sandbox) -> EcsEnv:
    """Like `env`, with 3 simulated EC2 container instances (for DAEMON and EC2 launch type)."""
    return EcsEnv.create(sandbox, container_instances=3)
