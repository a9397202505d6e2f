"""A step's log lines on their way from a delegate to the Corral store while the step runs.

    live = LiveLog(send, execution_id, batch_prefix=f"{command_id}:{attempt}")
    live.add(line)                 # from the step's thread, as the step writes
    task = asyncio.create_task(live.run())    # sends a batch every FLUSH_EVERY seconds
    rest = await live.close()      # at the step's end: the lines that could not be sent

`send(execution_id, batch_id, lines)` delivers one batch or raises; a batch that failed is sent
again with the same id and the same lines, so the receiver can write it once. Delegates send
through the Corral server (`POST /api/v1/delegates/logs`, the delegate's token) or, when they
run with `--store`, write the store themselves. Lines that could not be sent by the step's end
travel back with its result. At most KEEP lines wait at a time: beyond that, new lines are
counted and a note says how many were dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

FLUSH_EVERY = 0.25  # seconds between two batches
BATCH = 500  # lines per batch at most
KEEP = 5000  # lines waiting to be sent at most
LONGEST = 32768  # characters of a line kept (the server takes up to 65536)
CLOSE_PATIENCE = 5.0  # seconds the step's end waits at most for its last lines to be sent

Send = Callable[[str, str, list[dict[str, Any]]], None]


class LiveLog:
    def __init__(self, send: Send | None, execution_id: str, *, batch_prefix: str) -> None:
        self._send = send
        self._execution_id = execution_id
        self._prefix = batch_prefix
        self._lines: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._sequence = 0
        self._batch: tuple[str, int] | None = None  # the batch being sent: id, line count
        self._dropped = 0
        self._task: asyncio.Task[None] | None = None
        self.failure: str | None = None  # why the last send failed

    def add(self, line: dict[str, Any]) -> None:
        message = str(line.get("message", ""))
        if len(message) > LONGEST:
            cut = len(message) - LONGEST
            line = {**line, "message": f"{message[:LONGEST]} … ({cut} more characters cut)"}
        with self._lock:
            if len(self._lines) >= KEEP:
                self._dropped += 1
                return
            self._lines.append(line)

    def start(self) -> None:
        if self._send is not None:
            self._task = asyncio.create_task(self.run())

    async def run(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            await self._flush()

    async def _flush(self) -> bool:
        """Send the lines waiting, a batch at a time; False when a batch failed."""
        assert self._send is not None
        while True:
            with self._lock:
                if self._batch is None:
                    if not self._lines:
                        return True
                    self._sequence += 1
                    self._batch = (f"{self._prefix}:{self._sequence}", min(len(self._lines), BATCH))
                batch_id, count = self._batch
                lines = self._lines[:count]
            try:
                await asyncio.to_thread(self._send, self._execution_id, batch_id, lines)
            except Exception as error:  # kept, and sent again with the same batch id
                self.failure = str(error)
                return False
            with self._lock:
                del self._lines[:count]
                self._batch = None
            self.failure = None

    async def close(self) -> list[dict[str, Any]]:
        """Stop sending in the background; try to send what waits (for a few seconds); return
        the lines that are still unsent, with a note of lines dropped."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._send is not None:  # one last try, bounded: the step's result must not wait long
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._flush(), CLOSE_PATIENCE)
        with self._lock:
            rest, self._lines = self._lines, []
            dropped, self._dropped = self._dropped, 0
        if dropped:
            rest.append(
                {
                    **(rest[-1] if rest else {"step_key": "", "section": "Delegate"}),
                    "at": time.time(),
                    "level": "WARN",
                    "message": f"{dropped} log lines were dropped: more than {KEEP} waited to be sent",
                }
            )
        return rest


def server_sender(server: str, token: str | None, *, timeout: float = 10.0) -> Send:
    """Batches sent to the Corral server with the delegate's token. A batch for an execution
    that has ended is dropped (409): nobody reads it any more."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    client = httpx.Client(base_url=server, headers=headers, timeout=timeout)

    def send(execution_id: str, batch_id: str, lines: list[dict[str, Any]]) -> None:
        answer = client.post(
            "/delegates/logs", json={"execution_id": execution_id, "batch": batch_id, "lines": lines}
        )
        if answer.status_code >= 400 and answer.status_code != 409:
            raise RuntimeError(f"the Corral server answered {answer.status_code}: {answer.text[:200]}")

    return send


def store_sender(store: Any) -> Send:
    """Batches written to the store directly (a delegate started with `--store`)."""
    from corral.store import Write

    def send(execution_id: str, batch_id: str, lines: list[dict[str, Any]]) -> None:
        store.write(execution_id, Write(logs=lines))

    return send
