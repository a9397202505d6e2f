"""Runs one invocation of a Python Lambda function, in a child process of the sandbox.

    python -I _bootstrap.py TASK_ROOT HANDLER REQUEST_ID DEADLINE_EPOCH_MS FUNCTION_ARN < event.json

Standalone on purpose (standard library only, nothing from Corral): it runs the user's code with
`-I` and an environment made only of the function's variables and Lambda's defined ones. The
event arrives on stdin; the handler's output and `print`s go to stderr (the function's log); one
JSON line on the original stdout says how it ended: `{"ok": true, "payload": "..."}` or
`{"ok": false, "error": {...}}` with the error object as Lambda's Python runtime reports it
(errorMessage, errorType, requestId, stackTrace;
https://docs.aws.amazon.com/lambda/latest/dg/python-exceptions.html).
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from types import TracebackType
from typing import Any

Error = dict[str, Any]


class Context:
    """The context object a Python handler receives (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html)."""

    def __init__(self, request_id: str, deadline_ms: float, function_arn: str) -> None:
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = function_arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME", "")
        self.identity: Any = None
        self.client_context: Any = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int(self._deadline_ms - time.time() * 1000))


def _error(message: str, kind: str, request_id: str, trace: list[str] | None = None) -> Error:
    return {"errorMessage": message, "errorType": kind, "requestId": request_id, "stackTrace": trace or []}


TASK_ROOT = "/var/task"  # where Lambda puts a function's code: stack traces name it so


def _user_frames(tb: TracebackType | None) -> list[str]:
    task_root = os.environ.get("LAMBDA_TASK_ROOT", "")
    frames = [frame for frame in traceback.extract_tb(tb) if frame.filename != __file__]
    for frame in frames:
        if task_root and frame.filename.startswith(task_root + os.sep):
            frame.filename = TASK_ROOT + frame.filename[len(task_root) :]
    return traceback.format_list(frames)


def _handler(spec: str, request_id: str) -> tuple[Callable[..., Any] | None, Error | None]:
    try:
        module_name, function_name = spec.rsplit(".", 1)
    except ValueError as exc:
        return None, _error(f"Bad handler '{spec}': {exc}", "Runtime.MalformedHandlerName", request_id)
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except SyntaxError as exc:
        message = f"Syntax error in module '{module_name}': {exc}"
        return None, _error(message, "Runtime.UserCodeSyntaxError", request_id)
    except ImportError as exc:
        message = f"Unable to import module '{module_name}': {exc}"
        return None, _error(message, "Runtime.ImportModuleError", request_id)
    except Exception as exc:  # the module raised while it was imported (init error)
        trace = _user_frames(exc.__traceback__)
        return None, _error(str(exc), type(exc).__name__, request_id, trace)
    handler = getattr(module, function_name, None)
    if handler is None:
        message = f"Handler '{function_name}' missing on module '{module_name}'"
        return None, _error(message, "Runtime.HandlerNotFound", request_id)
    return handler, None


def main() -> None:
    task_root, spec, request_id, deadline_ms, function_arn = sys.argv[1:6]
    result = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # the function's prints are its log, not its answer
    sys.stdout = sys.stderr
    sys.path.insert(0, task_root)
    os.chdir(task_root)
    raw = sys.stdin.buffer.read()
    event = json.loads(raw) if raw.strip() else {}
    handler, error = _handler(spec, request_id)
    payload = "null"
    if handler is not None:
        try:
            answer = handler(event, Context(request_id, float(deadline_ms), function_arn))
        except Exception as exc:
            error = _error(str(exc), type(exc).__name__, request_id, _user_frames(exc.__traceback__))
        else:
            try:
                payload = json.dumps(answer)
            except (TypeError, ValueError) as exc:
                error = _error(f"Unable to marshal response: {exc}", "Runtime.MarshalError", request_id)
    if error is not None:
        print(f"[ERROR] {error['errorType']}: {error['errorMessage']}", file=sys.stderr)
        result.write(json.dumps({"ok": False, "error": error}))
    else:
        result.write(json.dumps({"ok": True, "payload": payload}))
    result.flush()


if __name__ == "__main__":
    main()
