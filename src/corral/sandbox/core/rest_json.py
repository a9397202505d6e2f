"""Server side of AWS's REST-JSON protocol (Lambda), driven by botocore's service model.

A request is routed by HTTP method and path to the operation whose `requestUri` matches, as
botocore builds them; its parameters come from the path labels, the query string, headers
(`location` in the model), and the body: a blob `payload` member is the raw body (Invoke's
Payload), otherwise the body is a JSON object of the other members. A response gets its status
from a `statusCode` member or the operation's `responseCode`, headers from `header` members, and
a raw or JSON body the same way. Errors carry `x-amzn-ErrorType`, which botocore reads the code from.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any
from urllib.parse import parse_qsl

from botocore.model import Shape, StructureShape

from .errors import AwsError, UnknownOperation, ValidationError
from .protocol import _from_json, _scalar_from_text, _to_json, operation_model, service_model


@dataclass(frozen=True)
class Route:
    method: str
    pattern: re.Pattern[str]
    query_keys: frozenset[str]
    literal: int
    operation: str


@cache
def _routes(model_name: str) -> list[Route]:
    model = service_model(model_name)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\+\\\}", r"(?P<\1>.+)", re.escape(path))
        pattern = re.sub(r"\\\{([A-Za-z0-9_]+)\\\}", r"(?P<\1>[^/]+)", pattern)
        keys = frozenset(part.split("=", 1)[0] for part in query.split("&") if part)
        literal = len(re.sub(r"\{[^}]+\}", "", path)) + 10 * len(keys)
        routes.append(Route(http["method"], re.compile(f"^{pattern}/?$"), keys, literal, name))
    return sorted(routes, key=lambda route: -route.literal)


def route(model_name: str, method: str, path: str, query: str) -> tuple[str, dict[str, str]]:
    """(operation, path labels) of a request; UnknownOperation if no operation matches."""
    params = dict(parse_qsl(query, keep_blank_values=True))
    for candidate in _routes(model_name):
        if candidate.method != method or not candidate.query_keys <= params.keys():
            continue
        match = candidate.pattern.match(path)
        if match:
            return candidate.operation, match.groupdict()
    raise UnknownOperation(f"No {model_name} operation answers {method} {path}")


def parse_request(
    model_name: str, method: str, path: str, query: str, headers: Mapping[str, str], body: bytes
) -> tuple[str, dict[str, Any]]:
    operation, labels = route(model_name, method, path, query)
    shape = operation_model(model_name, operation).input_shape
    if shape is None:
        return operation, {}
    query_params = dict(parse_qsl(query, keep_blank_values=True))
    lowered = {k.lower(): v for k, v in headers.items()}
    params: dict[str, Any] = {}
    payload = shape.serialization.get("payload")
    for name, member in shape.members.items():
        location = member.serialization.get("location")
        wire_name = member.serialization.get("name", name)
        if location == "uri" and wire_name in labels:
            params[name] = labels[wire_name]
        elif location == "querystring" and wire_name in query_params:
            params[name] = _scalar_from_text(member, query_params[wire_name])
        elif location == "header" and wire_name.lower() in lowered:
            params[name] = _header_value(member, lowered[wire_name.lower()])
    if payload is not None:
        member = shape.members[payload]
        if member.type_name == "blob":
            params[payload] = body
        elif body:
            params[payload] = _from_json(member, _json_body(body))
        return operation, params
    if body:
        raw = _json_body(body)
        for name, value in raw.items():
            member = shape.members.get(name)
            if member is not None and member.serialization.get("location") is None:
                params[name] = _from_json(member, value)
    return operation, params


def _json_body(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ValidationError("Request body is not valid JSON", code="SerializationException") from exc


def _header_value(shape: Shape, text: str) -> Any:
    if shape.type_name == "string" and shape.serialization.get("jsonvalue"):
        return json.loads(text)
    return _scalar_from_text(shape, text)


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    content_type: str


def serialize_response(model_name: str, operation: str, result: Mapping[str, Any]) -> Answer:
    op = operation_model(model_name, operation)
    status = int(op.http.get("responseCode", 200))
    shape = op.output_shape
    if shape is None:
        return Answer(status, {}, b"", "application/json")
    headers: dict[str, str] = {}
    rest: dict[str, Any] = {}
    for name, value in result.items():
        member = shape.members.get(name)
        if member is None or value is None:
            continue
        location = member.serialization.get("location")
        if location == "statusCode":
            status = int(value)
        elif location == "header":
            headers[member.serialization.get("name", name)] = str(value)
        else:
            rest[name] = value
    payload = shape.serialization.get("payload")
    if payload is not None:
        member = shape.members[payload]
        value = rest.get(payload)
        if member.type_name == "blob":
            body = bytes(value or b"")
        else:
            body = json.dumps(_to_json(member, value)).encode() if value is not None else b""
    else:
        body = json.dumps(_to_json(shape, rest)).encode()
    if status == 204:
        body = b""
    return Answer(status, headers, body, "application/json")


def error_body(model_name: str, error: AwsError) -> bytes:
    """The error's members as the model names them (Lambda: `Type` and `Message` or `message`)."""
    message_key = "message"
    try:
        shape = service_model(model_name).shape_for(error.code)
    except Exception:  # botocore raises NoShapeFoundError for codes outside the model
        shape = None
    if isinstance(shape, StructureShape) and "Message" in shape.members:
        message_key = "Message"
    return json.dumps(
        {"Type": "User" if error.sender_fault else "Service", message_key: error.message}
    ).encode()
