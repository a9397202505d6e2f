"""ShellScript: run a bash script; its declared output variables are read back at exit.

    spec:
      shell: Bash
      source: {type: Inline, spec: {script: "VERSION=$(cat VERSION)"}}
      environmentVariables: [{name: REGION, type: String, value: <+infra.region>}]
      outputVariables: [{name: version, type: String, value: VERSION}]   # value: the shell variable

The script runs in its own process group (killed on abort or timeout) from the project's
folder. A non-zero exit fails the step with the last lines of its output.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from corral.expressions.context import MASK
from corral.expressions.shell_quoting import runtime_environment
from corral.expressions.values import to_text

from .steps import StepOutcome, StepRun

LAST_LINES = 10
KILL_GRACE = 2.0


def run_shell_script(run: StepRun) -> StepOutcome:
    spec = run.spec
    shell = str(spec.get("shell", "Bash"))
    if shell.lower() not in ("bash", "sh"):
        return StepOutcome.failed(f"spec.shell: only Bash scripts run here, not {shell}")
    source = spec.get("source") or {}
    script = (source.get("spec") or {}).get("script") if isinstance(source, dict) else None
    if not isinstance(script, str):
        return StepOutcome.failed("spec.source.spec.script: expected the script's text")
    env = script_environment(os.environ)
    for index, variable in enumerate(spec.get("environmentVariables") or []):
        if not isinstance(variable, dict) or "name" not in variable:
            return StepOutcome.failed(f"spec.environmentVariables[{index}]: expected {{name, type, value}}")
        value = variable.get("value")
        env[str(variable["name"])] = "" if value is None else to_text(value)
    env.update(runtime_environment(spec))  # the run-time values the script refers to
    outputs = _declared_outputs(spec.get("outputVariables") or [])
    run.log.section("Execute")
    with tempfile.TemporaryDirectory(prefix="corral-shell-") as folder:
        out_file = Path(folder) / "outputs"
        wrapper = Path(folder) / "script.sh"
        wrapper.write_text(_wrapper(script, [var for _, var, _ in outputs]), encoding="utf-8")
        env["CORRAL_OUTPUT_FILE"] = str(out_file)
        cwd = str(run.project.root) if run.project is not None else folder
        code, last = _run(run, ["bash", str(wrapper)], env, cwd)
        if run.stopped():
            return run.stopped_outcome()
        values = _read_outputs(out_file)
    if code != 0:
        tail = "\n".join(last)
        return StepOutcome.failed(f"Shell script exited with code {code}. Last lines of output:\n{tail}")
    result: dict[str, Any] = {}
    for name, variable, kind in outputs:
        value = values.get(variable, "")
        result[name] = MASK if kind == "Secret" else value
    return StepOutcome(outputs=result)


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


def _run(run: StepRun, argv: list[str], env: dict[str, str], cwd: str) -> tuple[int, list[str]]:
    process = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        cwd=cwd,
        start_new_session=True,
    )
    done = threading.Event()
    watcher = threading.Thread(target=_watch, args=(run, process, done), daemon=True)
    watcher.start()
    last: deque[str] = deque(maxlen=LAST_LINES)
    assert process.stdout is not None
    for raw in process.stdout:
        line = run.mask(raw.decode("utf-8", "replace").rstrip("\n"))
        last.append(line)
        run.log.info(line)
    code = process.wait()
    done.set()
    watcher.join()
    return code, list(last)


def _watch(run: StepRun, process: subprocess.Popen[bytes], done: threading.Event) -> None:
    while not done.wait(0.05):
        if run.stopped():
            _kill(process)
            return


def _kill(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(KILL_GRACE)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read_outputs(path: Path) -> dict[str, str]:
    if not path.is_file():
        return {}
    parts = path.read_bytes().decode("utf-8", "replace").split("\0")
    return {parts[i]: parts[i + 1] for i in range(0, len(parts) - 1, 2)}


# Variables of Corral's own that hold keys or tokens: a script never sees them.
PRIVATE_VARIABLES = ("CORRAL_SECRETS_KEY", "CORRAL_ADMIN_TOKEN", "CORRAL_TOKEN")


def script_environment(environ: Mapping[str, str]) -> dict[str, str]:
    """The process environment a script starts from, less Corral's own keys and tokens."""
    return {
        k: v for k, v in environ.items() if k not in PRIVATE_VARIABLES and not k.startswith("CORRAL_SECRET")
    }
