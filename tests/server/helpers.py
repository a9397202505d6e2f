"""A server on a free loopback port, a small API client and the projects the tests deploy."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

from corral.engine import ExecutorOptions
from corral.server import Server, ServerSettings, create_app, open_server

ADMIN_TOKEN = "crl_test-admin-token-0123456789-abcdefghijkl"
FAST = ExecutorOptions(lease=5.0, heartbeat=0.2, poll=0.02, lock_poll=0.02, stop_grace=3.0, log_flush=0.02)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Live:
    url: str
    server: Server

    def client(self, token: str | None = ADMIN_TOKEN) -> Api:
        return Api(self.url, token)


@contextmanager
def live_server(data_dir: Path, *, store_url: str | None = None, **fields: Any) -> Iterator[Live]:
    """A server on a free port; `fields`: other ServerSettings fields (allow_secret_managers, ...)."""
    settings = ServerSettings(
        data_dir=data_dir, store_url=store_url, admin_token=ADMIN_TOKEN, executor_options=FAST, **fields
    )
    server = open_server(settings)
    app = create_app(server=server)
    port = free_port()
    uv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.01)
    try:
        yield Live(f"http://127.0.0.1:{port}", server)
    finally:
        uv.should_exit = True
        thread.join(10)
        server.close()


class Api:
    """httpx with the base URL and a bearer token; raises on an unexpected status."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.http = httpx.Client(base_url=url + "/api/v1", headers=headers, timeout=30)

    def call(self, method: str, path: str, expect: int | None = None, **kwargs: Any) -> httpx.Response:
        response = self.http.request(method, path, **kwargs)
        if expect is not None:
            assert response.status_code == expect, (response.status_code, response.text)
        return response

    def get(self, path: str, expect: int | None = 200, **kwargs: Any) -> Any:
        return self.call("GET", path, expect, **kwargs).json()

    def post(self, path: str, body: Any = None, expect: int | None = None, **kwargs: Any) -> httpx.Response:
        return self.call("POST", path, expect, json=body if body is not None else {}, **kwargs)

    def put(self, path: str, body: Any, expect: int | None = None) -> httpx.Response:
        return self.call("PUT", path, expect, json=body)

    def user(
        self,
        name: str,
        *,
        project: str | None = None,
        role: str | None = None,
        production: bool = False,
        groups: list[str] | None = None,
    ) -> Api:
        """A new user with a role on the project, and a client with a token of theirs."""
        self.post("/users", {"name": name, "groups": groups or []}, 201)
        if project and role:
            self.put(f"/users/{name}/roles/{project}", {"role": role, "production": production}, 200)
        token = self.post(f"/users/{name}/tokens", {"description": "test"}, 201).json()["token"]
        return Api(self.url, token)

    def wait(self, execution_id: str, *statuses: str, timeout: float = 30) -> dict[str, Any]:
        """The execution once its status is one of statuses (any end when none given)."""
        deadline = time.monotonic() + timeout
        while True:
            execution: dict[str, Any] = self.get(f"/executions/{execution_id}")
            if (execution["status"] in statuses) if statuses else execution["ended_at"] is not None:
                return execution
            assert time.monotonic() < deadline, execution
            time.sleep(0.05)

    def wait_approval(self, execution_id: str, timeout: float = 30) -> dict[str, Any]:
        """The execution once a step waits for approval."""
        deadline = time.monotonic() + timeout
        while True:
            execution: dict[str, Any] = self.get(f"/executions/{execution_id}")
            if any(a["status"] == "Waiting" for a in execution["approvals"]):
                return execution
            assert time.monotonic() < deadline, execution
            time.sleep(0.05)

    def events(self, execution_id: str) -> list[tuple[str, dict[str, Any]]]:
        """Every server-sent event of the execution's live log, until `end`."""
        found = []
        with self.http.stream("GET", f"/executions/{execution_id}/logs/stream") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            kind = ""
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[len("event: ") :]
                elif line.startswith("data: "):
                    found.append((kind, json.loads(line[len("data: ") :])))
        return found


# -- projects -----------------------------------------------------------------------------


def shell(identifier: str, script: str, **spec: Any) -> dict[str, Any]:
    body = {"shell": "Bash", "source": {"type": "Inline", "spec": {"script": script}}, **spec}
    return {
        "step": {
            "name": identifier,
            "identifier": identifier,
            "type": "ShellScript",
            "timeout": "1m",
            "spec": body,
        }
    }


def approval(identifier: str, groups: list[str]) -> dict[str, Any]:
    spec = {"approvalMessage": "Ship it?", "approvers": {"userGroups": groups, "minimumCount": 1}}
    return {
        "step": {
            "name": identifier,
            "identifier": identifier,
            "type": "HarnessApproval",
            "timeout": "1h",
            "spec": spec,
        }
    }


def pipeline(identifier: str, steps: list[Any], *, environment: str | None = None) -> str:
    spec: dict[str, Any] = {"execution": {"steps": steps}}
    if environment:
        spec["environment"] = {"environmentRef": environment}
    stage = {"stage": {"name": "Run", "identifier": "run", "type": "Custom", "spec": spec}}
    body = {"pipeline": {"name": identifier, "identifier": identifier, "stages": [stage]}}
    return yaml.safe_dump(body, sort_keys=False)


ENVIRONMENTS = """environment:
  name: Dev
  identifier: dev
  type: PreProduction
---
environment:
  name: Prod
  identifier: prod
  type: Production
"""

HELLO = pipeline(
    "hello",
    [
        shell(
            "say",
            'echo "hello $WHO"; sleep 0.2; echo done; OUT=fine',
            environmentVariables=[{"name": "WHO", "type": "String", "value": "<+pipeline.variables.who>"}],
            outputVariables=[{"name": "out", "type": "String", "value": "OUT"}],
        )
    ],
).replace(
    "  stages:",
    "  variables:\n  - name: who\n    type: String\n    value: <+input>.default(world)\n  stages:",
)

GATED = pipeline("gated", [approval("gate", ["ops"]), shell("after", "echo approved")], environment="dev")
SLOW = pipeline("slow", [shell("wait", "echo started; sleep 30")])
TO_PROD = pipeline("to_prod", [shell("ship", "echo shipping")], environment="prod")
TO_DEV = pipeline("to_dev", [shell("ship", "echo shipping")], environment="dev")


def demo_project(api: Api, name: str = "demo") -> None:
    text = "---\n".join([ENVIRONMENTS, HELLO, GATED, SLOW, TO_PROD, TO_DEV])
    api.post("/projects", {"name": name, "yaml": text}, 201)
