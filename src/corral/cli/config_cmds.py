"""Shared by the project commands (validate, render, ls, connector, secret): the --project
option, `PATH=VALUE` arguments, and error handling that never shows a Python traceback for
bad input.

Exit codes: 0 ok, 1 the project (or the thing tested) has problems, 2 usage error.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Iterable
from typing import Any, ParamSpec, TypeVar

import click

from corral.cli.pipes import quiet_broken_pipe

_P = ParamSpec("_P")
_R = TypeVar("_R")

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
MASK = "**************"

project_option = click.option(
    "--project",
    "project_dir",
    metavar="DIR",
    default=None,
    help="Project folder (default: the nearest folder at or above the working directory with corral.yaml).",
)


def print_problems(problems: Iterable[Any]) -> None:
    for problem in dict.fromkeys(problems):  # the same problem found twice is said once
        click.echo(str(problem), err=False)


def friendly_errors(func: Callable[_P, _R]) -> Callable[_P, _R]:
    """Turn Corral's errors into messages and exit codes; never a traceback for bad input."""

    @functools.wraps(func)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        from corral.config.settings import ProjectNotFound
        from corral.errors import ConfigError, CorralError

        try:
            return func(*args, **kwargs)
        except ProjectNotFound as error:
            click.echo(f"corral: {error}", err=True)
            sys.exit(EXIT_USAGE)
        except ConfigError as error:
            print_problems(error.problems)
            click.echo(f"{len(error.problems)} problem(s) found", err=True)
            sys.exit(EXIT_PROBLEMS)
        except CorralError as error:
            click.echo(f"corral: {error}", err=True)
            sys.exit(EXIT_PROBLEMS)
        except BrokenPipeError:
            quiet_broken_pipe()
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as error:  # a bug, still no traceback unless asked for
            if os.environ.get("CORRAL_DEBUG"):
                raise
            click.echo(
                f"corral: internal error: {type(error).__name__}: {error} (set CORRAL_DEBUG=1 for details)",
                err=True,
            )
            sys.exit(EXIT_PROBLEMS)

    return wrapper


def _shown(value: int | float | bool) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def parse_assignments(values: Iterable[str], option: str) -> dict[str, Any]:
    """`path=value` pairs; a value that reads back the same as a number or boolean is one
    (2, true), anything else is text (`1.10` stays "1.10", not 1.1)."""
    import yaml

    from corral.config.yaml_source import load_text

    out: dict[str, Any] = {}
    for item in values:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise click.UsageError(f"{option} {item!r}: expected PATH=VALUE")
        try:
            value = load_text(text) if text.strip() else ""
        except yaml.YAMLError:
            value = text
        if not isinstance(value, int | float | bool) or _shown(value) != text.strip():
            value = text
        out[key.strip()] = value
    return out
