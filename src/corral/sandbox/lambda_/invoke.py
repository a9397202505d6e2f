"""Invoking a function: from the Invoke API, and in-process for ECS's AWS_LAMBDA lifecycle hooks.

    invoke_function(world, account_id, region, function_arn, payload) -> dict

runs the function as Invoke with RequestResponse would and returns its JSON answer, or raises
FunctionError when the function does not exist, raised, timed out, exited, or answered anything
but a JSON object. A behaviour (core/function_behaviours.py) answers at once without running code.

ECS calls it from a timer, holding the world lock. While the code runs (up to its Timeout, in real
seconds) the lock is released, so the sandbox keeps answering requests, including the function's
own AWS calls back to the sandbox (which would otherwise wait for the lock until the time-out);
it is taken back, as deep as the caller held it, before this returns. So, as on AWS, other
changes may have happened while the hook ran: the caller re-reads what it depends on.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..core.function_behaviours import FunctionBehaviour
from ..core.world import World
from .backend import Backend, Invocation
from .exceptions import ResourceNotFoundException
from .runner import Code, Outcome, run


class FunctionError(Exception):
    """The function could not give an answer: missing, raised, timed out, or not a JSON object."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Prepared:
    """An invocation decided under the world lock: code to run, or a behaviour's answer."""

    function_name: str
    code: Code | None
    answer: Outcome | None


def prepare(backend: Backend, reference: str, qualifier: str | None = None) -> Prepared:
    """Call with the world lock held."""
    function = backend.find(reference, qualifier)
    rule = backend.world.functions.for_function(function.name)
    if rule is None:
        return Prepared(function.name, backend.code_of(function), None)
    before = backend.world.functions.count_answer(rule, function.arn)
    return Prepared(function.name, None, behaviour_outcome(rule, before))


def behaviour_outcome(rule: FunctionBehaviour, answered_before: int) -> Outcome:
    request_id = str(uuid.uuid4())
    log = f"START RequestId: {request_id} Version: $LATEST\nEND RequestId: {request_id}\n"
    if rule.timeout:
        error: dict[str, Any] = {
            "errorType": "Sandbox.Timedout",
            "errorMessage": f"RequestId: {request_id} Error: Task timed out",
        }
        return Outcome(json.dumps(error).encode(), "Unhandled", log, 0.0)
    if rule.error is not None:
        error = {
            "errorMessage": rule.error,
            "errorType": rule.error_type,
            "requestId": request_id,
            "stackTrace": [],
        }
        return Outcome(json.dumps(error).encode(), "Unhandled", log, 0.0)
    if rule.answer is not None:
        return Outcome(json.dumps(rule.answer).encode(), None, log, 0.0)
    if answered_before < rule.in_progress_times:
        answer: dict[str, Any] = {"hookStatus": "IN_PROGRESS"}
        if rule.call_back_delay is not None:
            answer["callBackDelay"] = rule.call_back_delay
    else:
        answer = {"hookStatus": rule.hook_status}
    return Outcome(json.dumps(answer).encode(), None, log, 0.0)


def execute(prepared: Prepared, event: bytes) -> Outcome:
    """Run it (or take the behaviour's answer). Needs no lock: it touches no sandbox state."""
    if prepared.answer is not None:
        return prepared.answer
    assert prepared.code is not None
    return run(prepared.code, event, str(uuid.uuid4()))


def record(backend: Backend, prepared: Prepared, event: bytes, outcome: Outcome, via: str) -> None:
    """Call with the world lock held."""
    backend.record(
        Invocation(
            function_name=prepared.function_name,
            sandbox_time=backend.now(),
            event=_json_or_text(event),
            function_error=outcome.function_error,
            answer=_json_or_text(outcome.payload),
            via=via,
        )
    )


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data) if data.strip() else None
    except ValueError:
        return data.decode(errors="replace")


@contextmanager
def _released(world: World) -> Iterator[None]:
    """The world lock released for the block, if this thread holds it (RLock's own save/restore,
    which threading.Condition uses: the hold count is restored exactly)."""
    lock: Any = world.lock
    if not lock._is_owned():
        yield
        return
    saved = lock._release_save()
    try:
        yield
    finally:
        lock._acquire_restore(saved)


def invoke_function(
    world: World, account_id: str, region: str, function_arn: str, payload: dict[str, Any]
) -> dict[str, Any]:
    """Invoke synchronously and return the function's JSON object answer (see module docstring)."""
    backend: Backend = world.region(account_id, region).backend("lambda")
    with world.lock:
        try:
            prepared = prepare(backend, function_arn)
        except ResourceNotFoundException as missing:
            raise FunctionError(missing.message) from None
    event = json.dumps(payload).encode()
    with _released(world):
        outcome = execute(prepared, event)
    with world.lock:
        record(backend, prepared, event, outcome, "ecs")
    if outcome.function_error is not None:
        error = _json_or_text(outcome.payload)
        if isinstance(error, dict):
            detail = f"{error.get('errorType', 'Error')}: {error.get('errorMessage', '')}"
        else:
            detail = str(error)
        raise FunctionError(f"Lambda function {function_arn} failed ({outcome.function_error}): {detail}")
    answer = _json_or_text(outcome.payload)
    if not isinstance(answer, dict):
        raise FunctionError(
            f"Lambda function {function_arn} answered {outcome.payload[:200]!r}, not a JSON object"
        )
    return answer
