"""`POST /api/v1/delegates/logs`: a delegate's lines of a running step, with its token; a batch
sent again is written once; an ended execution takes no more lines. And LiveLog, the
delegate's side: batches kept and sent again with the same id while the server cannot be
reached, at most KEEP lines waiting."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx

from corral.delegate import live_logs
from corral.delegate.live_logs import LiveLog, server_sender
from tests.server.helpers import live_server, pipeline

WAIT = {
    "step": {
        "name": "soak",
        "identifier": "soak",
        "type": "Wait",
        "timeout": "5m",
        "spec": {"duration": "1m"},
    }
}


def _line(message: str) -> dict[str, Any]:
    return {
        "step_key": "run/remote",
        "at": time.time(),
        "section": "Execute",
        "level": "INFO",
        "message": message,
    }


def test_a_delegate_writes_lines_of_a_running_execution_once(tmp_path: Path) -> None:
    with live_server(tmp_path) as live:
        admin = live.client()
        admin.post("/projects", {"name": "shop", "yaml": pipeline("slow", [WAIT])}, 201)
        token = admin.post("/delegates", {"name": "d", "tags": ["prod"]}, 201).json()["token"]
        execution_id = admin.post("/projects/shop/pipelines/slow/executions", {}, 202).json()["id"]
        send = server_sender(live.url + "/api/v1", token)

        send(execution_id, "c1:1:1", [_line("one"), _line("two")])
        send(execution_id, "c1:1:1", [_line("one"), _line("two")])  # its answer was lost: sent again
        send(execution_id, "c1:1:2", [_line("three")])
        messages = [
            line["message"]
            for line in admin.get(f"/executions/{execution_id}/logs", params={"step": "run/remote"})
        ]
        assert messages == ["one", "two", "three"]

        body = {"execution_id": execution_id, "batch": "x:1:1", "lines": [_line("forged")]}
        assert httpx.post(f"{live.url}/api/v1/delegates/logs", json=body).status_code == 401
        user_token = {"Authorization": "Bearer crl_test-admin-token-0123456789"}
        assert (
            httpx.post(f"{live.url}/api/v1/delegates/logs", json=body, headers=user_token).status_code == 401
        )

        admin.post(f"/executions/{execution_id}/abort", {}, 202)
        admin.wait(execution_id)
        answer = httpx.post(
            f"{live.url}/api/v1/delegates/logs", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 409
        assert "forged" not in str(admin.get(f"/executions/{execution_id}/logs"))


def test_live_log_sends_a_failed_batch_again_and_keeps_a_bounded_backlog(monkeypatch: Any) -> None:
    monkeypatch.setattr(live_logs, "FLUSH_EVERY", 0.01)
    monkeypatch.setattr(live_logs, "KEEP", 5)
    received: list[tuple[str, list[str]]] = []
    reachable = [False]

    def send(execution_id: str, batch_id: str, lines: list[dict[str, Any]]) -> None:
        if not reachable[0]:
            raise ConnectionError("the server cannot be reached")
        received.append((batch_id, [line["message"] for line in lines]))

    async def scenario() -> list[dict[str, Any]]:
        live = LiveLog(send, "e1", batch_prefix="c1:1")
        live.start()
        for number in range(3):
            live.add(_line(f"line {number}"))
        while live.failure is None:
            await asyncio.sleep(0.01)
        assert received == [] and live.failure == "the server cannot be reached"
        reachable[0] = True
        while not received:
            await asyncio.sleep(0.01)
        reachable[0] = False
        for number in range(3, 10):
            live.add(_line(f"line {number}"))
        return await live.close()

    rest = asyncio.run(scenario())
    assert received == [("c1:1:1", ["line 0", "line 1", "line 2"])]
    assert [line["message"] for line in rest] == [
        "line 3",
        "line 4",
        "line 5",
        "line 6",
        "line 7",
        "2 log lines were dropped: more than 5 waited to be sent",
    ]
