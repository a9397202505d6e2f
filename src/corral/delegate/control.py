"""Activities that need the Corral store and the project, run by the control worker (the
process that also runs the workflows: `TemporalRunner.serve`).

The workflow does no I/O, so everything it learns is written to the store here: each event
it feeds the interpreter, with the states it changes and the log lines steps returned, in
one transaction (as the embedded executor does), so `corral executions` and the server show
distributed runs like embedded ones.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from temporalio import activity

from corral.config.project import Project, load_project
from corral.config.secrets import SecretResolver
from corral.engine import messages as m
from corral.engine.approvals import activities
from corral.engine.embedded import apply_update
from corral.errors import CorralError
from corral.store import Store, Write
from corral.wiring.stage_targets import prepare_target

_UPDATE_TYPES: dict[str, type[Any]] = {
    cls.__name__: cls for cls in (m.StepUpdate, m.StageUpdate, m.PipelineUpdate)
}
LOCK_LEASE = 24 * 3600.0  # locks are released by the workflow (ReleaseLock, or at its end)
LOCK_POLL = 1.0
STORE_POLL = 1.0  # how often the store is read for decisions and abort requests made elsewhere
CONNECTED_WITHIN = 90.0  # a delegate heard from this recently counts as connected (it beats every 30 s)

# the delegates registered with the Corral server: name, tags, last_seen_at (the server gives it)
DelegateRegistry = Callable[[], Sequence[Mapping[str, Any]]]


def update_to_json(update: m.Update) -> dict[str, Any]:
    return {"kind": type(update).__name__, "data": m.to_json(update)}


def update_from_json(data: dict[str, Any]) -> m.Update:
    update: m.Update = _UPDATE_TYPES[data["kind"]](**data["data"])
    return update


class ControlActivities:
    """Activities of the control queue; one instance per control worker, holding the store."""

    def __init__(self, store: Store, delegates: DelegateRegistry | None = None) -> None:
        self.store = store
        self.delegates = delegates
        self._projects: dict[str, Project] = {}
        self._lock = threading.Lock()

    def activities(self) -> list[Any]:
        return [
            self.record,
            self.prepare_stage,
            self.acquire_lock,
            self.release_lock,
            self.open_request,
            self.watch_abort,
            self.await_decision,
            self.connected_delegates,
        ]

    def project(self, root: str) -> Project:
        with self._lock:
            if root not in self._projects:
                self._projects[root] = load_project(Path(root))
            return self._projects[root]

    @activity.defn(name="corral.record")
    async def record(self, request: dict[str, Any]) -> None:
        """Journal events, write the states they changed and the steps' log lines."""
        await asyncio.to_thread(self._record, request)

    def _record(self, request: dict[str, Any]) -> None:
        execution_id = request["executionId"]
        now = time.time()
        batch = Write(
            events=list(request.get("events") or []),
            logs=list(request.get("logs") or []),
            requests=list(request.get("requests") or []),
        )
        if request.get("started"):
            # a second attempt (the first one's answer was lost) writes the same rows again
            record = self.store.execution(execution_id)
            if record is not None and record.started_at is None:
                batch.execution["started_at"] = now
            batch.execution["owner"] = request.get("owner")
        if request.get("events") and self._journaled(execution_id, request["events"]):
            batch.events = []  # retried after the write succeeded: the journal has them already
        for update in request.get("updates") or []:
            apply_update(batch, update_from_json(update), now)
        if batch:
            self.store.write(execution_id, batch)
        if request.get("finished"):
            self.store.release_locks(execution_id)

    def _journaled(self, execution_id: str, events: list[dict[str, Any]]) -> bool:
        last = self.store.journal(execution_id, kinds=[events[-1]["kind"]])
        return (
            any(
                e.command_id == events[-1].get("command_id") and e.payload == events[-1]["payload"]
                for e in last
            )
            and events[-1].get("command_id") is not None
        )

    @activity.defn(name="corral.prepare_stage")
    async def prepare_stage(self, request: dict[str, Any]) -> dict[str, Any]:
        return await asyncio.to_thread(self._prepare, request)

    def _prepare(self, request: dict[str, Any]) -> dict[str, Any]:
        data = request["command"]
        command = m.PrepareStage(**data)
        try:
            project = self.project(request["projectRoot"])
            inputs = request.get("inputs") or {}
            target = prepare_target(
                project,
                command,
                inputs=inputs.get("service") or {},
                sets=inputs.get("sets") or {},
                secrets=SecretResolver(project),
            )
        except CorralError as error:
            return m.to_json(m.StagePrepared(command.id, False, None, str(error)))
        return m.to_json(m.StagePrepared(command.id, True, target))

    @activity.defn(name="corral.acquire_lock")
    async def acquire_lock(self, request: dict[str, Any]) -> dict[str, Any]:
        """Wait for the ECS service's lock, heartbeating; cancelled by an abort."""
        command = m.AcquireLock(**request["command"])
        execution_id = request["executionId"]
        while True:
            holder = await asyncio.to_thread(
                self.store.try_lock,
                command.key,
                execution_id=execution_id,
                owner=request.get("owner") or "temporal",
                description=command.description,
                lease=LOCK_LEASE,
            )
            if holder is None:
                return m.to_json(m.LockAcquired(command.id, True))
            if request.get("noWait"):
                return m.to_json(
                    m.LockAcquired(
                        command.id, False, f"the service is being deployed by {holder.execution_id}"
                    )
                )
            activity.heartbeat()
            try:
                await asyncio.sleep(LOCK_POLL)
            except asyncio.CancelledError:
                return m.to_json(m.LockAcquired(command.id, False, "aborted while waiting for the service"))

    @activity.defn(name="corral.release_lock")
    async def release_lock(self, request: dict[str, Any]) -> None:
        await asyncio.to_thread(self.store.release_lock, request["key"], execution_id=request["executionId"])

    @activity.defn(name="corral.open_request")
    async def open_request(self, request: dict[str, Any]) -> None:
        """Record that a step waits for a person (approval or intervention), or how it ended."""
        await asyncio.to_thread(self._open_request, request)

    def _open_request(self, request: dict[str, Any]) -> None:
        execution_id, command_id = request["executionId"], request["commandId"]
        if request.get("close"):
            existing = self.store.request(execution_id, command_id)
            if existing is not None and existing.status == "Waiting":
                self.store.decide(execution_id, command_id, **request["close"])
            return
        self.store.open_request(
            execution_id,
            command_id,
            step_key=request["stepKey"],
            kind=request["kind"],
            message=request["message"],
            approvers=request.get("approvers") or {},
            inputs=request.get("inputs") or [],
        )

    @activity.defn(name="corral.watch_abort")
    async def watch_abort(self, request: dict[str, Any]) -> dict[str, Any]:
        """Returns {"by"} once someone asked the execution to abort through the store (`corral
        abort`, the server), {"ended": true} once it ended; runs as long as the execution,
        heartbeating."""
        execution_id = request["executionId"]
        while True:
            record = await asyncio.to_thread(self.store.execution, execution_id)
            if record is None or record.ended_at is not None:
                return {"ended": True}
            if record.abort_requested:
                return {"by": record.abort_by}
            activity.heartbeat()
            await asyncio.sleep(STORE_POLL)

    @activity.defn(name="corral.await_decision")
    async def await_decision(self, request: dict[str, Any]) -> dict[str, Any]:
        """The decision on a waiting approval or intervention once someone made it through the
        store (`corral approve`, `corral intervene`); the workflow also takes signals."""
        execution_id, command_id = request["executionId"], request["commandId"]
        while True:
            record = await asyncio.to_thread(self.store.request, execution_id, command_id)
            if record is not None and record.status != "Waiting":
                votes = await asyncio.to_thread(self.store.votes, execution_id, command_id)
                return {
                    "commandId": command_id,
                    "status": record.status,
                    "action": record.decision,
                    "comment": record.comment,
                    "by": record.decided_by,
                    "inputs": record.inputs if isinstance(record.inputs, dict) else {},
                    "activities": activities(votes),
                }
            activity.heartbeat()
            await asyncio.sleep(STORE_POLL)

    @activity.defn(name="corral.connected_delegates")
    async def connected_delegates(self, request: dict[str, Any]) -> str:
        """The delegates heard from lately, with their tags, for a step no delegate took."""
        if self.delegates is None:
            return "none known here (delegates are listed once they register with the Corral server)"
        registry = await asyncio.to_thread(self.delegates)
        now = time.time()
        seen = [
            f"{d['name']} (tags: {', '.join(d.get('tags') or []) or 'none'})"
            for d in registry
            if d.get("last_seen_at") is not None and now - float(d["last_seen_at"]) <= CONNECTED_WITHIN
        ]
        return ", ".join(seen) if seen else "none"
