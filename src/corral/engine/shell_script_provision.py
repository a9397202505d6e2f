"""ShellScriptProvision: a bash script that provisions, and says what it made as JSON.

    spec:
      source: {type: Inline, spec: {script: 'echo "{\"cluster\": \"c1\"}" > "$PROVISIONER_OUTPUT_PATH"'}}
      environmentVariables: [{name: REGION, type: String, value: us-east-1}]

The script runs as a ShellScript does (step_process.py: this process's user, an isolated one, or
refused; the same run-time value rules). Harness gives it `$PROVISIONER_OUTPUT_PATH`, a file to
write a JSON object to; that object's keys are the step's outputs
(`<+stage.spec.provisioner.steps.ID.output.KEY>`) and, when the stage's infrastructure definition
names this step as its `provisioner`, what `<+provisioner.KEY>` reads there. No file, or an empty
one, gives no outputs; anything but a JSON object fails the step.
"""

from __future__ import annotations

import json
from typing import Any

from .shell_script import script_variables
from .step_process import run_step_process
from .steps import StepOutcome, StepRun

OUTPUT_PATH_VARIABLE = "PROVISIONER_OUTPUT_PATH"


def run_shell_script_provision(run: StepRun) -> StepOutcome:
    spec = run.spec
    source = spec.get("source") or {}
    script = (source.get("spec") or {}).get("script") if isinstance(source, dict) else None
    if not isinstance(script, str):
        return StepOutcome.failed("spec.source.spec.script: expected the script's text")
    env = script_variables(spec)
    if isinstance(env, StepOutcome):
        return env
    run.log.section("Execute")
    # the JSON goes to the file step_process.py reads back (where the script may write)
    wrapper = f'export {OUTPUT_PATH_VARIABLE}="$CORRAL_OUTPUT_FILE"\n{script}\n'
    finished = run_step_process(run, script=wrapper, variables=env)
    if run.stopped():
        return run.stopped_outcome()
    if finished.code != 0:
        tail = "\n".join(finished.last_lines)
        return StepOutcome.failed(
            f"Shell script exited with code {finished.code}. Last lines of output:\n{tail}"
        )
    outputs = _provisioner_outputs(finished.outputs)
    if isinstance(outputs, str):
        return StepOutcome.failed(outputs)
    if outputs:
        run.log.info(f"Provisioner outputs: {', '.join(sorted(outputs))}")
    return StepOutcome(outputs=outputs)


def _provisioner_outputs(data: bytes) -> dict[str, Any] | str:
    """The JSON object the script wrote, or why it is not one."""
    text = data.decode("utf-8", "replace").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        return (
            f"${OUTPUT_PATH_VARIABLE} does not hold JSON ({error.msg} at line {error.lineno} "
            f'column {error.colno}); write one object, e.g. echo \'{{"cluster": "c1"}}\' > "${OUTPUT_PATH_VARIABLE}"'
        )
    if not isinstance(value, dict):
        return f"${OUTPUT_PATH_VARIABLE} holds a JSON {type(value).__name__}; expected an object of outputs"
    return value
