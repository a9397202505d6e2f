"""The generic step types every Corral runs; ECS step types are registered by their adapter."""

from __future__ import annotations

from .generic_step_specs import HttpSpec, ShellScriptSpec, VerifySpec, WaitSpec
from .http_step import run_http
from .shell_script import run_shell_script
from .shell_script_provision import run_shell_script_provision
from .steps import register
from .verify import run_verify
from .wait_step import run_wait


def register_generic_steps() -> None:
    register("ShellScript", run_shell_script, spec=ShellScriptSpec)
    # checked field by field when the pipeline loads (config/provisioner_specs.py)
    register("ShellScriptProvision", run_shell_script_provision)
    register("Http", run_http, spec=HttpSpec)
    register("Wait", run_wait, spec=WaitSpec)
    register("Verify", run_verify, spec=VerifySpec)
