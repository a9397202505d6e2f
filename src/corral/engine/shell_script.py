"""ShellScript: run a bash script; its declared output variables are read back at exit.

    spec:
      shell: Bash
      source: {type: Inline, spec: {script: "VERSION=$(cat VERSION)"}}
      environmentVariables: [{name: REGION, type: String, value: <+infra.region>}]
      outputVariables: [{name: version, type: String, value: VERSION}]   # value: the shell variable

The script runs in its own process group (killed on abort or timeout) from the project's
folder, or, on a server, from a private copy of it as an unprivileged OS user (step_process.py).
A non-zero exit fails the step with the last lines of its output.
"""

from __future__ import annotations

from typing import Any

from corral.expressions.context import MASK
from corral.expressions.shell_quoting import runtime_environment
from corral.expressions.values import to_text

from .step_process import run_step_process
from .steps import StepOutcome, StepRun


def run_shell_script(run: StepRun) -> StepOutcome:
    spec = run.spec
    shell = str(spec.get("shell", "Bash"))
    if shell.lower() not in ("bash", "sh"):
        return StepOutcome.failed(f"spec.shell: only Bash scripts run here, not {shell}")
    source = spec.get("source") or {}
    script = (source.get("spec") or {}).get("script") if isinstance(source, dict) else None
    if not isinstance(script, str):
        return StepOutcome.failed("spec.source.spec.script: expected the script's text")
    env = script_variables(spec)
    if isinstance(env, StepOutcome):
        return env
    outputs = _declared_outputs(spec.get("outputVariables") or [])
    run.log.section("Execute")
    # where and as whom the script runs (this process's user, or an isolated one): step_process.py
    finished = run_step_process(run, script=_wrapper(script, [var for _, var, _ in outputs]), variables=env)
    if run.stopped():
        return run.stopped_outcome()
    code, last, values = finished.code, finished.last_lines, _read_outputs(finished.outputs)
    if code != 0:
        tail = "\n".join(last)
        return StepOutcome.failed(f"Shell script exited with code {code}. Last lines of output:\n{tail}")
    result: dict[str, Any] = {}
    for name, variable, kind in outputs:
        value = values.get(variable, "")
        result[name] = MASK if kind == "Secret" else value
    return StepOutcome(outputs=result)


def script_variables(spec: dict[str, Any]) -> dict[str, str] | StepOutcome:
    """The script's environment: its `environmentVariables` and the run-time values it refers to."""
    env: dict[str, str] = {}
    for index, variable in enumerate(spec.get("environmentVariables") or []):
        if not isinstance(variable, dict) or "name" not in variable:
            return StepOutcome.failed(f"spec.environmentVariables[{index}]: expected {{name, type, value}}")
        value = variable.get("value")
        env[str(variable["name"])] = "" if value is None else to_text(value)
    env.update(runtime_environment(spec))  # the run-time values the script refers to
    return env


def _declared_outputs(items: list[Any]) -> list[tuple[str, str, str]]:
    """(output name, shell variable, type) of each declared output variable."""
    out = []
    for item in items:
        if isinstance(item, dict) and item.get("name"):
            name = str(item["name"])
            variable = str(item.get("value") or name)
            out.append((name, variable, str(item.get("type", "String"))))
    return out


def _wrapper(script: str, variables: list[str]) -> str:
    names = " ".join(v for v in variables if v.replace("_", "a").isalnum())
    # the EXIT trap runs however the script ends (exit N, last command, set -e) and writes the
    # declared variables NUL-separated, so values may hold newlines
    trap = (
        "__corral_outputs() { __corral_rc=$?; "
        f'for __corral_v in {names}; do printf "%s\\0%s\\0" "$__corral_v" "${{!__corral_v-}}"; done '
        '> "$CORRAL_OUTPUT_FILE"; exit $__corral_rc; }\n'
        "trap __corral_outputs EXIT\n"
    )
    return trap + script + "\n"


def _read_outputs(data: bytes) -> dict[str, str]:
    parts = data.decode("utf-8", "replace").split("\0")
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}
