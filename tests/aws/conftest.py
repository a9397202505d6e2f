"""Fixtures for the AWS access layer: `Clients` pointed at the per-test sandbox, nothing else reachable."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from corral.aws.budget import RateBudget
from corral.aws.clients import AwsSettings, Clients
from corral.sandbox import Sandbox

REGION = "us-east-1"


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


def sandbox_settings(sandbox: Sandbox, **overrides: str) -> AwsSettings:
    fields = {
        "region": REGION,
        "endpoint_url": sandbox.endpoint_url,
        "access_key_id": "testing",
        "secret_access_key": "testing",
        **overrides,
    }
    return AwsSettings(**fields)


@pytest.fixture
def clients(sandbox: Sandbox) -> Iterator[Clients]:
    """Clients for the sandbox with a budget of their own (ports, hence budget keys, get reused)."""
    yield Clients(sandbox_settings(sandbox), budget=RateBudget())


INSTANCES_TAG = {"key": "corral:sandbox:containerInstances", "value": "3"}


def make_cluster(sandbox: Sandbox, name: str) -> Any:
    """A cluster with simulated EC2 container instances; returns a plain boto3 ECS client for setup."""
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName=name, tags=[INSTANCES_TAG])
    return ecs


def make_service(ecs: Any, cluster: str, name: str, image: str, desired: int = 1) -> dict[str, Any]:
    definition = ecs.register_task_definition(
        family=name,
        containerDefinitions=[{"name": "app", "image": image, "memory": 32, "cpu": 16, "essential": True}],
    )["taskDefinition"]
    return ecs.create_service(
        cluster=cluster,
        serviceName=name,
        taskDefinition=definition["taskDefinitionArn"],
        desiredCount=desired,
        launchType="EC2",
    )["service"]


def wait_until(condition: Callable[[], object], *, timeout: float = 15.0) -> None:
    """Poll a condition with short real sleeps; fail the test if it does not hold within `timeout`."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)
