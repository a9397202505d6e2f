"""`corral sandbox` as a user runs it: a foreground process, the AWS CLI, a state file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest


@contextmanager
def running_sandbox(*args: str) -> Iterator[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "corral.cli", "sandbox", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("Corral sandbox ready on http://127.0.0.1:"), line + process.stderr.read()
        yield line.split(" on ", 1)[1].split(" ", 1)[0]
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""


def ecs(endpoint: str) -> object:
    return boto3.client(
        "ecs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def test_ready_line_names_speed_and_throttling() -> None:
    with running_sandbox("--speed", "10", "--no-throttling") as endpoint:
        assert endpoint.startswith("http://127.0.0.1:")


def test_timing_seed_is_reported_with_its_ranges() -> None:
    from corral.sandbox import SandboxAdmin

    with running_sandbox("--timing-seed", "42") as endpoint:
        timing = SandboxAdmin(endpoint).timing()
    assert timing is not None and timing["seed"] == 42
    assert timing["ranges"]["provision_seconds"] == [1.0, 5.0]  # "several seconds" of ENI attachment
    with running_sandbox() as endpoint:
        assert SandboxAdmin(endpoint).timing() is None


def test_aws_cli_describe_services(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
    }
    with running_sandbox() as endpoint:
        client = ecs(endpoint)
        client.create_cluster(clusterName="demo")  # type: ignore[attr-defined]
        result = subprocess.run(
            [
                "aws",
                "ecs",
                "describe-services",
                "--cluster",
                "demo",
                "--services",
                "web",
                "--endpoint-url",
                endpoint,
            ],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    assert answer["services"] == []
    assert answer["failures"][0]["reason"] == "MISSING"


def test_state_file_keeps_clusters_and_task_definitions_across_restarts(tmp_path: Path) -> None:
    state = tmp_path / "sandbox.state"
    with running_sandbox("--state-file", str(state)) as endpoint:
        client = ecs(endpoint)
        client.create_cluster(clusterName="kept")  # type: ignore[attr-defined]
        client.register_task_definition(  # type: ignore[attr-defined]
            family="web", containerDefinitions=[{"name": "web", "image": "nginx", "memory": 128}]
        )
    assert state.exists()
    with running_sandbox("--state-file", str(state)) as endpoint:
        client = ecs(endpoint)
        clusters = client.list_clusters()["clusterArns"]  # type: ignore[attr-defined]
        assert "arn:aws:ecs:us-east-1:123456789012:cluster/kept" in clusters
        described = client.describe_task_definition(taskDefinition="web")  # type: ignore[attr-defined]
        assert described["taskDefinition"]["revision"] == 1


def test_bad_config_file_is_one_clear_error(tmp_path: Path) -> None:
    config = tmp_path / "sandbox.yaml"
    config.write_text("images:\n  - image: web\n    healthCheck: sometimes\n")
    result = subprocess.run(
        [sys.executable, "-m", "corral.cli", "sandbox", "--port", "0", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "health_check must be one of pass, fail" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("flag", ["--speed", "--port"])
def test_bad_option_values_are_refused(flag: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "corral.cli", "sandbox", flag, "fast"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"Invalid value for '{flag}'" in result.stderr
