"""TemporalRunner: start, abort and approve executions that run on Temporal.

    runner = TemporalRunner(store, target="127.0.0.1:7233")
    runner.serve()                    # run the workflows and control activities in this process
    runner.start(execution_id)        # an execution made by corral.engine.create_execution
    runner.approve(execution_id, approve=True, by="alice")
    runner.abort(execution_id, by="alice")
    runner.wait(execution_id)         # its final status
    runner.close()

The methods are synchronous (the server calls them from request handlers); Temporal's
asyncio client runs on a thread of the runner's own. Decisions and abort requests are
written to the store first (so the store says who decided) and then signalled to the
workflow, whose id is `corral-<execution id>`.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Mapping
from concurrent.futures import Future
from typing import Any, TypeVar

from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from corral.errors import CorralError
from corral.store import Store

from .control import DelegateRegistry
from .queues import CONTROL_QUEUE
from .worker import connect, control_worker, run_workers
from .workflow import WORKFLOW_NAME

T = TypeVar("T")


def workflow_id(execution_id: str) -> str:
    return f"corral-{execution_id}"


class TemporalRunner:
    def __init__(
        self,
        store: Store,
        *,
        target: str = "127.0.0.1:7233",
        namespace: str = "default",
        heartbeat_timeout: float = 30.0,
        no_wait: bool = False,
        delegates: DelegateRegistry | None = None,
    ) -> None:
        """`delegates`: the delegates registered with the Corral server (the server gives it)."""
        self.store = store
        self.delegates = delegates
        self.target = target
        self.namespace = namespace
        self.heartbeat_timeout = heartbeat_timeout
        self.no_wait = no_wait
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="corral-temporal", daemon=True)
        self._thread.start()
        self._stop: asyncio.Event | None = None
        self._serving: Future[None] | None = None
        self._client: Client = self._call(connect(target, namespace))

    def _call(self, coroutine: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    # -- the control worker ----------------------------------------------------------------

    def serve(self) -> None:
        """Run the pipeline workflows and the store's activities in this process (until close)."""
        if self._serving is not None:
            return

        async def serve() -> None:
            self._stop = asyncio.Event()
            await run_workers([control_worker(self._client, self.store, self.delegates)], self._stop)

        self._serving = asyncio.run_coroutine_threadsafe(serve(), self._loop)

    def close(self) -> None:
        if self._serving is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
            try:
                self._serving.result(30)
            finally:
                self._serving = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    # -- executions ------------------------------------------------------------------------

    def start(self, execution_id: str) -> None:
        """Start the execution's workflow (a second start of the same execution does nothing)."""
        record = self.store.execution(execution_id)
        if record is None:
            raise CorralError(f"no execution {execution_id} in {self.store.url}")
        job = {
            "executionId": execution_id,
            "sequenceId": record.sequence_id,
            "snapshot": record.snapshot,
            "inputs": record.inputs,
            "projectRoot": record.project_root,
            "heartbeatTimeout": self.heartbeat_timeout,
            "noWait": self.no_wait,
        }

        async def start() -> None:
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await self._client.start_workflow(
                    WORKFLOW_NAME,
                    job,
                    id=workflow_id(execution_id),
                    task_queue=CONTROL_QUEUE,
                    id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                )

        self._call(start())

    def _handle(self, execution_id: str) -> WorkflowHandle[Any, Any]:
        return self._client.get_workflow_handle(workflow_id(execution_id))

    def abort(self, execution_id: str, *, by: str | None = None) -> bool:
        """Ask the execution to stop; the running stage rolls back. False when it already ended."""
        if not self.store.request_abort(execution_id, by=by):
            return False
        self._call(self._handle(execution_id).signal("abort", {"by": by}))
        return True

    def approve(
        self,
        execution_id: str,
        approve: bool = True,
        *,
        comment: str | None = None,
        by: str | None = None,
        step: str | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> None:
        """Approve (or reject) the HarnessApproval step waiting in the execution."""
        request = self._waiting(execution_id, "approval", step)
        status = "Approved" if approve else "Rejected"
        decision = {
            "commandId": request.command_id,
            "status": status,
            "action": "Approve" if approve else "Reject",
            "comment": comment,
            "by": by,
            "inputs": dict(inputs or {}),
        }
        self._call(self._handle(execution_id).signal("decide", decision))

    def decide(
        self,
        execution_id: str,
        *,
        approve: bool,
        by: str,
        comment: str | None = None,
        step: str | None = None,
        inputs: Mapping[str, Any] | None = None,
    ) -> None:
        """The server's Runner interface (corral.server.runner.Runner)."""
        self.approve(execution_id, approve, comment=comment, by=by, step=step, inputs=inputs)

    def running(self) -> list[str]:
        """Executions of this store whose workflow has not ended."""
        return [
            r.id
            for r in self.store.executions()
            if r.ended_at is None and (r.owner or "").startswith("temporal:")
        ]

    def intervene(
        self,
        execution_id: str,
        action: str,
        *,
        comment: str | None = None,
        by: str | None = None,
        step: str | None = None,
    ) -> None:
        request = self._waiting(execution_id, "intervention", step)
        allowed = list(request.inputs or [])
        if action not in allowed:
            raise CorralError(f"{action!r} is not one of the actions offered: {', '.join(allowed)}")
        decision = {
            "commandId": request.command_id,
            "status": "Decided",
            "action": action,
            "comment": comment,
            "by": by,
        }
        self._call(self._handle(execution_id).signal("decide", decision))

    def wait(self, execution_id: str, timeout: float | None = None) -> str:
        """Wait for the execution's workflow to end; its final status."""
        result: str = self._call(self._handle(execution_id).result(), timeout)
        return result

    def _waiting(self, execution_id: str, kind: str, step: str | None) -> Any:
        if self.store.execution(execution_id) is None:
            raise CorralError(f"no execution {execution_id} in {self.store.url}")
        waiting = [r for r in self.store.requests(execution_id, waiting=True) if r.kind == kind]
        if step is not None:
            waiting = [r for r in waiting if r.step_key == step or r.step_key.rsplit("/", 1)[-1] == step]
        what = "approval" if kind == "approval" else "manual intervention"
        if not waiting:
            raise CorralError(f"no step of execution {execution_id} is waiting for {what}")
        if len(waiting) > 1:
            keys = ", ".join(r.step_key for r in waiting)
            raise CorralError(f"several steps wait for {what} ({keys}); name one with step=")
        return waiting[0]
