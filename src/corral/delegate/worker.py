"""Temporal workers: a delegate's (steps on its tags' queues) and the control worker's
(the workflows and the activities that need the store)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from corral.store import Store

from .control import ControlActivities, DelegateRegistry
from .live_logs import Send
from .queues import CONTROL_QUEUE, queues_for_delegate
from .step_activity import StepActivities
from .workflow import PipelineWorkflow

MAX_CONCURRENT_STEPS = 100  # steps mostly wait (on ECS, timers, people)
MAX_CONTROL_ACTIVITIES = 2000  # each running execution keeps one open (it watches for an abort)


async def connect(target: str, namespace: str = "default", *, patience: float = 30.0) -> Client:
    """A client; a server that is starting (or restarting) is waited for up to `patience` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + patience
    while True:
        try:
            return await Client.connect(target, namespace=namespace)
        except RuntimeError:  # refused, or "Frontend is not healthy yet"
            if loop.time() >= deadline:
                raise
            await asyncio.sleep(0.2)


def delegate_workers(
    client: Client,
    tags: Sequence[str],
    *,
    name: str | None = None,
    heartbeat_every: float = 1.0,
    send_logs: Send | None = None,
) -> list[Worker]:
    """One worker per task queue the delegate's tags select (and the default queue when it is
    tagged `default`), all running the same step activities. `send_logs` takes the steps' log
    lines to the Corral store while they run (else they come back with each step's result)."""
    activities = StepActivities(
        name or f"{socket.gethostname()}:{os.getpid()}",
        heartbeat_every=heartbeat_every,
        send_logs=send_logs,
    )
    queues = queues_for_delegate(tags)
    return [
        Worker(
            client,
            task_queue=queue,
            activities=activities.activities(),
            max_concurrent_activities=MAX_CONCURRENT_STEPS,
            graceful_shutdown_timeout=timedelta(seconds=1),
        )
        for queue in queues
    ]


def control_worker(client: Client, store: Store, delegates: DelegateRegistry | None = None) -> Worker:
    """Runs the pipeline workflows and the activities that write the store; `delegates` lists
    the delegates registered with the Corral server (named when a step finds no delegate)."""
    return Worker(
        client,
        task_queue=CONTROL_QUEUE,
        workflows=[PipelineWorkflow],
        activities=ControlActivities(store, delegates).activities(),
        workflow_runner=SandboxedWorkflowRunner(
            restrictions=SandboxRestrictions.default.with_passthrough_modules("corral")
        ),
        max_concurrent_activities=MAX_CONTROL_ACTIVITIES,
        graceful_shutdown_timeout=timedelta(seconds=1),
    )


async def run_workers(workers: Sequence[Worker], stop: asyncio.Event | None = None) -> None:
    """Run until `stop` is set (or forever)."""
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        if stop is None:
            await asyncio.gather(*tasks)
        else:
            waiter = asyncio.create_task(stop.wait())
            await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                error = task.exception() if task.done() else None
                if error is not None:
                    raise error
    finally:
        await asyncio.gather(*(w.shutdown() for w in workers), return_exceptions=True)


def describe(workers: Sequence[Any]) -> str:
    return ", ".join(w.task_queue for w in workers)
