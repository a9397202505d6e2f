"""The embedded executor: runs an interpreter's commands in this process and journals every result.

    executor = EmbeddedExecutor(store, project)
    status = executor.run(execution_id)      # from the start, or after a crash: the same call

`run` rebuilds the interpreter by replaying the journal, then carries out the commands still
pending (a step that was running when the process died runs again, given its last
checkpoint). Each step runs in a worker thread, so parallel branches run at once; the main
thread is the only one that feeds the interpreter. An event is journaled, with the states it
changes, in one transaction before anything that follows from it starts.

A background thread keeps the execution's lease and its locks' leases alive, flushes log lines,
and notices abort requests and decisions made by other processes (the CLI).
"""

from __future__ import annotations

import dataclasses
import os
import queue
import socket
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from corral.config.project import Project
from corral.config.secrets import SecretResolver
from corral.errors import CorralError
from corral.step_log import LogLine, StepLog
from corral.store import Store, Write

from . import messages as m
from .approvals import activities
from .interpreter import Interpreter, RunInfo
from .plan import build_plan
from .runtime_values import mark_runtime_inputs, masked_event
from .secret_scope import run_secret_scope
from .step_process import StepProcesses
from .step_runner import run_step, secret_masker
from .steps import FAILED, NO_WAIT, stage_preparer

UpdateSink = Callable[[str, m.Update], None]  # (execution id, update)
LogSink = Callable[[str, str, LogLine], None]  # (execution id, step key, line)


@dataclass
class ExecutorOptions:
    """How the embedded executor behaves; tests shrink the times."""

    no_wait: bool = False  # fail a stage at once when its ECS service is being deployed by another execution
    lease: float = 60.0  # an execution or lock whose owner sent no heartbeat for this long is dead
    heartbeat: float = 10.0
    poll: float = 0.5  # how often other processes' aborts and decisions are looked for
    lock_poll: float = 1.0
    stop_grace: float = 10.0  # how long a step may take to stop once aborted or out of time
    log_flush: float = 0.25
    force: bool = False  # resume even though another live process seems to run the execution
    on_update: UpdateSink | None = None
    on_log: LogSink | None = None
    # where steps that run project code (ShellScript) run; the server isolates or refuses them
    step_processes: StepProcesses = dataclasses.field(default_factory=StepProcesses)


_TERMINAL = {m.SUCCESS, m.FAILED, m.ABORTED, m.EXPIRED}


class ExecutionBusy(CorralError):
    """Another live process runs this execution."""


