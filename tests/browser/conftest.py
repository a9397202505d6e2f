"""A real `corral server` (uvicorn on a free loopback port) holding the examples/sandbox-demo
project, its AWS connector pointed at the test's sandbox, and a headless Chromium (Debian's
/usr/bin/chromium through Playwright, the `chromium` and `page` fixtures of tests/chromium.py) to
drive the web UI.

The demo project comes to the server as a user would bring it: a Git repository synced
through the API (`POST /projects/{name}/sync`).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from corral.aws.poller import PollPolicy
from corral.demo import prepare_sandbox
from corral.sandbox import Sandbox
from corral.wiring.ecs_steps import set_poll_policy
from tests.server.helpers import ADMIN_TOKEN, Api, Live, live_server

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "sandbox-demo"
SHOTS = ROOT / "test-output" / "browser"
FAST_POLLS = PollPolicy(fast=0.1, growth=1.5, slowest=0.4, min_gap=0.05, round_window=30.0)


@dataclass
class DemoServer:
    live: Live
    api: Api
    sandbox: Sandbox
    prepared: dict[str, Any]
    project: str = "demo"
    token: str = ADMIN_TOKEN

    @property
    def url(self) -> str:
        return self.live.url


def demo_repository(folder: Path, endpoint: str) -> Path:
    """examples/sandbox-demo as a Git repository whose AWS connector names the sandbox."""
    shutil.copytree(DEMO, folder, ignore=shutil.ignore_patterns(".corral"))
    connector = folder / "connectors" / "aws.yaml"
    text = connector.read_text(encoding="utf-8")
    marker = "  spec:\n    credential:\n"
    assert marker in text
    connector.write_text(text.replace(marker, f"  spec:\n    endpointUrl: {endpoint}\n    credential:\n", 1))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid"]
    subprocess.run([*git, "init", "-q", "-b", "main", str(folder)], check=True)
    subprocess.run([*git, "-C", str(folder), "add", "-A"], check=True)
    subprocess.run([*git, "-C", str(folder), "commit", "-q", "-m", "demo"], check=True)
    return folder


@pytest.fixture
def demo_server(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[DemoServer]:
    # the connector inherits credentials from where the step runs: this process
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    set_poll_policy(FAST_POLLS)
    prepared = prepare_sandbox(sandbox.endpoint_url)
    repo = demo_repository(tmp_path / "demo-repo", sandbox.endpoint_url)
    try:
        with live_server(tmp_path / "server") as live:
            api = live.client()
            api.post("/projects/demo/sync", {"url": str(repo), "ref": "main"}, 200)
            yield DemoServer(live, api, sandbox, prepared)
    finally:
        set_poll_policy(None)


@pytest.fixture
def shots(request: pytest.FixtureRequest) -> Any:
    """shots(page, "name") saves test-output/browser/<test>/<nn>-name.png."""
    folder = SHOTS / request.node.name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    count = [0]

    def take(page: Any, name: str) -> Path:
        count[0] += 1
        path = folder / f"{count[0]:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
