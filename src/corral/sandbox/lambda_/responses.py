"""Lambda API handlers: read the parameters, call the backend, shape the answer.

Invoke is in OUTSIDE_LOCK: the gateway calls it without the world lock, so a function that runs
for seconds holds up no other request; it takes the lock only to read and record state.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .backend import Backend
from .exceptions import (
    InvalidParameterValueException,
    InvalidRequestContentException,
    RequestTooLargeException,
)
from .invoke import execute, prepare, record
from .runner import PAYLOAD_LIMIT, log_tail

Params = dict[str, Any]
Result = dict[str, Any]

INVOCATION_TYPES = ("RequestResponse", "Event", "DryRun")


def create_function(backend: Backend, params: Params) -> Result:
    return backend.create_function(params).configuration()


def get_function(backend: Backend, params: Params) -> Result:
    function = backend.find(params["FunctionName"], params.get("Qualifier"))
    result: Result = {
        "Configuration": function.configuration(),
        # Lambda answers a presigned S3 URL here; the sandbox keeps code in memory and has none
        "Code": {
            "RepositoryType": "S3",
            "Location": f"{backend.world.endpoint_url or ''}/_sandbox/lambda/code",
        },
    }
    if function.tags:
        result["Tags"] = dict(function.tags)
    return result


def get_function_configuration(backend: Backend, params: Params) -> Result:
    return backend.find(params["FunctionName"], params.get("Qualifier")).configuration()


def list_functions(backend: Backend, params: Params) -> Result:
    found = backend.list_functions()
    start = int(params["Marker"]) if str(params.get("Marker") or "").isdigit() else 0
    size = int(params.get("MaxItems") or 50)
    if not 1 <= size <= 10000:
        raise InvalidParameterValueException("MaxItems must be between 1 and 10000")
    page = found[start : start + size]
    result: Result = {"Functions": [function.configuration() for function in page]}
    if start + size < len(found):
        result["NextMarker"] = str(start + size)
    return result


def delete_function(backend: Backend, params: Params) -> Result:
    backend.delete_function(params["FunctionName"], params.get("Qualifier"))
    return {"StatusCode": 204}


def update_function_code(backend: Backend, params: Params) -> Result:
    return backend.update_code(params["FunctionName"], params).configuration()


def update_function_configuration(backend: Backend, params: Params) -> Result:
    return backend.update_configuration(params["FunctionName"], params).configuration()


def invoke(backend: Backend, params: Params) -> Result:
    """Called without the world lock (OUTSIDE_LOCK)."""
    kind = params.get("InvocationType") or "RequestResponse"
    if kind not in INVOCATION_TYPES:
        raise InvalidParameterValueException(f"Unsupported invocation type: {kind}")
    event = bytes(params.get("Payload") or b"")
    if len(event) > PAYLOAD_LIMIT:
        raise RequestTooLargeException(
            f"Request must be smaller than {PAYLOAD_LIMIT} bytes for the InvokeFunction operation"
        )
    if event.strip():
        try:
            json.loads(event)
        except ValueError as exc:
            raise InvalidRequestContentException(f"Could not parse request body into json: {exc}") from None
    with backend.world.lock:
        prepared = prepare(backend, params["FunctionName"], params.get("Qualifier"))
    if kind == "DryRun":
        return {"StatusCode": 204}
    outcome = execute(prepared, event)
    with backend.world.lock:
        record(backend, prepared, event, outcome, "api")
    if kind == "Event":
        # the sandbox has run it already; an asynchronous invocation answers nothing more
        return {"StatusCode": 202}
    result: Result = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": outcome.payload}
    if outcome.function_error is not None:
        result["FunctionError"] = outcome.function_error
    if params.get("LogType") == "Tail":
        result["LogResult"] = log_tail(outcome.log)
    return result


OPERATIONS: dict[str, Callable[[Backend, Params], Result]] = {
    "CreateFunction": create_function,
    "GetFunction": get_function,
    "GetFunctionConfiguration": get_function_configuration,
    "ListFunctions": list_functions,
    "DeleteFunction": delete_function,
    "UpdateFunctionCode": update_function_code,
    "UpdateFunctionConfiguration": update_function_configuration,
    "Invoke": invoke,
}
OUTSIDE_LOCK = frozenset({"Invoke"})
