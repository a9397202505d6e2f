"""ECS Run Task, in the order the reference documents it.

Register (or reuse, or take the ARN of) the task definition → RunTask with the request document
(more than 10 tasks: several calls of at most 10, all with one `startedBy`) → report RunTask's
`failures[]` → unless `skip_steady_state_check`, wait on the shared task poller until every task
is RUNNING, or has STOPPED with exit code 0 in every essential container (a batch task that
finished is done; the reference waits for RUNNING forever). A task that stops otherwise fails the
step at once, naming the container and its exit code or ECS's stopped reason.

`wait_for_exit` (a Corral option) waits until every task has stopped and succeeds only when every
essential container exited with 0: the way to run a migration or a batch job as a gate.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from dataclasses import dataclass
from typing import Any

from corral.aws.pagination import chunked, describe_tasks, list_task_arns
from corral.errors import DeploymentError
from corral.step_log import DEPLOY, PREPARE_ROLLBACK_DATA, WAIT_FOR_STEADY_STATE
from corral.step_outcome import StepOutcome

from .context import StepAborted, StepContext, StepTimedOut
from .instances import task_summary
from .target import EcsTarget
from .task_definitions import for_target

MAX_TASKS_PER_CALL = 10  # RunTask's limit
LOOK_AROUND_SECONDS = 0.5  # how often the wait looks at every task while it waits on one of them


@dataclass
class RunTaskOptions:
    skip_steady_state_check: bool = False
    wait_for_exit: bool = False  # wait until every task stopped; success = exit 0 in essential containers
    # a re-run after a crash: tasks this startedBy already started count, only the rest are started
    adopt_started: bool = False


def run_task(ctx: StepContext, target: EcsTarget, options: RunTaskOptions) -> StepOutcome:
    cluster = target.cluster
    started_by = (target.run_task_request or {}).get("startedBy") or f"corral-{uuid.uuid4().hex[:24]}"
    with ctx.calls():
        ctx.log.section(PREPARE_ROLLBACK_DATA)
        rollback_data = {"cluster": cluster, "startedBy": started_by}
        ctx.log.info(f"The tasks of this run are started by {started_by}")
        ctx.checkpoint(rollback_data)

        ctx.log.section(DEPLOY)
        task_definition_arn, _ = for_target(ctx, target)
        essentials = essential_containers(ctx, target, task_definition_arn)
        request = run_task_request(target, task_definition_arn, started_by)
        tasks = start_tasks(ctx, request, adopt=options.adopt_started)
        ctx.check()

        ctx.log.section(WAIT_FOR_STEADY_STATE)
        if options.skip_steady_state_check:
            ctx.log.info("Skipping the steady state check")
        else:
            tasks = wait_for_tasks(ctx, cluster, tasks, essentials, until_stopped=options.wait_for_exit)
        ctx.log.info("Deployment Successful.")
    return StepOutcome(
        outputs={
            "taskDefinitionArn": task_definition_arn,
            "startedBy": started_by,
            "runTaskArns": [t["taskArn"] for t in tasks],
            "instances": [task_summary(t) for t in tasks],
            "exitCodes": exit_codes(tasks),
        },
        checkpoint=rollback_data,
    )


def run_task_request(target: EcsTarget, task_definition_arn: str, started_by: str) -> dict[str, Any]:
    """The RunTask request document with cluster and task definition forced and the `startedBy`
    that names every task of this run."""
    request = dict(target.run_task_request or {})
    request["cluster"] = target.cluster
    request["taskDefinition"] = task_definition_arn
    request["startedBy"] = started_by
    request["count"] = int(request.get("count") or 1)
    if request["count"] < 1:
        raise DeploymentError(f"RunTask count must be 1 or more, not {request['count']}.")
    return request


def essential_containers(ctx: StepContext, target: EcsTarget, task_definition_arn: str) -> set[str]:
    if target.task_definition is not None:
        definition = target.task_definition
    else:
        definition = ctx.clients.ecs.describe_task_definition(taskDefinition=task_definition_arn)[
            "taskDefinition"
        ]
    return {c["name"] for c in definition.get("containerDefinitions", []) if c.get("essential", True)}


def started_before(ctx: StepContext, cluster: str, started_by: str) -> list[dict[str, Any]]:
    """The tasks (running or stopped) that carry this startedBy, oldest first."""
    arns = [
        arn
        for status in ("RUNNING", "STOPPED")
        for arn in list_task_arns(ctx.clients, cluster, started_by=started_by, desired_status=status)
    ]
    tasks = describe_tasks(ctx.clients, cluster, arns)
    return sorted(tasks, key=lambda t: (str(t.get("createdAt") or ""), t["taskArn"]))


def client_token(started_by: str, batch: int) -> str:
    """The same for the same batch of the same run: a call retried after a lost answer, or made
    again by a re-run of the step, starts no second batch where ECS honours the token."""
    return hashlib.sha256(f"{started_by}/{batch}".encode()).hexdigest()  # 64 chars, ECS's limit


def start_tasks(ctx: StepContext, request: dict[str, Any], *, adopt: bool = False) -> list[dict[str, Any]]:
    """RunTask in calls of at most 10; fails naming every task ECS could not start.

    `adopt`: the step runs again after its process stopped; the tasks its first attempt started
    (same startedBy) are this run's, and only the missing ones are started."""
    total = request["count"]
    tasks: list[dict[str, Any]] = []
    if adopt:
        tasks = started_before(ctx, request["cluster"], request["startedBy"])[:total]
        if tasks:
            ctx.log.info(
                f"{len(tasks)} task(s) started by {request['startedBy']} before the restart; "
                f"starting {total - len(tasks)} more"
            )
    ctx.log.info(
        f"Running {total - len(tasks)} task(s) of task definition {request['taskDefinition']} in cluster "
        f"{request['cluster']} (started by {request['startedBy']})"
    )
    failures: list[dict[str, Any]] = []
    first_new = len(tasks)
    for number, batch in enumerate(chunked(range(first_new, total), MAX_TASKS_PER_CALL)):
        token = client_token(request["startedBy"], first_new + number * MAX_TASKS_PER_CALL)
        answer = ctx.clients.ecs.run_task(**{**request, "count": len(batch), "clientToken": token})
        tasks.extend(answer.get("tasks", []))
        failures.extend(answer.get("failures", []))
    for task in tasks:
        ctx.log.info(f"Task {task['taskArn']} is {task.get('lastStatus', 'PROVISIONING')}")
    for line in failure_lines(failures):
        ctx.log.error(line)
    if failures:
        started = "".join(f"\n  {t['taskArn']}" for t in tasks)
        raise DeploymentError(
            f"ECS could not start {len(failures)} of {total} task(s):\n"
            + "\n".join(f"  {line}" for line in failure_lines(failures))
            + (f"\nStarted (still running):{started}" if tasks else "")
        )
    return tasks


