"""How the server's own runner runs steps that execute code a project supplies (ShellScript),
and the data folder those steps must not reach.

    options = with_step_processes(settings)       # ExecutorOptions for the embedded runner
    protect_data(settings)                         # data folder 0700: no other OS user gets in
    refuse_script_steps(server, raw, file)         # before an execution starts: 409 if refused

As root the server runs them as unprivileged OS users of their own (corral.engine.step_process);
otherwise it refuses them unless the operator allowed local steps (--allow-local-steps), since a
script running as the server's user could read its database, keys and environment.
"""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any

from corral.errors import CorralError

from .projects import SERVER_SECRETS_DIR
from .settings import ServerSettings

if TYPE_CHECKING:
    from corral.engine.step_process import StepProcesses

REFUSAL = (
    "This server refuses steps that run a script: it does not run as root, so it cannot run them "
    "as a separate unprivileged OS user, away from its data folder, database, keys and environment. "
    "Run the server as root, run steps on delegates (corral server --temporal), or, on a server "
    "that only trusted people use, start it with --allow-local-steps to run scripts as the server's "
    "own user (unsafe for shared servers)."
)


def step_processes(settings: ServerSettings) -> StepProcesses:
    from corral.engine.step_process import StepProcesses

    if os.geteuid() == 0:
        # the project's encrypted secrets stay out of the step's copy of the project
        return StepProcesses.isolated(skip=(SERVER_SECRETS_DIR,))
    if settings.allow_local_steps:
        return StepProcesses()
    return StepProcesses.refused(REFUSAL)


def with_step_processes(settings: ServerSettings) -> Any:
    """settings.executor_options (or the defaults) with the server's way of running steps."""
    from corral.engine import ExecutorOptions

    options = settings.executor_options or ExecutorOptions()
    return dataclasses.replace(options, step_processes=step_processes(settings))


def protect_data(settings: ServerSettings) -> None:
    """Only the server's OS user may enter the data folder (and a projects folder kept elsewhere)."""
    for folder in {settings.data_dir, settings.projects}:
        try:
            if folder.is_dir() and folder.stat().st_mode & 0o077:
                os.chmod(folder, 0o700)
        except PermissionError:  # not the folder's owner: the operator set it up
            continue


class ScriptStepsRefused(CorralError):
    """The pipeline has steps this server will not run (409, before anything starts)."""


def refuse_script_steps(server: Any, raw: dict[str, Any], file: str) -> None:
    """Refuse, before it starts, a pipeline whose scripts the server's runner would refuse (the
    step itself refuses too: this only keeps a run from deploying half way first)."""
    from corral.engine.plan import build_plan
    from corral.engine.step_process import REFUSED, script_steps

    processes = getattr(getattr(server.runner, "options", None), "step_processes", None)
    if processes is None or processes.mode != REFUSED:
        return
    found = script_steps(build_plan(raw, file=file))
    if found:
        raise ScriptStepsRefused(f"{file}: {found[0]}: {processes.refusal}")
