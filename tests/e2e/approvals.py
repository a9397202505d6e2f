"""An approver that acts as a person watching the execution would: approves whenever it waits."""

from __future__ import annotations

import contextlib
import threading

from corral.engine import approve
from corral.errors import CorralError
from corral.store import Store


def waiting_for_approval(store: Store, execution_id: str) -> bool:
    return any(r.kind == "approval" for r in store.requests(execution_id, waiting=True))


def approver(store: Store, execution_id: str, stop: threading.Event) -> threading.Thread:
    """A thread that approves each approval the execution waits for, until `stop` is set."""

    def run() -> None:
        while not stop.is_set():
            if waiting_for_approval(store, execution_id):
                with contextlib.suppress(CorralError):  # it may have just been decided
                    approve(execution_id, store=store, comment="ok")
            stop.wait(0.05)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread
