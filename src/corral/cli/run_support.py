"""Shared by the pipeline commands (run, plan, executions, logs, abort, approve, resume):
the --project and --store options, naming a pipeline, and exit codes.

Exit codes: 0 success, 1 the execution failed (or was rejected, or expired), 2 invalid input
(every problem printed, no traceback), 3 aborted.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from corral.cli.pipes import quiet_broken_pipe

if TYPE_CHECKING:
    from corral.config.project import Project
    from corral.store import Store

F = TypeVar("F", bound=Callable[..., Any])
_P = ParamSpec("_P")
_R = TypeVar("_R")

EXIT_SUCCESS = 0
EXIT_FAILED = 1
EXIT_INVALID = 2
EXIT_ABORTED = 3

_EXIT_BY_STATUS = {"Success": EXIT_SUCCESS, "IgnoreFailed": EXIT_SUCCESS, "Aborted": EXIT_ABORTED}

project_option = click.option(
    "--project",
    "project_dir",
    metavar="DIR",
    default=None,
    help="Project folder (default: the nearest folder at or above the working directory with corral.yaml).",
)
store_option = click.option(
    "--store",
    "store_url",
    metavar="URL",
    default=None,
    help="Store URL (default: corral.yaml's project.store.url, else <project>/.corral/corral.db).",
)
# --input, --inputs-file and --set: the same options, with the same meaning, on render, plan and run
value_options = [
    click.option(
        "--input",
        "-i",
        "inputs",
        multiple=True,
        metavar="PATH=VALUE",
        help="A runtime input (<+input>) by its full path or a tail naming one input "
        "(spec.tag, tag, task_def.cpu); repeatable. The value is used as typed, never evaluated.",
    ),
    click.option(
        "--inputs-file",
        type=click.Path(dir_okay=False),
        help="YAML file of runtime inputs: a mapping of paths (as --input takes them) to values "
        "(run and plan also take a pipeline fragment like an input set).",
    ),
    click.option(
        "--set",
        "sets",
        multiple=True,
        metavar="NAME=VALUE",
        help="A value the service's expressions read, e.g. serviceVariables.port=8080, artifact.tag=1.25 "
        "(render also: pipeline.sequenceId=7); repeatable. Data, never evaluated.",
    ),
]
input_set_option = click.option(
    "--input-set", "input_sets", multiple=True, metavar="ID", help="An input set; repeatable."
)


def with_values(func: F) -> F:
    """--input, --inputs-file and --set (render, plan and run)."""
    for option in reversed(value_options):
        func = option(func)
    return func


def with_inputs(func: F) -> F:
    """with_values, and --input-set (a pipeline's input sets: plan and run)."""
    return with_values(input_set_option(func))


def given_values(inputs: tuple[str, ...], sets: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The --input and --set pairs as mappings. A --set value is data typed at the command line,
    like an input: it may not hold <+...> or ${...} (put expressions in the project's files)."""
    from corral.cli.config_cmds import parse_assignments
    from corral.engine.literal_inputs import has_expression_text
    from corral.errors import ConfigError, Problem

    given, set_values = parse_assignments(inputs, "--input"), parse_assignments(sets, "--set")
    problems = [
        Problem("--set", key, "a value given on the command line is data: it cannot hold <+...> or ${...}")
        for key, value in set_values.items()
        if has_expression_text(value)
    ]
    if problems:
        raise ConfigError(problems)
    return given, set_values


def exit_code(status: str) -> int:
    return _EXIT_BY_STATUS.get(status, EXIT_FAILED)


def pipeline_errors(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Corral's errors as messages and exit codes; never a traceback for bad input."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        from corral.config.settings import ProjectNotFound
        from corral.errors import ConfigError, CorralError

        try:
            return func(*args, **kwargs)
        except ProjectNotFound as error:
            click.echo(f"corral: {error}", err=True)
            sys.exit(EXIT_INVALID)
        except ConfigError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            click.echo(f"{len(error.problems)} problem(s) found", err=True)
            sys.exit(EXIT_INVALID)
        except CorralError as error:
            click.echo(f"corral: {error}", err=True)
            sys.exit(EXIT_INVALID if _is_lookup(error) else EXIT_FAILED)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except BrokenPipeError:
            quiet_broken_pipe()
        except KeyboardInterrupt:
            click.echo("corral: interrupted; `corral resume ID` continues the execution", err=True)
            sys.exit(130)
        except Exception as error:  # a bug: still no traceback unless asked for
            if os.environ.get("CORRAL_DEBUG"):
                raise
            click.echo(
                f"corral: internal error: {type(error).__name__}: {error} (set CORRAL_DEBUG=1 for details)",
                err=True,
            )
            sys.exit(EXIT_FAILED)

    return wrapper


def _is_lookup(error: Exception) -> bool:
    text = str(error)
    return text.startswith("no execution ") or text.startswith("no step of execution ")


@dataclass
class Context:
    """What a pipeline command works with: the project (when there is one) and the store."""

    store: Store
    project: Project | None = None

    def close(self) -> None:
        self.store.close()


def open_store(project_dir: str | None, store_url: str | None) -> Store:
    """--store URL, else the project's store (--project, or corral.yaml found upwards)."""
    from corral.config.settings import project_root
    from corral.store import Store

    if store_url:
        return Store.open(store_url)
    return Store.for_project(project_root(project_dir))


def pipeline_project(project_dir: str | None, pipeline: str) -> tuple[Project, str]:
    """The project and the pipeline's identifier; PIPELINE is an identifier or a YAML file's path."""
    from corral.config.project import blocking_problems, load_project, read_project
    from corral.config.settings import find_project_root, project_root
    from corral.errors import ConfigError, Problem

    path = Path(pipeline)
    as_file = pipeline.endswith((".yaml", ".yml")) and path.is_file()
    if project_dir is None and as_file:
        upwards = find_project_root(path.parent)
        root = upwards if upwards is not None else project_root(None)
    else:
        root = project_root(project_dir)
    if not as_file:  # another pipeline's problems do not stop this one
        return load_project(root, pipeline=pipeline), pipeline
    project, problems = read_project(root)
    resolved = path.resolve()
    found = [
        identifier
        for identifier, entity in project.pipelines.items()
        if (root / entity.file).resolve() == resolved
    ]
    if len(found) == 1:
        mine = blocking_problems(project, problems, pipeline=found[0])
        if mine:
            raise ConfigError(mine)
        return project, found[0]
    if found:
        message = f"the file holds several pipelines ({', '.join(sorted(found))}); name one by its identifier"
    else:
        message = f"no pipeline of the project at {root} is in this file"
        rel = resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else None
        in_file = [p for p in problems if p.file.split(":", 1)[0] == rel]
        if in_file:  # it holds a pipeline that did not load: say why
            raise ConfigError(in_file)
    raise ConfigError([Problem(pipeline, "pipeline", message)])


def json_default(value: Any) -> Any:
    return str(value)


def echo_json(value: Any) -> None:
    import json

    click.echo(json.dumps(value, default=json_default, sort_keys=False))


def execution_dict(execution: Any) -> dict[str, Any]:
    """An execution (corral.engine.Execution) as the JSON the commands print."""
    return {
        "id": execution.id,
        "pipeline": execution.pipeline_id,
        "name": execution.pipeline_name,
        "sequenceId": execution.sequence_id,
        "status": execution.status,
        "error": execution.error,
        "createdAt": execution.created_at,
        "startedAt": execution.started_at,
        "endedAt": execution.ended_at,
        "stages": [
            {
                "key": s.key,
                "identifier": s.identifier,
                "status": s.status,
                "error": s.error,
                "rolledBack": s.rolled_back,
            }
            for s in execution.stages
        ],
        "steps": [
            {
                "key": s.key,
                "identifier": s.identifier,
                "type": s.type,
                "phase": s.phase,
                "status": s.status,
                "attempt": s.attempt,
                "outputs": s.outputs,
                "error": s.error,
            }
            for s in execution.steps
        ],
    }
