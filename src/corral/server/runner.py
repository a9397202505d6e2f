"""How the server runs executions: a narrow interface, so the distributed (Temporal) mode can
replace the in-process one.

    runner.start(execution_id)        the execution exists in the store (status Queued)
    runner.abort(execution_id, by=)   ask it to stop; its running stage rolls back
    runner.decide(execution_id, ...)  an approval decided by a person

`EmbeddedRunner` runs each execution on a background thread of this process with the embedded
executor; everything it needs is in the store (the project's folder is in the execution).
"""

from __future__ import annotations

import os
import socket
import threading
import time
import traceback
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from corral.config.project import load_project
from corral.store import Store


class Runner(Protocol):
    def start(self, execution_id: str) -> None: ...

    def abort(self, execution_id: str, *, by: str | None = None) -> bool: ...

    def decide(
        self,
        execution_id: str,
        *,
        approve: bool,
        by: str,
        comment: str | None = None,
        step: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        groups: Sequence[str] | None = None,
    ) -> Any: ...

    def running(self) -> list[str]: ...

    def close(self) -> None: ...


class EmbeddedRunner:
    def __init__(self, store: Store, *, options: Any = None) -> None:
        self.store = store
        self.options = options  # ExecutorOptions for every run (tests shorten the polls)
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, execution_id: str) -> None:
        with self._lock:
            thread = self._threads.get(execution_id)
            if thread is not None and thread.is_alive():
                return
            thread = threading.Thread(
                target=self._run, args=(execution_id,), name=f"corral-run-{execution_id[:8]}", daemon=True
            )
            self._threads[execution_id] = thread
        thread.start()

    def _run(self, execution_id: str) -> None:
        import copy
        import time

        from corral.engine import EmbeddedExecutor

        record = self.store.execution(execution_id)
        if record is None:
            return
        try:
            project = load_project(record.project_root)
            EmbeddedExecutor(self.store, project, copy.copy(self.options)).run(execution_id)
        except Exception as error:  # a run that cannot start must not stay Queued for ever
            traceback.print_exc()
            current = self.store.execution(execution_id)
            if current is not None and current.ended_at is None and current.started_at is None:
                self.store.update_execution(
                    execution_id, status="Failed", error=f"could not start: {error}", ended_at=time.time()
                )

    def abort(self, execution_id: str, *, by: str | None = None) -> bool:
        from corral.engine import abort

        return abort(execution_id, store=self.store, by=by)

    def decide(
        self,
        execution_id: str,
        *,
        approve: bool,
        by: str,
        comment: str | None = None,
        step: str | None = None,
        inputs: Mapping[str, Any] | None = None,
        groups: Sequence[str] | None = None,
    ) -> Any:
        """The vote's outcome (engine.approvals.VoteOutcome): Waiting, Approved or Rejected."""
        from corral.engine import approve as decide

        return decide(
            execution_id,
            approve,
            comment=comment,
            by=by,
            step=step,
            inputs=inputs,
            store=self.store,
            groups=groups,
        )

    def running(self) -> list[str]:
        with self._lock:
            return [key for key, thread in self._threads.items() if thread.is_alive()]

    def close(self, timeout: float = 5.0) -> None:
        """Wait a little for runs to end (they stop at the next safe point when aborted)."""
        with self._lock:
            threads = list(self._threads.values())
        for thread in threads:
            thread.join(timeout)


def left_behind(store: Store, *, lease: float = 60.0) -> list[str]:
    """Executions no live process runs: never started (the server stopped right after making
    them), or whose owner stopped sending heartbeats or was a process of this machine that is gone."""
    found = []
    for record in store.executions(limit=1000):
        if record.ended_at is not None:
            continue
        stale = record.heartbeat_at is None or time.time() - record.heartbeat_at >= lease
        if record.owner is None or stale or _gone(record.owner):
            found.append(record.id)
    return found


def _gone(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
