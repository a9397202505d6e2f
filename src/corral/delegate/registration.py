"""A delegate's registration with the Corral server, and its heartbeats.

    POST {server}/delegates            {"name", "tags", "queues", "version"}  (Bearer token)
    POST {server}/delegates/heartbeat  {"name"}                               every 30 s

The server shows which delegates are alive and which tags they offer. A delegate keeps
working when the server cannot be reached (steps come from Temporal, not from the server);
it says so and keeps trying.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from importlib.metadata import version as package_version
from typing import Any

import httpx

HEARTBEAT_EVERY = 30.0


class Registration:
    def __init__(
        self, server: str, token: str | None, name: str, tags: Sequence[str], queues: Sequence[str]
    ) -> None:
        self.server = server.rstrip("/")
        self.name = name
        self.body: dict[str, Any] = {
            "name": name,
            "tags": list(tags),
            "queues": list(queues),
            "version": package_version("corral"),
        }
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.registered = False
        self.last_error: str | None = None

    def _post(self, path: str, body: dict[str, Any]) -> bool:
        try:
            answer = httpx.post(f"{self.server}{path}", json=body, headers=self._headers, timeout=10.0)
        except httpx.HTTPError as error:
            return self._failed(f"cannot reach the Corral server at {self.server}: {error}")
        if answer.status_code >= 400:
            return self._failed(
                f"the Corral server answered {answer.status_code} to POST {path}: {answer.text[:200]}"
            )
        self.last_error = None
        return True

    def _failed(self, message: str) -> bool:
        if message != self.last_error:
            print(f"corral delegate: {message}; steps still run, retrying", file=sys.stderr, flush=True)
        self.last_error = message
        return False

    def beat(self) -> None:
        if not self.registered:
            self.registered = self._post("/delegates", self.body)
        else:
            self._post("/delegates/heartbeat", {"name": self.name})

    def start(self) -> None:
        def loop() -> None:
            while True:
                self.beat()
                if self._stop.wait(HEARTBEAT_EVERY):
                    return

        self._thread = threading.Thread(target=loop, name="corral-delegate-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
