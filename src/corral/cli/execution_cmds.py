"""`corral executions`, `corral logs ID`, `corral abort ID`, `corral approve ID`: read and steer
executions from any process that reaches the store (the running `corral run` notices within a
fraction of a second)."""

from __future__ import annotations

import datetime as dt
import time
from typing import TYPE_CHECKING

import click

from corral.cli.run_support import (
    EXIT_FAILED,
    echo_json,
    open_store,
    pipeline_errors,
    project_option,
    store_option,
)

if TYPE_CHECKING:
    from corral.store import Store

FOLLOW_POLL = 0.2  # seconds between looks at the store with --follow


@click.command("executions")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many, newest first."
)
@click.option(
    "--pipeline", "pipeline_id", default=None, metavar="ID", help="Only this pipeline's executions."
)
@click.option("--json", "json_output", is_flag=True, help="Print a JSON list.")
@project_option
@store_option
@pipeline_errors
def executions(
    limit: int, pipeline_id: str | None, json_output: bool, project_dir: str | None, store_url: str | None
) -> None:
    """List executions, newest first."""
    store = open_store(project_dir, store_url)
    try:
        records = store.executions(pipeline_id=pipeline_id, limit=limit)
    finally:
        store.close()
    if json_output:
        echo_json(
            [
                {
                    "id": r.id,
                    "pipeline": r.pipeline_id,
                    "name": r.pipeline_name,
                    "sequenceId": r.sequence_id,
                    "status": r.status,
                    "error": r.error,
                    "createdAt": r.created_at,
                    "startedAt": r.started_at,
                    "endedAt": r.ended_at,
                }
                for r in records
            ]
        )
        return
    if not records:
        click.echo("no executions yet")
        return
    click.echo(f"{'ID':<34} {'PIPELINE':<24} {'#':>4} {'STATUS':<18} {'STARTED':<19} {'TOOK':>7}")
    for r in records:
        started = dt.datetime.fromtimestamp(r.started_at or r.created_at).strftime("%Y-%m-%d %H:%M:%S")
        took = f"{r.ended_at - (r.started_at or r.created_at):.1f}s" if r.ended_at else "-"
        click.echo(
            f"{r.id:<34} {r.pipeline_id:<24} {r.sequence_id:>4} {r.status:<18} {started:<19} {took:>7}"
        )


@click.command("logs")
@click.argument("execution_id", metavar="ID")
@click.option("--follow", "-f", is_flag=True, help="Keep printing new lines until the execution ends.")
@click.option("--step", "step", default=None, metavar="STEP", help="Only this step (key or identifier).")
@click.option("--json", "json_output", is_flag=True, help="JSON lines, one per log line.")
@project_option
@store_option
@pipeline_errors
def logs(
    execution_id: str,
    follow: bool,
    step: str | None,
    json_output: bool,
    project_dir: str | None,
    store_url: str | None,
) -> None:
    """Print an execution's log lines (each step's sections and messages)."""
    from corral.errors import CorralError

    store = open_store(project_dir, store_url)
    try:
        record = store.execution(execution_id)
        if record is None:
            raise CorralError(f"no execution {execution_id} in {store.url}")
        step_key = _step_key(store, execution_id, step) if step else None
        seen = 0
        while True:
            ended = store.execution(execution_id)
            for line in store.logs(execution_id, step_key=step_key, after=seen):
                seen = line.id
                if json_output:
                    echo_json(
                        {
                            "at": line.at,
                            "step": line.step_key,
                            "section": line.section,
                            "level": line.level,
                            "message": line.message,
                        }
                    )
                else:
                    at = dt.datetime.fromtimestamp(line.at).strftime("%H:%M:%S")
                    level = "" if line.level == "INFO" else f" {line.level}"
                    click.echo(f"{at} [{line.step_key}] {line.section}{level}: {line.message}")
            if not follow or (ended is not None and ended.ended_at is not None):
                break
            time.sleep(FOLLOW_POLL)
        if follow:
            final = store.execution(execution_id)
            assert final is not None
            if json_output:
                echo_json({"execution": execution_id, "status": final.status, "error": final.error})
            else:
                click.echo(f"execution {execution_id}: {final.status}")
    finally:
        store.close()


def _step_key(store: Store, execution_id: str, step: str) -> str:
    from corral.errors import CorralError

    steps = store.steps(execution_id)
    for found in steps:
        if found.key == step:
            return str(found.key)
    for found in steps:
        if found.identifier == step:
            return str(found.key)
    # not started yet: a --follow may be waiting for it
    if any(step == s.key.rsplit("/", 1)[-1] for s in steps) or "/" in step:
        return step
    raise CorralError(
        f"execution {execution_id} has no step {step!r} (yet); its steps: "
        + (", ".join(s.key for s in steps) or "none")
    )


@click.command("abort")
@click.argument("execution_id", metavar="ID")
@project_option
@store_option
@pipeline_errors
def abort(execution_id: str, project_dir: str | None, store_url: str | None) -> None:
    """Ask a running execution to stop: the running stage rolls back."""
    from corral.engine import abort as request_abort

    store = open_store(project_dir, store_url)
    try:
        if request_abort(execution_id, store=store, by=_user()):
            click.echo(f"abort requested for {execution_id}")
        else:
            record = store.execution(execution_id)
            click.echo(
                f"execution {execution_id} already ended: {record.status if record else '?'}", err=True
            )
            raise SystemExit(EXIT_FAILED)
    finally:
        store.close()


@click.command("approve")
@click.argument("execution_id", metavar="ID")
@click.option("--reject", is_flag=True, help="Reject instead of approving.")
@click.option("--comment", default=None, metavar="TEXT", help="Why; recorded with the decision.")
@click.option("--step", default=None, metavar="STEP", help="Which approval step, when several wait.")
@click.option(
    "--input",
    "inputs",
    multiple=True,
    metavar="NAME=VALUE",
    help="A value for one of the step's approverInputs; repeatable.",
)
@project_option
@store_option
@pipeline_errors
def approve(
    execution_id: str,
    reject: bool,
    comment: str | None,
    step: str | None,
    inputs: tuple[str, ...],
    project_dir: str | None,
    store_url: str | None,
) -> None:
    """Approve (or --reject) the approval step an execution waits at, as your OS user.

    The step's rules hold: one vote per person, approvers.minimumCount distinct approvals
    before it is Approved, not the person who started the execution when
    approvers.disallowPipelineExecutor is true. (A local store has no user groups; a server
    checks approvers.userGroups.)"""
    from corral.engine import approve as decide

    given: dict[str, str] = {}
    for item in inputs:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--input")
        given[name] = value
    store = open_store(project_dir, store_url)
    try:
        outcome = decide(
            execution_id, not reject, comment=comment, by=_user(), step=step, inputs=given, store=store
        )
    finally:
        store.close()
    if outcome.status == "Waiting":
        click.echo(
            f"approval recorded: {execution_id} ({outcome.approvals} of {outcome.needed} approvals; "
            "waiting for more approvers)"
        )
    else:
        click.echo(f"{'rejected' if reject else 'approved'}: {execution_id}")


def _user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # no user name in some containers
        return "cli"
