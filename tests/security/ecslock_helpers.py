"""One sandbox ECS service deployed by several parties at once: a `corral run` process with its
own SQLite store, a `corral server` with another store, and boto3 as the console would.

The demo project (examples/sandbox-demo) is copied for the CLI and into the server's projects
folder; its AWS connector names no endpoint, so `AWS_ENDPOINT_URL` points both at the sandbox.
Images tagged `slow` start after `SLOW_START` sandbox seconds: a deployment of one stays in
flight until the test advances the sandbox clock, so "while it deploys" needs no timing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from corral.demo import pipeline_inputs, prepare_sandbox
from corral.sandbox import Sandbox

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sandbox-demo"
CLUSTER = "corral-demo"
SERVICE = "demo-web"
PIPELINE = "demo_rolling"
SLOW_START = 3600.0  # sandbox seconds; only an advance of the sandbox clock gets past it
WAIT = 90.0  # bound of the polls below (they end as soon as what they look for is there)


def aws_environment(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }


def eventually(what: str, probe: Callable[[], Any], timeout: float = WAIT) -> Any:
    """Poll `probe` until it returns something truthy; fail naming `what` at the bound."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.05)


@dataclass
class World:
    sandbox: Sandbox
    root: Path
    prepared: dict[str, Any]

    @classmethod
    def create(cls, sandbox: Sandbox, root: Path, monkeypatch: pytest.MonkeyPatch) -> World:
        for key, value in aws_environment(sandbox.endpoint_url).items():
            monkeypatch.setenv(key, value)
        monkeypatch.delenv("AWS_PROFILE", raising=False)
        shutil.copytree(DEMO, root / "cli", ignore=shutil.ignore_patterns(".corral"))
        shutil.copytree(DEMO, root / "server" / "projects" / "demo", ignore=shutil.ignore_patterns(".corral"))
        sandbox.admin.set_images({"image": "*:slow", "startDelay": SLOW_START})
        return cls(sandbox, root, prepare_sandbox(sandbox.endpoint_url))

    @property
    def ecs(self) -> Any:
        return self.sandbox.client("ecs")

    def inputs(self, tag: str) -> dict[str, Any]:
        return pipeline_inputs(self.prepared, PIPELINE) | {"tag": tag}

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-m", "corral.cli", *args]

    def spawn_run(self, tag: str, *extra: str, json_output: bool = True) -> subprocess.Popen[str]:
        """`corral run demo_rolling` in its own process, with the CLI project's own store. Without
        `json_output` its first line names the execution (then its store is ready to read)."""
        given = [f"--input={key}={value}" for key, value in self.inputs(tag).items()]
        return subprocess.Popen(
            self.cli("run", PIPELINE, *given, *extra, *(["--json"] if json_output else [])),
            cwd=self.root / "cli",
            env=dict(os.environ),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def service(self) -> dict[str, Any]:
        found: dict[str, Any] = self.ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]
        return found

    def image_of(self, task_definition: str) -> str:
        definition = self.ecs.describe_task_definition(taskDefinition=task_definition)["taskDefinition"]
        image: str = definition["containerDefinitions"][0]["image"]
        return image

    def in_flight(self, tag: str) -> dict[str, Any] | None:
        """The PRIMARY deployment, while it is IN_PROGRESS with an image of that tag."""
        try:
            service = self.service()
        except (IndexError, KeyError):
            return None
        primary = next((d for d in service["deployments"] if d["status"] == "PRIMARY"), None)
        if primary is None or primary.get("rolloutState") != "IN_PROGRESS":
            return None
        return primary if self.image_of(primary["taskDefinition"]).endswith(f":{tag}") else None

    def finish_slow_tasks(self) -> None:
        """Let the `slow` tasks start: the sandbox clock moves past their start delay."""
        self.sandbox.admin.advance(SLOW_START)

    def events(self) -> list[str]:
        return [e["message"] for e in self.service().get("events", [])]
