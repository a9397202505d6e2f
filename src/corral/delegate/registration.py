"""A delegate's heartbeats to the Corral server.

An admin registers the delegate on the server (`POST /api/v1/delegates` with its name and
tags; the answer holds its token, shown once). The delegate then calls

    POST {server}/api/v1/delegates/heartbeat  {"version"}   (Bearer: the delegate's token)

at start and every 30 s; the answer names it and its tags, which the delegate polls for when
`--tags` is not given. The delegate keeps working when the server cannot be reached (steps
come from Temporal, not from the server); it says so and keeps trying.
"""

from __future__ import annotations

import sys
import threading
from importlib.metadata import version as package_version
from typing import Any

import httpx

HEARTBEAT_EVERY = 30.0
API = "/api/v1"


class Registration:
    def __init__(self, server: str, token: str | None) -> None:
        self.server = server.rstrip("/")
        if not self.server.endswith(API):
            self.server += API
        self._headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._stop = threading.Event()
        self.last_error: str | None = None
        self.delegate: dict[str, Any] | None = None  # the server's answer: id, name, tags, last_seen_at

    def beat(self) -> dict[str, Any] | None:
        """One heartbeat; the server's record of this delegate, None when it could not be reached."""
        try:
            answer = httpx.post(
                f"{self.server}/delegates/heartbeat",
                json={"version": package_version("corral")},
                headers=self._headers,
                timeout=10.0,
            )
        except httpx.HTTPError as error:
            self._failed(f"cannot reach the Corral server at {self.server}: {error}")
            return None
        if answer.status_code >= 400:
            self._failed(
                f"the Corral server answered {answer.status_code} to a heartbeat: {answer.text[:200]}"
            )
            return None
        self.last_error = None
        self.delegate = dict(answer.json())
        return self.delegate

    def _failed(self, message: str) -> None:
        if message != self.last_error:
            print(f"corral delegate: {message}; steps still run, retrying", file=sys.stderr, flush=True)
        self.last_error = message

    def start(self) -> None:
        """Heartbeat every HEARTBEAT_EVERY seconds on a thread of its own."""

        def loop() -> None:
            while not self._stop.wait(HEARTBEAT_EVERY):
                self.beat()

        threading.Thread(target=loop, name="corral-delegate-heartbeat", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()
