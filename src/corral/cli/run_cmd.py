"""`corral run PIPELINE` and `corral resume ID`: carry out an execution in this process and show it.

In a terminal a live table of stages and steps; plain lines when stdout is not a terminal; one
JSON object at the end with --json. The exit code says how it ended (see run_support).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from corral.cli.run_support import (
    echo_json,
    execution_dict,
    exit_code,
    given_values,
    open_store,
    pipeline_errors,
    pipeline_project,
    project_option,
    store_option,
    with_inputs,
)

if TYPE_CHECKING:
    from corral.config.project import Project
    from corral.engine import Execution
    from corral.store import Store


@click.command("run")
@click.argument("pipeline")
@with_inputs
@click.option(
    "--no-wait",
    is_flag=True,
    help="Fail a stage at once, changing nothing, if its ECS service is being deployed by another "
    "execution (of this or another Corral store) or by anyone else (console, another tool).",
)
@click.option("--json", "json_output", is_flag=True, help="Print one JSON object when the execution ends.")
@project_option
@store_option
@pipeline_errors
def run(
    pipeline: str,
    inputs: tuple[str, ...],
    inputs_file: str | None,
    sets: tuple[str, ...],
    input_sets: tuple[str, ...],
    no_wait: bool,
    json_output: bool,
    project_dir: str | None,
    store_url: str | None,
) -> None:
    """Run PIPELINE (an identifier in the project, or the path of its YAML file) to its end."""
    from corral.engine import create_execution
    from corral.store import Store

    given, set_values = given_values(inputs, sets)
    project, pipeline_id = pipeline_project(project_dir, pipeline)
    store = Store.open(store_url) if store_url else Store.for_project(project)
    try:
        record = create_execution(
            project,
            pipeline_id,
            store=store,
            inputs=given,
            inputs_file=inputs_file,
            input_sets=input_sets,
            sets=set_values,
            triggered_by="cli",
            no_wait=no_wait,
        )
        execution = execute(project, store, record.id, json_output=json_output, no_wait=no_wait)
    finally:
        store.close()
    sys.exit(exit_code(execution.status))


@click.command("resume")
@click.argument("execution_id", metavar="ID")
@click.option("--force", is_flag=True, help="Take over even if another process seems to run it.")
@click.option("--json", "json_output", is_flag=True, help="Print one JSON object when the execution ends.")
@project_option
@store_option
@pipeline_errors
def resume(
    execution_id: str, force: bool, json_output: bool, project_dir: str | None, store_url: str | None
) -> None:
    """Continue an execution whose process stopped; finished steps are not run again."""
    from corral.config.project import load_project
    from corral.errors import CorralError

    store = open_store(project_dir, store_url)
    try:
        record = store.execution(execution_id)
        if record is None:
            raise CorralError(f"no execution {execution_id} in {store.url}")
        project = load_project(project_dir or record.project_root)
        execution = execute(project, store, execution_id, json_output=json_output, force=force)
    finally:
        store.close()
    sys.exit(exit_code(execution.status))


def execute(
    project: Project,
    store: Store,
    execution_id: str,
    *,
    json_output: bool = False,
    no_wait: bool = False,
    force: bool = False,
    view: Any = None,
    read_more: bool = True,
) -> Execution:
    """Run the execution with the view and the project's notifications; print the outcome
    (`read_more`: with the `corral logs` commands, false when the store is not kept)."""
    from corral.cli.execution_view import ExecutionView
    from corral.cli.run_summary import SUMMARY_JOURNAL
    from corral.engine import EmbeddedExecutor, ExecutorOptions, get_execution
    from corral.notify import notifier_for

    view = view or ExecutionView.for_output(json_output=json_output)
    notifier = notifier_for(project, store, execution_id)
    options = ExecutorOptions(no_wait=no_wait, force=force)
    options.on_update = _fan_out(view.on_update, notifier.on_update if notifier else None)
    options.on_log = view.on_log
    record = store.execution(execution_id)
    if record is not None and not json_output:
        view.say(
            f"execution {execution_id} ({record.pipeline_id} #{record.sequence_id}); "
            f"from another terminal: corral logs|approve|abort {execution_id}"
        )
    try:
        with view:
            EmbeddedExecutor(store, project, options).run(execution_id)
    finally:
        if notifier is not None:
            notifier.close()
    execution = get_execution(execution_id, store=store)
    if json_output:
        echo_json(execution_dict(execution))
    else:
        journal = store.journal(execution_id, kinds=SUMMARY_JOURNAL)
        own = _is_project_store(project, store)
        hint = None if not read_more else "" if own else f" --store {store.url}"
        print_outcome(execution, view.say, journal, store_hint=hint)
    return execution


def print_outcome(execution: Execution, say: Any, journal: Any = (), store_hint: str | None = "") -> None:
    """How it ended, then the summary: each stage's service change, each step's time, where to read more."""
    from corral.cli.run_summary import summary_lines

    took = (execution.ended_at or 0) - (execution.started_at or execution.created_at)
    say(
        f"execution {execution.id} ({execution.pipeline_id} #{execution.sequence_id}): {execution.status} in {took:.1f}s"
    )
    for line in summary_lines(execution, journal, store_hint=store_hint):
        say(line)


def _is_project_store(project: Project, store: Store) -> bool:
    """Is `store` the project's own (so `corral logs` in the project finds it without --store)?"""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:  # compared as the store shows its URL: without the password
        return bool(make_url(project.settings.store_url(project.root)).render_as_string() == store.url)
    except ArgumentError:
        return False


def _fan_out(*sinks: Any) -> Any:
    live = [sink for sink in sinks if sink is not None]

    def send(execution_id: str, update: Any) -> None:
        for sink in live:
            sink(execution_id, update)

    return send
