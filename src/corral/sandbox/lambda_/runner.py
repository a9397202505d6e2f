"""Runs a function's code in a separate Python process, never in the sandbox's own.

Each invocation extracts the package to a fresh directory (the function's LAMBDA_TASK_ROOT) and
runs `_bootstrap.py` there with `python -I`: no PYTHON* variables, no user site-packages, and an
environment made of the function's Environment.Variables plus the variables Lambda defines for
every function ("Defined runtime environment variables",
https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime).
Nothing of the sandbox's own environment reaches the code. The function's Timeout is applied on
wall-clock time, as Lambda applies it; the process group is killed when it runs out.
"""

from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

BOOTSTRAP = Path(__file__).with_name("_bootstrap.py")
PAYLOAD_LIMIT = 6 * 1024 * 1024  # synchronous invocation payload, request and response ("Lambda quotas")
RESPONSE_LIMIT = 6291556  # the figure Lambda's Function.ResponseSizeTooLarge message names
LOG_TAIL = 4096  # LogType=Tail returns the last 4 KB of the log (Invoke, Lambda API Reference)


@dataclass(frozen=True)
class Code:
    """What one invocation needs, copied out of the function under the world lock."""

    name: str
    arn: str
    region: str
    handler: str
    zip: bytes
    timeout: int
    memory_size: int
    variables: dict[str, str] = field(default_factory=dict)
    endpoint_url: str | None = None


@dataclass(frozen=True)
class Outcome:
    payload: bytes  # the answer, or the error object when function_error is set
    function_error: str | None  # "Unhandled" when the code raised, timed out or exited
    log: str
    duration_ms: float


def environment(code: Code) -> dict[str, str]:
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "LANG": "en_US.UTF-8",
        "TZ": ":UTC",
        "AWS_REGION": code.region,
        "AWS_DEFAULT_REGION": code.region,
        "AWS_EXECUTION_ENV": "AWS_Lambda_corral_sandbox",
        "AWS_LAMBDA_FUNCTION_NAME": code.name,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(code.memory_size),
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{code.name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "sandbox",
        "_HANDLER": code.handler,
        # the SDK in the function must never look for credentials on a network address
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    if code.endpoint_url:
        # AWS calls from the code go to this sandbox, signed with the role's stand-in credentials
        env.update(
            AWS_ENDPOINT_URL=code.endpoint_url,
            AWS_ACCESS_KEY_ID="sandbox",
            AWS_SECRET_ACCESS_KEY="sandbox",
        )
    env.update(code.variables)
    return env


def run(code: Code, event: bytes, request_id: str) -> Outcome:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="corral-lambda-") as root:
        task_root = Path(root) / "task"
        with zipfile.ZipFile(io.BytesIO(code.zip)) as archive:
            archive.extractall(task_root)  # extractall drops `..` and absolute parts of names
        env = environment(code) | {"LAMBDA_TASK_ROOT": str(task_root)}
        deadline_ms = (time.time() + code.timeout) * 1000
        command = [sys.executable, "-I", str(BOOTSTRAP), str(task_root), code.handler, request_id]
        command += [f"{deadline_ms:.0f}", code.arn]
        process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=task_root,
            env=env,
            start_new_session=True,  # its own process group: a time-out kills what it started too
        )
        try:
            out, err = process.communicate(event, timeout=code.timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            out, err = process.communicate()
            elapsed = time.monotonic() - started
            error = {
                "errorType": "Sandbox.Timedout",
                "errorMessage": f"RequestId: {request_id} Error: Task timed out after {code.timeout:.2f} seconds",
            }
            log = err.decode(errors="replace") + f"{error['errorMessage']}\n"
            return _outcome(json.dumps(error).encode(), "Unhandled", log, elapsed, request_id, code)
        finally:
            if process.poll() is None:
                _kill(process)
    elapsed = time.monotonic() - started
    log = err.decode(errors="replace")
    try:
        ended = json.loads(out.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        error = {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {process.returncode}",
        }
        return _outcome(json.dumps(error).encode(), "Unhandled", log, elapsed, request_id, code)
    if not ended.get("ok"):
        return _outcome(json.dumps(ended["error"]).encode(), "Unhandled", log, elapsed, request_id, code)
    payload = str(ended["payload"]).encode()
    if len(payload) > RESPONSE_LIMIT:
        error = {
            "errorType": "Function.ResponseSizeTooLarge",
            "errorMessage": f"Response payload size exceeded maximum allowed payload size ({RESPONSE_LIMIT} bytes).",
        }
        return _outcome(json.dumps(error).encode(), "Unhandled", log, elapsed, request_id, code)
    return _outcome(payload, None, log, elapsed, request_id, code)


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _outcome(
    payload: bytes, function_error: str | None, output: str, elapsed: float, request_id: str, code: Code
) -> Outcome:
    duration_ms = round(elapsed * 1000, 2)
    log = (
        f"START RequestId: {request_id} Version: $LATEST\n{output}"
        f"END RequestId: {request_id}\n"
        f"REPORT RequestId: {request_id}\tDuration: {duration_ms} ms\t"
        f"Billed Duration: {max(1, int(duration_ms + 0.999))} ms\tMemory Size: {code.memory_size} MB\t\n"
    )
    return Outcome(payload, function_error, log, duration_ms)


def log_tail(log: str) -> str:
    """X-Amz-Log-Result: the base64 of the log's last 4 KB."""
    return base64.b64encode(log.encode()[-LOG_TAIL:]).decode()
