"""PipelineWorkflow: the engine's interpreter as one generic Temporal workflow.

The workflow receives the execution's pipeline snapshot and inputs as its argument, so no
workflow code depends on a pipeline: changing a pipeline never makes a running execution
nondeterministic. It feeds the interpreter events and carries out its commands:

    RunStep                  activity `corral.run_step` on the step's delegate queue
    PrepareStage, locks      activities on the control queue (they need the store/project)
    Sleep                    a workflow timer
    AwaitApproval/...        a request recorded in the store, then the `decide` signal
    Cancel                   cancels what the command started
    abort (signal)           AbortRequested

Every event fed to the interpreter is journaled, with the updates it caused, by the
`corral.record` activity before the commands that follow start. The code here obeys the
sandbox: no clock but workflow.now(), no I/O.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from corral.delegate.control import update_to_json
    from corral.delegate.queues import CONTROL_QUEUE, step_queues
    from corral.engine import messages as m
    from corral.engine.interpreter import Interpreter, RunInfo
    from corral.engine.plan import build_plan
    from corral.engine.runtime_values import mark_runtime_inputs

WORKFLOW_NAME = "CorralPipeline"
STOP_GRACE = 30.0
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
        self._checkpoints: dict[str, dict[str, Any]] = {}

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
        watcher.cancel()
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
        heartbeat = float(self._job.get("heartbeatTimeout") or 30.0)
        request = {
            "executionId": self._job["executionId"],
            "projectRoot": self._job.get("projectRoot"),
            "inputs": self._job.get("inputs") or {},
            "command": m.to_json(command),
            "checkpoint": self._checkpoints.get(command.step_key),
        }
        try:
            result = await workflow.execute_activity(
                "corral.run_step",
                request,
                task_queue=self._queues.get(command.step_key) or "corral-steps-default",
                start_to_close_timeout=timedelta(seconds=command.timeout + STOP_GRACE),
                heartbeat_timeout=timedelta(seconds=heartbeat),
                # only a delegate's death (or a bug) fails the activity: a failed step is a result
                retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_attempts=20),
                cancellation_type=workflow.ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
            )
        except asyncio.CancelledError:
            return m.StepFinished(command.id, m.ABORTED, error="The step was aborted."), []
        except ActivityError as error:
            cause = error.cause if error.cause is not None else error
            if "cancel" in type(cause).__name__.lower():
                return m.StepFinished(command.id, m.ABORTED, error="The step was aborted."), []
            return m.StepFinished(command.id, m.FAILED, error=f"no delegate could run the step: {cause}"), []
        event = m.event_from_json("StepFinished", result["event"])
        assert isinstance(event, m.StepFinished)
        if event.checkpoint is not None:
            self._checkpoints[command.step_key] = event.checkpoint
        return event, list(result.get("logs") or [])

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
            from_store.cancel()
            await self._control("corral.open_request", {**base, "close": {"status": "Cancelled"}})
            return "Cancelled"
        except TimeoutError:
            from_store.cancel()
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
        from_store.cancel()
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
