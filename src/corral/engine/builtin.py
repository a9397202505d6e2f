"""The generic step types every Corral runs; ECS step types are registered by their adapter."""

from __future__ import annotations

from .http_step import run_http
from .shell_script import run_shell_script
from .shell_script_provision import run_shell_script_provision
from .steps import register
from .verify import run_verify
from .wait_step import run_wait


def register_generic_steps() -> None:
    register("ShellScript", run_shell_script)
    register("ShellScriptProvision", run_shell_script_provision)
    register("Http", run_http)
    register("Wait", run_wait)
    register("Verify", run_verify)
