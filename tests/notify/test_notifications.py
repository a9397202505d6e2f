"""Notifications from corral.yaml: Slack and webhook posts to a local server, failures harmless."""

from __future__ import annotations

import http.server
import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from corral.config import load_project
from corral.errors import ConfigError
from tests.cli.helpers import corral, shell_project, spawn
from tests.engine.helpers import wait_until


@contextmanager
def receiver(status: int = 200) -> Iterator[tuple[str, list[tuple[str, dict[str, Any]]]]]:
    """A local server that records each POST (path, JSON body)."""
    received: list[tuple[str, dict[str, Any]]] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.path, json.loads(body)))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def settings(*entries: str) -> str:
    return "project:\n  name: shop\n  notifications:\n" + "".join(entries)


def test_slack_and_webhook_hear_start_and_success(tmp_path: Path) -> None:
    with receiver() as (base, received):
        shell_project(
            tmp_path,
            settings=settings(
                f"    - {{type: slack, url: '{base}/slack'}}\n",
                f"    - {{type: webhook, url: '{base}/hook', events: [PipelineSuccess]}}\n",
            ),
        )
        assert corral("run", "ok", cwd=tmp_path).exit_code == 0
    slack = [body for path, body in received if path == "/slack"]
    hooks = [body for path, body in received if path == "/hook"]
    assert [body["text"] for body in slack] == [
        ":rocket: Pipeline ok #1 started",
        ":white_check_mark: Pipeline ok #1 succeeded",
    ]
    assert slack[0]["blocks"][0]["type"] == "section"
    [hook] = hooks
    assert hook["event"] == "PipelineSuccess"
    assert hook["project"] == "shop"
    assert {"pipeline": "ok", "sequenceId": 1, "status": "Success"}.items() <= hook["execution"].items()


def test_failure_and_approval_waiting(tmp_path: Path) -> None:
    with receiver() as (base, received):
        shell_project(
            tmp_path,
            settings=settings(
                f"    - {{type: webhook, url: '{base}/h', events: [PipelineFailed, ApprovalWaiting]}}\n"
            ),
        )
        assert corral("run", "broken", cwd=tmp_path).exit_code == 1
        # reject from the approval notice itself, as a person reading it would
        run = spawn("run", "gated", cwd=tmp_path)
        waiting = wait_until(lambda: [b for _, b in received if b["event"] == "ApprovalWaiting"], timeout=30)
        corral("approve", waiting[0]["execution"]["id"], "--reject", cwd=tmp_path)
        run.communicate(timeout=60)
    events = [(b["event"], b["execution"]["pipeline"]) for _, b in received]
    assert events == [("PipelineFailed", "broken"), ("ApprovalWaiting", "gated"), ("PipelineFailed", "gated")]
    failed = received[0][1]
    assert failed["execution"]["status"] == "Failed" and failed["execution"]["error"]
    assert received[1][1]["step"] == "release/gate"
    assert received[1][1]["message"] == "Ship it?"


def test_an_unreachable_endpoint_is_logged_and_the_pipeline_succeeds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with receiver(status=500) as (base, received):
        shell_project(
            tmp_path,
            settings=settings(
                "    - {type: slack, url: 'http://127.0.0.1:1/services/T000/B000/XXXXSECRET'}\n",
                f"    - {{type: webhook, url: '{base}/broken'}}\n",
            ),
        )
        with caplog.at_level(logging.WARNING, logger="corral.notify"):
            result = corral("run", "ok", cwd=tmp_path)
    assert result.exit_code == 0
    assert len(received) == 2  # the 500s were answered, and did not matter
    warnings = [r.getMessage() for r in caplog.records]
    assert any("slack notification PipelineStart to http://127.0.0.1:1/*** failed" in w for w in warnings)
    assert any("webhook notification PipelineSuccess" in w and "500" in w for w in warnings)
    assert not any("XXXXSECRET" in w for w in warnings)  # a webhook's path is a secret


def test_a_secret_url_is_read_and_never_shown(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with receiver() as (base, received):
        monkeypatch.setenv("HOOK_URL", f"{base}/secret-path")
        shell_project(
            tmp_path,
            "secret:\n  name: hook\n  identifier: hook\n  type: SecretText\n  spec:\n"
            "    secretManagerIdentifier: env\n    valueType: Reference\n    value: HOOK_URL\n",
            settings=settings('    - type: webhook\n      url: <+secrets.getValue("hook")>\n'),
        )
        result = corral("run", "ok", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert [path for path, _ in received] == ["/secret-path", "/secret-path"]
    assert "secret-path" not in result.output


def test_settings_reject_an_unknown_type_or_event(tmp_path: Path) -> None:
    shell_project(tmp_path, settings=settings("    - {type: email, url: 'x', events: [Sometimes]}\n"))
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    text = str(caught.value)
    assert "notifications" in text and "type" in text and "events" in text