class _Workers:
    """Threads that are kept and reused (starting a thread costs about a millisecond); there is
    always a free one, since commands may wait for a long time (approvals, locks)."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[tuple[Callable[..., None], tuple[Any, ...]] | None] = (
            queue.SimpleQueue()
        )
        self._idle = 0
        self._threads = 0
        self._lock = threading.Lock()

    def submit(self, function: Callable[..., None], *args: Any) -> None:
        with self._lock:
            spawn = self._idle == 0
            if spawn:
                self._threads += 1
            else:
                self._idle -= 1
        self._tasks.put((function, args))
        if spawn:
            threading.Thread(target=self._work, name="corral-worker", daemon=True).start()

    def _work(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            function, args = task
            try:
                function(*args)
            except Exception:  # the task reports its own failures; a worker must survive
                traceback.print_exc()
            with self._lock:
                self._idle += 1

    def close(self) -> None:
        """Idle workers end; busy ones (a step left behind after its grace) end when done."""
        with self._lock:
            count = self._threads
        for _ in range(count):
            self._tasks.put(None)


class EmbeddedExecutor:
    def __init__(self, store: Store, project: Project, options: ExecutorOptions | None = None) -> None:
        self.store = store
        self.project = project
        self.options = options or ExecutorOptions()
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.secrets = SecretResolver(project)
        self._events: queue.Queue[m.Event] = queue.Queue()
        self._cancels: dict[str, threading.Event] = {}
        self._logs: list[dict[str, Any]] = []
        self._logs_lock = threading.Lock()
        # held from taking log lines to committing them: lines the background flush took are in
        # the store before any later write (a step's end, the execution's), never after it
        self._write_lock = threading.Lock()
        self._stop = threading.Event()
        self._workers = _Workers()
        self._abort_fed = False
        self.execution_id = ""
        self._inputs: dict[str, Any] = {}
        self._checkpoints: dict[str, dict[str, Any]] = {}  # step key -> its latest checkpoint

    # -- the loop --------------------------------------------------------------------------

    def run(self, execution_id: str) -> str:
        """Run (or resume) the execution to its end; returns its final status."""
        record = self.store.execution(execution_id)
        if record is None:
            raise CorralError(f"no execution {execution_id} in {self.store.url}")
        if record.ended_at is not None:
            return record.status
        force = self.options.force or _died_here(record.owner)
        busy = self.store.claim(execution_id, self.owner, lease=self.options.lease, force=force)
        if busy is not None:
            raise ExecutionBusy(
                f"execution {execution_id} is running in {busy}; wait for it, or resume with force "
                f"if that process is gone (its lease lasts {self.options.lease:g}s)"
            )
        self.execution_id = execution_id
        self._inputs = record.inputs
        snapshot = record.snapshot
        pipeline = mark_runtime_inputs(snapshot["pipeline"], snapshot.get("runtimeInputs") or ())
        plan = build_plan(pipeline, file=snapshot.get("file", ""))
        # steps read only the secrets the pipeline and its targets name
        scope = run_secret_scope(self.project, snapshot["pipeline"], file=snapshot.get("file", ""))
        self.secrets = SecretResolver(self.project, allowed=scope)
        interpreter = Interpreter(
            plan,
            RunInfo(
                execution_id,
                record.sequence_id,
                int(snapshot["startTs"]),
                snapshot.get("triggeredBy"),
                snapshot.get("scope") or {},
            ),
        )
        commands = interpreter.start()
        journal = self.store.journal(execution_id)
        for entry in journal:
            if entry.kind == "checkpoint" and entry.step_key:
                self._checkpoints[entry.step_key] = entry.payload["data"]
        journal = [entry for entry in journal if entry.kind in m.EVENT_TYPES]
        if journal:
            for entry in journal:
                interpreter.feed(m.event_from_json(entry.kind, entry.payload))
                if entry.kind == "AbortRequested":
                    self._abort_fed = True
            commands = [*interpreter.pending(), *interpreter.pending_cancels()]
            replayed = self._replayed(interpreter.take_updates())
            replayed.requests = m.person_requests(commands)
            self._write(replayed, interpreter, started=False)
        else:  # a first stage without a service can start with an approval
            self._write(Write(requests=m.person_requests(commands)), interpreter, started=True)
        background = threading.Thread(target=self._background, name=f"corral-{execution_id[:8]}", daemon=True)
        background.start()
        try:
            self._dispatch(commands)
            while not interpreter.finished:
                event = self._events.get()
                if isinstance(event, m.AbortRequested):
                    if self._abort_fed:
                        continue
                    self._abort_fed = True
                commands = interpreter.feed(event)
                kind = type(event).__name__
                batch = Write(
                    events=[
                        {
                            "kind": kind,
                            "command_id": getattr(event, "command_id", None),
                            "payload": m.to_json(event),
                        }
                    ],
                    requests=m.person_requests(commands),
                )
                self._write(batch, interpreter)
                self._dispatch(commands)
        finally:
            self._stop.set()
            for cancel in list(self._cancels.values()):
                cancel.set()
            background.join()
            self._workers.close()
            self._flush_logs()
            self.store.release_locks(execution_id)
        return interpreter.status

    def _write(self, batch: Write, interpreter: Interpreter, *, started: bool | None = None) -> None:
        now = time.time()
        for update in interpreter.take_updates():
            self._apply(batch, update, now)
        if started:
            batch.execution.setdefault("started_at", now)
        with self._write_lock:
            with self._logs_lock:
                batch.logs, self._logs = batch.logs + self._logs, []
            self.store.write(self.execution_id, batch)

    def _apply(self, batch: Write, update: m.Update, now: float) -> None:
        if self.options.on_update is not None:
            self.options.on_update(self.execution_id, update)
        apply_update(batch, update, now)

    def _replayed(self, updates: list[m.Update]) -> Write:
        """After a replay: the rows whose last status differs from what the store has."""
        stages = {s.key: s.status for s in self.store.stages(self.execution_id)}
        steps = {s.key: (s.status, s.attempt) for s in self.store.steps(self.execution_id)}
        last: dict[tuple[str, str], m.Update] = {}
        for update in updates:
            key = getattr(update, "key", "")
            last[(type(update).__name__, key)] = update
        batch = Write()
        now = time.time()
        for (_, key), update in last.items():
            if isinstance(update, m.StageUpdate) and stages.get(key) == update.status:
                continue
            if isinstance(update, m.StepUpdate) and steps.get(key) == (update.status, update.attempt):
                continue
            if isinstance(update, m.PipelineUpdate):
                continue
            self._apply(batch, update, now)
        return batch

    # -- commands --------------------------------------------------------------------------

    def _dispatch(self, commands: Iterable[m.Command]) -> None:
        for command in commands:
            if isinstance(command, m.Cancel):
                cancel = self._cancels.get(command.id)
                if cancel is not None:
                    cancel.set()
                    self.store.wake(self.execution_id)
                continue
            if isinstance(command, m.ReleaseLock):
                self.store.release_lock(command.key, execution_id=self.execution_id)
                self._events.put(m.LockReleased(command.id))
                continue
            cancel = threading.Event()
            self._cancels[command.id] = cancel
            work = {
                m.RunStep: self._run_step,
                m.PrepareStage: self._prepare,
                m.AcquireLock: self._acquire,
                m.Sleep: self._sleep,
                m.AwaitApproval: self._await_approval,
                m.AwaitIntervention: self._await_intervention,
            }[type(command)]
            self._workers.submit(self._guarded, work, command, cancel)

    def _guarded(
        self, work: Callable[[Any, threading.Event], m.Event], command: Any, cancel: threading.Event
    ) -> None:
        try:
            event = work(command, cancel)
        except Exception as error:  # a bug here must not hang the execution
            event = _failure_event(command, f"internal error: {error}\n{traceback.format_exc()}")
        event = masked_event(event, self._masker())
        self._cancels.pop(command.id, None)
        self._events.put(event)

    def _prepare(self, command: m.PrepareStage, cancel: threading.Event) -> m.Event:
        try:
            target = stage_preparer()(
                self.project,
                command,
                inputs=self._inputs.get("service") or {},
                sets=self._inputs.get("sets") or {},
                secrets=self.secrets,
            )
        except CorralError as error:
            return m.StagePrepared(command.id, False, None, str(error))
        return m.StagePrepared(command.id, True, target)

    def _acquire(self, command: m.AcquireLock, cancel: threading.Event) -> m.Event:
        reported = None
        what = command.description
        service = f"ECS service {what.get('service')} in cluster {what.get('cluster')} ({what.get('region')})"
        while True:
            holder = self.store.try_lock(
                command.key,
                execution_id=self.execution_id,
                owner=self.owner,
                description=command.description,
                lease=self.options.lease,
            )
            if holder is None:
                if reported is not None:
                    self._log(command.stage_key, "Lock", "INFO", f"{service} is free; deploying")
                return m.LockAcquired(command.id, True)
            other = self.store.execution(holder.execution_id)
            who = f"execution {holder.execution_id}" + (
                f" ({other.pipeline_name} #{other.sequence_id})" if other is not None else ""
            )
            if self._no_wait():
                return m.LockAcquired(command.id, False, f"{service} is being deployed by {who}; not waiting")
            if reported != holder.execution_id:
                reported = holder.execution_id
                self._log(command.stage_key, "Lock", "INFO", f"Waiting: {service} is being deployed by {who}")
            if cancel.wait(self.options.lock_poll):
                return m.LockAcquired(command.id, False, "aborted while waiting for the service")

    def _no_wait(self) -> bool:
        """--no-wait given to this process, or recorded with the execution (the API's noWait)."""
        return self.options.no_wait or bool((self._inputs or {}).get(NO_WAIT))

    def _sleep(self, command: m.Sleep, cancel: threading.Event) -> m.Event:
        return m.TimerFired(command.id, cancelled=cancel.wait(command.seconds))

    def _await_approval(self, command: m.AwaitApproval, cancel: threading.Event) -> m.Event:
        record = self._request(command)
        self._log(command.step_key, "Approval", "INFO", f"Waiting for approval: {command.message}")
        decided = self._wait_decision(command.id, record.created_at + command.timeout, cancel)
        if decided is None:
            return m.ApprovalDecided(command.id, "Aborted")
        if decided.status == "Expired":
            return m.ApprovalDecided(command.id, "Expired")
        inputs = decided.inputs if isinstance(decided.inputs, dict) else {}
        self._log(
            command.step_key,
            "Approval",
            "INFO",
            f"{decided.status} by {decided.decided_by or 'someone'}"
            + (f": {decided.comment}" if decided.comment else ""),
        )
        votes = activities(self.store.votes(self.execution_id, command.id))
        return m.ApprovalDecided(
            command.id, decided.status, decided.comment, decided.decided_by, inputs, votes
        )

    def _await_intervention(self, command: m.AwaitIntervention, cancel: threading.Event) -> m.Event:
        record = self._request(command)
        self._log(
            command.step_key,
            "Manual Intervention",
            "WARN",
            f"Waiting for a person to choose one of {', '.join(command.actions)}",
        )
        decided = self._wait_decision(command.id, record.created_at + command.timeout, cancel)
        if decided is None:
            return m.InterventionDecided(command.id, None, cancelled=True)
        if decided.status == "Expired":
            return m.InterventionDecided(command.id, None)
        return m.InterventionDecided(
            command.id, decided.decision, by=decided.decided_by, comment=decided.comment
        )

    def _request(self, command: m.AwaitApproval | m.AwaitIntervention) -> Any:
        """The request row, written with the step's waiting status (opened here if it was not)."""
        (request,) = m.person_requests([command])
        return self.store.open_request(self.execution_id, **request)

    def _wait_decision(self, command_id: str, deadline: float, cancel: threading.Event) -> Any:
        """The decided request; None when cancelled (abort). Expires it at the deadline."""
        seen = self.store.generation(self.execution_id)
        while True:
            record = self.store.request(self.execution_id, command_id)
            if record is not None and record.status != "Waiting":
                return record
            if cancel.is_set():
                self.store.decide(self.execution_id, command_id, status="Cancelled")
                return None
            if time.time() >= deadline:
                if self.store.decide(self.execution_id, command_id, status="Expired"):
                    return self.store.request(self.execution_id, command_id)
                continue
            wait = min(self.options.poll, max(0.0, deadline - time.time()))
            seen = self.store.wait_change(self.execution_id, seen, wait)

    # -- steps -----------------------------------------------------------------------------

    def _run_step(self, command: m.RunStep, cancel: threading.Event) -> m.Event:
        def checkpoint(data: dict[str, Any]) -> None:
            self._checkpoints[command.step_key] = data
            self.store.append_event(
                self.execution_id,
                "checkpoint",
                {"data": data, "commandId": command.id},
                command_id=command.id,
                step_key=command.step_key,
            )

        return run_step(
            command,
            execution_id=self.execution_id,
            log=StepLog(sink=lambda line: self._log_line(command.step_key, line), mask=self._masker()),
            abort=cancel,
            seconds_left=command.timeout,
            checkpoint=checkpoint,
            previous_checkpoint=self._checkpoints.get(command.step_key),
            project=self.project,
            secrets=self.secrets,
            inputs=self._inputs,
            stop_grace=self.options.stop_grace,
            processes=self.options.step_processes,
            no_wait=self._no_wait(),
            start=self._workers.submit,
        )

    def _masker(self) -> Callable[[str], str]:
        return secret_masker(self.secrets)

    # -- logs and the background thread ----------------------------------------------------

    def _log(self, key: str, section: str, level: str, message: str) -> None:
        import datetime as dt

        self._log_line(key, LogLine(dt.datetime.now(dt.UTC), section, level, message))

    def _log_line(self, key: str, line: LogLine) -> None:
        if self.options.on_log is not None:
            self.options.on_log(self.execution_id, key, line)
        with self._logs_lock:
            self._logs.append(
                {
                    "step_key": key,
                    "at": line.time.timestamp(),
                    "section": line.section,
                    "level": line.level,
                    "message": line.message,
                }
            )

    def _flush_logs(self) -> None:
        with self._write_lock:
            with self._logs_lock:
                lines, self._logs = self._logs, []
            if lines:
                self.store.write(self.execution_id, Write(logs=lines))

    def _background(self) -> None:
        last_beat = last_poll = time.monotonic()
        seen = self.store.generation(self.execution_id)
        while not self._stop.is_set():
            current = self.store.wait_change(self.execution_id, seen, self.options.log_flush)
            woken, seen = current != seen, current
            now = time.monotonic()
            try:
                self._flush_logs()
                if now - last_beat >= self.options.heartbeat or now - last_poll >= self.options.poll or woken:
                    requested, by = self.store.heartbeat(
                        self.execution_id, self.owner, lease=self.options.lease
                    )
                    last_poll = now
                    if now - last_beat >= self.options.heartbeat:
                        last_beat = now
                    if requested and not self._abort_fed:
                        self._events.put(m.AbortRequested(by=by, reason="requested"))
            except Exception:  # a database hiccup must not stop the heartbeat for good
                time.sleep(self.options.poll)

    def request_abort(self, by: str | None = None) -> None:
        """Abort from this process (the Python API does it through the store)."""
        self._events.put(m.AbortRequested(by=by, reason="requested"))


def _died_here(owner: str | None) -> bool:
    """True when the owner was a process on this machine that no longer exists: no need to
    wait for its lease to run out."""
    host, _, rest = (owner or "").partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _failure_event(command: Any, error: str) -> m.Event:
    if isinstance(command, m.RunStep):
        return m.StepFinished(command.id, FAILED, error=error)
    if isinstance(command, m.PrepareStage):
        return m.StagePrepared(command.id, False, None, error)
    if isinstance(command, m.AcquireLock):
        return m.LockAcquired(command.id, False, error)
    if isinstance(command, m.Sleep):
        return m.TimerFired(command.id)
    if isinstance(command, m.AwaitApproval):
        return m.ApprovalDecided(command.id, "Rejected", comment=error)
    return m.InterventionDecided(command.id, None)


def apply_update(batch: Write, update: m.Update, now: float) -> None:
    """The store rows an interpreter update changes (embedded and distributed runs alike)."""
    if isinstance(update, m.PipelineUpdate):
        batch.execution["status"] = update.status
        batch.execution["error"] = update.error
        if update.status in _TERMINAL:
            batch.execution["ended_at"] = now
    elif isinstance(update, m.StageUpdate):
        batch.stages.append(
            {
                "key": update.key,
                "position": update.position,
                "identifier": update.identifier,
                "name": update.name,
                "status": update.status,
                "error": update.error,
                "rolled_back": update.rolled_back,
                "started_at": now if update.status != m.SKIPPED else None,
                "ended_at": now if update.status in _TERMINAL or update.status == m.SKIPPED else None,
            }
        )
    else:
        row = dataclasses.asdict(update)
        row["outputs"] = row["outputs"] or {}
        row["started_at"] = now if update.status != m.SKIPPED else None
        row["ended_at"] = now if update.status in m.FINISHED else None
        batch.steps.append(row)