def failure_lines(failures: list[dict[str, Any]]) -> list[str]:
    """RunTask's failures[] as a person reads them (e.g. `RESOURCE:MEMORY on container-instance/...`)."""
    lines = []
    for failure in failures:
        where = f" on {failure['arn']}" if failure.get("arn") else ""
        detail = f": {failure['detail']}" if failure.get("detail") else ""
        lines.append(f"Failed to start a task: {failure.get('reason', 'unknown reason')}{where}{detail}")
    return lines


# ---------------------------------------------------------------- waiting


def task_failure(task: dict[str, Any], essentials: set[str]) -> str | None:
    """Why a task has failed, or None while it is fine (running, starting, or done with exit 0)."""
    name = task.get("taskArn", "").rsplit("/", 1)[-1] or "?"
    status = task.get("lastStatus")
    if status == "MISSING":
        return f"Task {name} is unknown to ECS ({task.get('reason', 'MISSING')})"
    if status != "STOPPED":
        return None
    containers = [c for c in task.get("containers", []) if c.get("name") in essentials or not essentials]
    bad = [c for c in containers if c.get("exitCode") not in (0, None)]
    never_ran = [c for c in containers if c.get("exitCode") is None]
    if not bad and not never_ran:
        return None
    reason = task.get("stoppedReason", "stopped")
    parts = [f"container {c['name']} exited with code {c['exitCode']}" for c in bad]
    parts += [f"container {c['name']}: {c['reason']}" for c in never_ran if c.get("reason")]
    return f"Task {name} failed: {'; '.join(parts) or reason} ({reason})"


