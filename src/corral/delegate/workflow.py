"""PipelineWorkflow: the engine's interpreter as one generic Temporal workflow.

The workflow receives the execution's pipeline snapshot and inputs as its argument, so no
workflow code depends on a pipeline: changing a pipeline never makes a running execution
nondeterministic. It feeds the interpreter events and carries out its commands:

    RunStep                  activity `corral.run_step` on the step's delegate queue; the
                             attempts are the workflow's own (see _run_step)
    PrepareStage, locks      activities on the control queue (they need the store/project)
    Sleep                    a workflow timer
    AwaitApproval/...        a request recorded in the store, then the `decide` signal
    Cancel                   cancels what the command started
    abort (signal)           AbortRequested
    checkpoint (signal)      a running step's rollback data, sent by its delegate before the
                             change it protects (durable in this workflow's history)

Every event fed to the interpreter is journaled, with the updates it caused, by the
`corral.record` activity before the commands that follow start. The code here obeys the
sandbox: no clock but workflow.now(), no I/O.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, TimeoutType
from temporalio.exceptions import CancelledError as Cancelled
from temporalio.exceptions import TimeoutError as Timeout

with workflow.unsafe.imports_passed_through():
    from corral.delegate.control import update_to_json
    from corral.delegate.queues import CONTROL_QUEUE, DEFAULT_QUEUE, selectors_of, step_queues
    from corral.engine import messages as m
    from corral.engine.interpreter import Interpreter, RunInfo
    from corral.engine.plan import build_plan
    from corral.engine.runtime_values import mark_runtime_inputs

WORKFLOW_NAME = "CorralPipeline"
STOP_GRACE = 30.0
MAX_ATTEMPTS = 20  # attempts of one step when its delegates keep dying
RETRY_DELAY = 1.0  # seconds between a lost attempt and the next
WATCHER_END = 5.0  # seconds the abort watcher is given to see an execution's end
_CONTROL_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10))


@workflow.defn(name=WORKFLOW_NAME)
class PipelineWorkflow:
    def __init__(self) -> None:
        self._events: list[tuple[m.Event, list[dict[str, Any]]]] = []
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._decisions: dict[str, dict[str, Any]] = {}
        self._abort: dict[str, Any] | None = None
        self._abort_fed = False
        self._status = m.QUEUED
        self._job: dict[str, Any] = {}
        self._queues: dict[str, str] = {}
        self._checkpoints: dict[str, dict[str, Any]] = {}  # step key -> its latest checkpoint
        self._attempts: dict[str, int] = {}  # RunStep command id -> its latest attempt

    # -- signals and queries -------------------------------------------------------------

    @workflow.signal
    def abort(self, request: dict[str, Any]) -> None:
        """{"by": who}: stop; the running stages roll back."""
        if self._abort is None:
            self._abort = dict(request)

    @workflow.signal
    def decide(self, decision: dict[str, Any]) -> None:
        """{"commandId", "status" (Approved|Rejected|Decided), "action", "comment", "by", "inputs"}."""
        self._decisions.setdefault(decision["commandId"], dict(decision))

    @workflow.signal
    def checkpoint(self, saved: dict[str, Any]) -> None:
        """{"commandId", "stepKey", "attempt", "data"}: what a step must keep (the rollback data
        captured before its first AWS change). Its delegate waits until this signal is in the
        history before it goes on, so a later attempt starts from it. A signal from an attempt
        followed by another (its delegate was given up for lost, yet went on) is ignored."""
        if self._attempts.get(saved.get("commandId", "")) == saved.get("attempt"):
            self._checkpoints[saved["stepKey"]] = saved["data"]

    @workflow.query
    def status(self) -> str:
        return self._status

    # -- the loop ------------------------------------------------------------------------

    @workflow.run
    async def run(self, job: dict[str, Any]) -> str:
        self._job = job
        snapshot = job["snapshot"]
        pipeline = mark_runtime_inputs(snapshot["pipeline"], snapshot.get("runtimeInputs") or ())
        plan = build_plan(pipeline, file=snapshot.get("file", ""))
        self._queues = step_queues(plan, snapshot["pipeline"])
        interpreter = Interpreter(
            plan,
            RunInfo(
                job["executionId"],
                int(job.get("sequenceId") or 0),
                int(snapshot["startTs"]),
                snapshot.get("triggeredBy"),
                snapshot.get("scope") or {},
            ),
        )
        commands = interpreter.start()
        await self._record(interpreter, started=True, commands=commands)
        watcher = asyncio.create_task(self._watch_abort())
        self._dispatch(commands)
        while not interpreter.finished:
            await workflow.wait_condition(
                lambda: bool(self._events) or (self._abort is not None and not self._abort_fed)
            )
            logs: list[dict[str, Any]] = []
            if self._abort is not None and not self._abort_fed:
                self._abort_fed = True
                event: m.Event = m.AbortRequested(by=self._abort.get("by"), reason="requested")
            else:
                event, logs = self._events.pop(0)
            commands = interpreter.feed(event)
            self._status = interpreter.status
            await self._record(interpreter, event=event, logs=logs, commands=commands)
            self._dispatch(commands)
        # the watcher sees the end in the store and returns: waiting for it (briefly) leaves no
        # activity of this workflow running after the workflow is gone
        with contextlib.suppress(TimeoutError):
            await workflow.wait_condition(watcher.done, timeout=WATCHER_END)
        await _cancelled(watcher)
        for task in self._tasks.values():  # late answers (a second approval) are not waited for
            task.cancel()
        return interpreter.status

    async def _watch_abort(self) -> None:
        """An abort asked for through the store (`corral abort`) counts as the signal."""
        try:
            requested = await self._long_control(
                "corral.watch_abort", {"executionId": self._job["executionId"]}, timedelta(days=30)
            )
        except (asyncio.CancelledError, ActivityError):
            return
        if not requested.get("ended"):
            self.abort(requested)

    async def _long_control(self, name: str, request: dict[str, Any], limit: timedelta) -> Any:
        """A control activity that waits for long, heartbeating (moved to another control
        worker when its own dies)."""
        return await workflow.execute_activity(
            name,
            request,
            task_queue=CONTROL_QUEUE,
            start_to_close_timeout=limit,
            heartbeat_timeout=timedelta(seconds=30),
            retry_policy=RetryPolicy(
                initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=10)
            ),
        )

    async def _record(
        self,
        interpreter: Interpreter,
        *,
        event: m.Event | None = None,
        logs: list[dict[str, Any]] | None = None,
        started: bool = False,
        commands: list[m.Command] | None = None,
    ) -> None:
        request: dict[str, Any] = {
            "executionId": self._job["executionId"],
            "updates": [update_to_json(u) for u in interpreter.take_updates()],
            "logs": logs or [],
            "finished": interpreter.finished,
            # a step shown waiting for a person has its request already (one transaction)
            "requests": m.person_requests(commands or []),
        }
        if started:
            request["started"] = True
            request["owner"] = f"temporal:{workflow.info().workflow_id}"
        if event is not None:
            request["events"] = [
                {
                    "kind": type(event).__name__,
                    "command_id": getattr(event, "command_id", None),
                    "payload": m.to_json(event),
                    "at": workflow.now().timestamp(),
                }
            ]
        await self._control("corral.record", request)

    async def _control(self, name: str, request: dict[str, Any], **options: Any) -> Any:
        options.setdefault("start_to_close_timeout", timedelta(seconds=60))
        return await workflow.execute_activity(
            name, request, task_queue=CONTROL_QUEUE, retry_policy=_CONTROL_RETRY, **options
        )

    # -- commands ------------------------------------------------------------------------

    def _dispatch(self, commands: list[m.Command]) -> None:
        for command in commands:
            if isinstance(command, m.Cancel):
                task = self._tasks.get(command.id)
                if task is not None and not task.done():
                    task.cancel()
                continue
            self._tasks[command.id] = asyncio.create_task(self._carry(command))

    async def _carry(self, command: m.Command) -> None:
        logs: list[dict[str, Any]] = []
        if isinstance(command, m.RunStep):
            event, logs = await self._run_step(command)
        elif isinstance(command, m.PrepareStage):
            event = await self._prepare(command)
        elif isinstance(command, m.AcquireLock):
            event = await self._acquire(command)
        elif isinstance(command, m.ReleaseLock):
            await self._control(
                "corral.release_lock", {"executionId": self._job["executionId"], "key": command.key}
            )
            event = m.LockReleased(command.id)
        elif isinstance(command, m.Sleep):
            event = await self._sleep(command)
        elif isinstance(command, m.AwaitApproval):
            event = await self._await_approval(command)
        else:
            assert isinstance(command, m.AwaitIntervention)
            event = await self._await_intervention(command)
        self._events.append((event, logs))

    async def _run_step(self, command: m.RunStep) -> tuple[m.Event, list[dict[str, Any]]]:
        try:
            return await self._attempt(command)
        finally:  # a checkpoint signalled after the step ended (by a delegate lost) is ignored
            self._attempts.pop(command.id, None)

    async def _attempt(self, command: m.RunStep) -> tuple[m.Event, list[dict[str, Any]]]:
        """The step on a delegate of its queue, until it gives a result.

        The step's time starts when it is queued (deadline). A delegate that dies (no heartbeat
        for the heartbeat timeout) ends that attempt: the lines it sent stay, marked as ended,
        and a new attempt starts with the step's latest checkpoint, which the dead delegate had
        signalled (and seen recorded) before the change it protects. A step no delegate takes
        before its deadline fails naming its selectors and the delegates that are connected."""
        heartbeat = float(self._job.get("heartbeatTimeout") or 30.0)
        queue = self._queues.get(command.step_key) or DEFAULT_QUEUE
        deadline = workflow.now().timestamp() + command.timeout
        for attempt in range(1, MAX_ATTEMPTS + 1):
            left = max(deadline - workflow.now().timestamp(), 1.0)
            request = {
                "executionId": self._job["executionId"],
                "projectRoot": self._job.get("projectRoot"),
                "inputs": self._job.get("inputs") or {},
                "command": m.to_json(command),
                "checkpoint": self._checkpoints.get(command.step_key),
                "deadline": deadline,
                "attempt": attempt,
            }
            self._attempts[command.id] = attempt
            try:
                result = await workflow.execute_activity(
                    "corral.run_step",
                    request,
                    task_queue=queue,
                    schedule_to_start_timeout=timedelta(seconds=left),
                    start_to_close_timeout=timedelta(seconds=left + STOP_GRACE),
                    heartbeat_timeout=timedelta(seconds=heartbeat),
                    retry_policy=RetryPolicy(maximum_attempts=1),  # the next attempt is ours
                    cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
                )
            except asyncio.CancelledError:
                return self._ended(command, m.ABORTED, "The step was aborted."), []
            except ActivityError as error:
                cause = error.cause if error.cause is not None else error
                if isinstance(cause, Cancelled):
                    return self._ended(command, m.ABORTED, "The step was aborted."), []
                if isinstance(cause, Timeout) and cause.type == TimeoutType.SCHEDULE_TO_START:
                    return await self._unserved(command, queue, attempt), []
                try:
                    await self._note(command, f"Attempt {attempt} ended: {_lost(cause, heartbeat)}")
                    if workflow.now().timestamp() >= deadline:
                        return self._ended(command, m.EXPIRED, "The step timed out.", "Timeout"), []
                    await workflow.sleep(RETRY_DELAY)
                except asyncio.CancelledError:
                    return self._ended(command, m.ABORTED, "The step was aborted."), []
                continue
            event = m.event_from_json("StepFinished", result["event"])
            assert isinstance(event, m.StepFinished)
            if event.checkpoint is not None:
                self._checkpoints[command.step_key] = event.checkpoint
            return event, list(result.get("logs") or [])
        lost = f"the step's delegates were lost {MAX_ATTEMPTS} times"
        return self._ended(command, m.FAILED, lost, "DelegateProvisioning"), []

    def _ended(
        self, command: m.RunStep, status: str, error: str, failure_type: str = "Unknown"
    ) -> m.StepFinished:
        """A step that ended without a delegate's answer keeps its checkpoint (the rollback
        data of what it may have changed)."""
        checkpoint = self._checkpoints.get(command.step_key)
        return m.StepFinished(
            command.id, status, error=error, failure_type=failure_type, checkpoint=checkpoint
        )

    async def _note(self, command: m.RunStep, message: str) -> None:
        """A line in the step's log, written by the workflow (an attempt that ended)."""
        line = {
            "step_key": command.step_key,
            "at": workflow.now().timestamp(),
            "section": "Delegate",
            "level": "WARN",
            "message": message,
        }
        await self._control(
            "corral.record",
            {"executionId": self._job["executionId"], "updates": [], "logs": [line], "finished": False},
        )

    async def _unserved(self, command: m.RunStep, queue: str, attempt: int) -> m.StepFinished:
        selectors = selectors_of(queue)
        try:
            connected = await self._control("corral.connected_delegates", {"queue": queue})
        except ActivityError:
            connected = "unknown (the delegate registry could not be read)"
        again = " again after its delegate was lost" if attempt > 1 else ""
        error = (
            f"No delegate took the step{again} within its timeout ({command.timeout:g}s): it selects "
            f"{', '.join(selectors) if selectors else 'no delegate (default)'} (task queue {queue}); "
            f"delegates connected: {connected}"
        )
        await self._note(command, error)
        return self._ended(command, m.FAILED, error, "DelegateProvisioning")

    async def _prepare(self, command: m.PrepareStage) -> m.Event:
        result = await self._control(
            "corral.prepare_stage",
            {
                "projectRoot": self._job.get("projectRoot"),
                "inputs": self._job.get("inputs") or {},
                "command": m.to_json(command),
            },
            start_to_close_timeout=timedelta(minutes=5),
        )
        return m.event_from_json("StagePrepared", result)

    async def _acquire(self, command: m.AcquireLock) -> m.Event:
        try:
            result = await self._control(
                "corral.acquire_lock",
                {
                    "executionId": self._job["executionId"],
                    "owner": f"temporal:{workflow.info().workflow_id}",
                    "noWait": bool(self._job.get("noWait")),
                    "command": m.to_json(command),
                },
                start_to_close_timeout=timedelta(days=1),
                heartbeat_timeout=timedelta(seconds=30),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except (asyncio.CancelledError, ActivityError):
            return m.LockAcquired(command.id, False, "aborted while waiting for the service")
        return m.event_from_json("LockAcquired", result)

    async def _sleep(self, command: m.Sleep) -> m.Event:
        try:
            await workflow.sleep(command.seconds)
        except asyncio.CancelledError:
            return m.TimerFired(command.id, cancelled=True)
        return m.TimerFired(command.id)

    async def _await_person(
        self, command_id: str, timeout: float, record: dict[str, Any]
    ) -> dict[str, Any] | str:
        """The decision signalled for `command_id`, or "Expired" / "Cancelled"."""
        base = {"executionId": self._job["executionId"], "commandId": command_id}
        await self._control("corral.open_request", {**base, **record})
        # a decision comes as a signal (the server) or is written to the store (`corral approve`)
        from_store = asyncio.create_task(
            self._long_control("corral.await_decision", base, timedelta(seconds=timeout + 3600))
        )
        try:
            await workflow.wait_condition(
                lambda: command_id in self._decisions or from_store.done(), timeout=timeout
            )
        except asyncio.CancelledError:
            await _cancelled(from_store)
            await self._control("corral.open_request", {**base, "close": {"status": "Cancelled"}})
            return "Cancelled"
        except TimeoutError:
            await _cancelled(from_store)
            await self._control("corral.open_request", {**base, "close": {"status": "Expired"}})
            return "Expired"
        if command_id not in self._decisions:
            try:
                stored = from_store.result()
            except ActivityError:
                stored = {"status": "Expired"}
            if stored.get("status") in ("Expired", "Cancelled"):
                return str(stored["status"])
            self._decisions[command_id] = stored
        await _cancelled(from_store)
        decision = self._decisions[command_id]
        close = {
            "status": decision.get("status"),
            "decision": decision.get("action"),
            "comment": decision.get("comment"),
            "by": decision.get("by"),
        }
        await self._control("corral.open_request", {**base, "close": close})
        return decision

    async def _await_approval(self, command: m.AwaitApproval) -> m.Event:
        decided = await self._await_person(
            command.id,
            command.timeout,
            {
                "stepKey": command.step_key,
                "kind": "approval",
                "message": command.message,
                "approvers": command.approvers,
                "inputs": list(command.inputs),
            },
        )
        if decided == "Cancelled":
            return m.ApprovalDecided(command.id, "Aborted")
        if decided == "Expired":
            return m.ApprovalDecided(command.id, "Expired")
        assert isinstance(decided, dict)
        return m.ApprovalDecided(
            command.id,
            str(decided.get("status")),
            decided.get("comment"),
            decided.get("by"),
            dict(decided.get("inputs") or {}),
            list(decided.get("activities") or []),
        )

    async def _await_intervention(self, command: m.AwaitIntervention) -> m.Event:
        decided = await self._await_person(
            command.id,
            command.timeout,
            {
                "stepKey": command.step_key,
                "kind": "intervention",
                "message": command.error,
                "inputs": list(command.actions),
            },
        )
        if decided == "Cancelled":
            return m.InterventionDecided(command.id, None, cancelled=True)
        if decided == "Expired":
            return m.InterventionDecided(command.id, None)
        assert isinstance(decided, dict)
        return m.InterventionDecided(
            command.id, decided.get("action"), by=decided.get("by"), comment=decided.get("comment")
        )


async def _cancelled(task: asyncio.Task[Any]) -> None:
    """Cancel a task of this workflow and take its end, so no error is left unretrieved (which
    the SDK would log with a traceback)."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, ActivityError):
        await task


def _lost(cause: BaseException, heartbeat: float) -> str:
    if isinstance(cause, Timeout) and cause.type == TimeoutType.HEARTBEAT:
        return f"delegate lost (no heartbeat for {heartbeat:g}s)"
    if isinstance(cause, Timeout):
        return "delegate lost (the step outlived its time on the delegate)"
    return f"delegate lost ({cause})"
