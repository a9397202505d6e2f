"""`corral server --temporal` with delegates registered on it: a step's log lines reach the
server while the step runs (logs API, server-sent events, `corral logs --follow`), and the
lines of an attempt whose delegate was killed stay, followed by a line saying it ended."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import yaml

from corral.server import ServerSettings
from tests.server.helpers import ADMIN_TOKEN, Api, shell

from .conftest import StartDelegate, wait_until
from .server_helpers import server_on_temporal


def _talker(release: Path) -> str:
    script = f"echo working; while [ ! -f {release} ]; do sleep 0.1; done; echo finished"
    stage = {
        "stage": {
            "name": "Run",
            "identifier": "run",
            "type": "Custom",
            "spec": {"execution": {"steps": [shell("talk", script)]}},
        }
    }
    body = {
        "pipeline": {"name": "talk", "identifier": "talk", "delegateSelectors": ["prod"], "stages": [stage]}
    }
    return yaml.safe_dump(body, sort_keys=False)


def _messages(admin: Api, execution_id: str) -> list[str]:
    return [
        line["message"] for line in admin.get(f"/executions/{execution_id}/logs", params={"step": "run/talk"})
    ]


def _first_live_line(admin: Api, execution_id: str, text: str) -> str:
    """Read the server-sent events until a log line with `text`; returns the execution's
    status as the stream last reported it."""
    status = ""
    with admin.http.stream("GET", f"/executions/{execution_id}/logs/stream") as response:
        kind = ""
        for line in response.iter_lines():
            if line.startswith("event: "):
                kind = line.removeprefix("event: ")
            elif line.startswith("data: ") and kind == "status":
                status = json.loads(line.removeprefix("data: "))["status"]
            elif line.startswith("data: ") and kind == "log" and text in line:
                return status
            assert kind != "end", "the execution ended before the line came"
    raise AssertionError("the stream ended")


def test_lines_are_live_and_a_killed_attempts_lines_stay_marked(
    tmp_path: Path, temporal: str, delegates: StartDelegate
) -> None:
    release = tmp_path / "release"
    data_dir = tmp_path / "server"
    with server_on_temporal(data_dir, temporal) as url:
        admin = Api(url, ADMIN_TOKEN)
        admin.post("/projects", {"name": "shop", "yaml": _talker(release)}, 201)
        tokens = {
            name: admin.post("/delegates", {"name": name, "tags": ["prod"]}, 201).json()["token"]
            for name in ("doomed", "survivor")
        }
        doomed = delegates("doomed", None, "--server", url, "--token", tokens["doomed"])
        execution_id = admin.post("/projects/shop/pipelines/talk/executions", {}, 202).json()["id"]
        follow = subprocess.Popen(
            [sys.executable, "-m", "corral.cli", "logs", execution_id, "--follow",
             "--store", ServerSettings(data_dir=data_dir).database_url],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            # the step cannot end before `release` exists: what arrives now arrived live
            assert _first_live_line(admin, execution_id, "working") == "Running"
            assert "working" in _messages(admin, execution_id)
            assert follow.stdout is not None
            followed = [follow.stdout.readline() for _ in range(2)]
            assert "Running on delegate doomed (attempt 1)" in followed[0]
            assert followed[1].rstrip().endswith("[run/talk] Execute: working")

            delegates("survivor", None, "--server", url, "--token", tokens["survivor"])
            wait_until(lambda: "polling" in (tmp_path / "delegate-survivor.err").read_text())
            os.kill(doomed.pid, signal.SIGKILL)
            doomed.wait()
            wait_until(
                lambda: _messages(admin, execution_id).count("working") == 2, what="the second attempt's line"
            )
            assert admin.get(f"/executions/{execution_id}")["status"] == "Running"
            release.touch()
            assert admin.wait(execution_id, timeout=60)["status"] == "Success"
            assert follow.wait(30) == 0
        finally:
            if follow.poll() is None:
                follow.kill()
        assert follow.stdout is not None
        assert follow.stdout.read().rstrip().endswith(f"execution {execution_id}: Success")

        assert _messages(admin, execution_id) == [
            "Running on delegate doomed (attempt 1)",
            "working",
            "Attempt 1 ended: delegate lost (no heartbeat for 2s)",
            "Running on delegate survivor (attempt 2)",
            "working",
            "finished",
        ]