def _finished(task: dict[str, Any], until_stopped: bool) -> bool:
    status = task.get("lastStatus")
    return status == "STOPPED" or (status == "RUNNING" and not until_stopped)


def wait_for_tasks(
    ctx: StepContext,
    cluster: str,
    tasks: list[dict[str, Any]],
    essentials: set[str],
    *,
    until_stopped: bool,
) -> list[dict[str, Any]]:
    """Wait until every task is RUNNING (or STOPPED with exit 0; with `until_stopped`: STOPPED).

    Raises at the first task that failed. Returns the tasks' last descriptions."""
    from corral.aws.poller import TaskPoller
    from corral.aws.retry import Aborted

    goal = "stopped" if until_stopped else "running"
    poller = TaskPoller.for_cluster(ctx.clients, cluster)
    watches = [poller.watch(t["taskArn"]) for t in tasks]
    latest: list[dict[str, Any]] = list(tasks)
    reported: dict[str, str] = {}
    last_progress = ""
    try:
        while True:
            latest = [w.latest() or t for w, t in zip(watches, latest, strict=True)]
            _report_changes(ctx, latest, reported)
            for task in latest:
                failure = task_failure(task, essentials)
                if failure is not None:
                    raise DeploymentError(failure)
            done = [_finished(t, until_stopped) for t in latest]
            progress = f"Waiting for tasks to be {goal}. {sum(done)}/{len(done)} {goal} ..."
            if progress != last_progress:
                ctx.log.info(progress)
                last_progress = progress
            if all(done):
                return latest
            pending = watches[done.index(False)]
            try:
                pending.wait(
                    lambda t: _finished(t, until_stopped) or task_failure(t, essentials) is not None,
                    deadline=min(ctx.deadline, time.monotonic() + LOOK_AROUND_SECONDS),
                    abort=ctx.abort,
                )
            except TimeoutError as exc:
                if ctx.remaining() <= 0:
                    raise StepTimedOut(
                        f"Timed out waiting for tasks to be {goal}: {sum(done)}/{len(done)} {goal}"
                    ) from exc
            except Aborted as exc:
                raise StepAborted("Aborted while waiting for the tasks") from exc
    finally:
        for watch in watches:
            watch.close()


def _report_changes(ctx: StepContext, tasks: list[dict[str, Any]], reported: dict[str, str]) -> None:
    for task in tasks:
        arn, status = task["taskArn"], task.get("lastStatus", "")
        if reported.get(arn) == status or status not in ("RUNNING", "STOPPED"):
            continue
        reported[arn] = status
        if status == "STOPPED":
            codes = ", ".join(
                f"container {c['name']} exit code {c['exitCode']}"
                for c in task.get("containers", [])
                if c.get("exitCode") is not None
            )
            ctx.log.info(f"Task {arn} is STOPPED: {task.get('stoppedReason', '')} ({codes})")
        else:
            ctx.log.info(f"Task {arn} is RUNNING")


def exit_codes(tasks: list[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """{taskArn: {container: exit code}} for the containers that have exited."""
    found: dict[str, dict[str, int]] = {}
    for task in tasks:
        codes = {
            c["name"]: c["exitCode"] for c in task.get("containers", []) if c.get("exitCode") is not None
        }
        if codes:
            found[task["taskArn"]] = codes
    return found
