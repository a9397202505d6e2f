"""Server side of the AWS wire protocols, driven by botocore's own service models.

botocore ships the client half (serialize requests, parse responses); the sandbox needs the
other half. Both are derived from the same shapes, so what unmodified boto3 and the AWS CLI
send and expect is exactly what is parsed and produced here.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from collections.abc import Mapping
from functools import cache
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

import botocore.session
from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from .errors import AwsError, UnknownOperation, ValidationError


@cache
def service_model(name: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(name)


@cache
def _operation(service: str, name: str) -> OperationModel:
    return service_model(service).operation_model(name)


def operation_model(service: str, name: str) -> OperationModel:
    try:
        return _operation(service, name)
    except Exception as exc:  # botocore raises OperationNotFoundError
        raise UnknownOperation(f"Unknown operation {name}") from exc


# ---------------------------------------------------------------- requests


def parse_json_request(service: str, target: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """`X-Amz-Target: Prefix.Operation` plus a JSON body -> (operation, params)."""
    operation = target.rsplit(".", 1)[-1]
    op = operation_model(service, operation)
    try:
        raw = json.loads(body or b"{}")
    except ValueError as exc:
        raise ValidationError("Request body is not valid JSON", code="SerializationException") from exc
    params = _from_json(op.input_shape, raw) if op.input_shape is not None else {}
    return operation, params


def _from_json(shape: Shape | None, value: Any) -> Any:
    if shape is None or value is None:
        return value
    if isinstance(shape, StructureShape) and isinstance(value, dict):
        return {k: _from_json(shape.members.get(k), v) for k, v in value.items()}
    if isinstance(shape, ListShape) and isinstance(value, list):
        return [_from_json(shape.member, v) for v in value]
    if isinstance(shape, MapShape) and isinstance(value, dict):
        return {k: _from_json(shape.value, v) for k, v in value.items()}
    if shape.type_name == "timestamp" and isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, tz=dt.UTC)
    if shape.type_name == "blob" and isinstance(value, str):
        return base64.b64decode(value)
    return value


def parse_query_request(service: str, body: bytes, query: str = "") -> tuple[str, dict[str, Any]]:
    """AWS query protocol (form-encoded `Action=...&A.member.1=...`) -> (operation, params)."""
    pairs = dict(parse_qsl(query, keep_blank_values=True))
    pairs.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    operation = pairs.pop("Action", "")
    pairs.pop("Version", None)
    op = operation_model(service, operation)
    if op.input_shape is None:
        return operation, {}
    return operation, _from_query(op.input_shape, pairs, "") or {}


def _from_query(shape: Shape, pairs: Mapping[str, str], prefix: str) -> Any:
    if isinstance(shape, StructureShape):
        out: dict[str, Any] = {}
        for name, member in shape.members.items():
            key = member.serialization.get("name", name)
            value = _from_query(member, pairs, f"{prefix}.{key}" if prefix else key)
            if value is not None:
                out[name] = value
        return out if out or not prefix else None
    if isinstance(shape, ListShape):
        items = []
        flattened = shape.serialization.get("flattened", False)
        base = prefix if flattened else f"{prefix}.member"
        index = 1
        while True:
            item = _from_query(shape.member, pairs, f"{base}.{index}")
            if item is None:
                break
            items.append(item)
            index += 1
        if not items and prefix in pairs:  # `Name=` with an empty value means an empty list
            return []
        return items or None
    if isinstance(shape, MapShape):
        result: dict[str, Any] = {}
        index = 1
        while f"{prefix}.entry.{index}.key" in pairs:
            key = pairs[f"{prefix}.entry.{index}.key"]
            result[key] = _from_query(shape.value, pairs, f"{prefix}.entry.{index}.value")
            index += 1
        return result or None
    if prefix in pairs:
        return _scalar_from_text(shape, pairs[prefix])
    return None


def _scalar_from_text(shape: Shape, text: str) -> Any:
    kind = shape.type_name
    if kind in ("integer", "long"):
        return int(text)
    if kind in ("float", "double"):
        return float(text)
    if kind == "boolean":
        return text.lower() == "true"
    if kind == "timestamp":
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if kind == "blob":
        return base64.b64decode(text)
    return text


def parse_cbor_request(service: str, path: str, body: bytes) -> tuple[str, dict[str, Any]]:
    """Smithy RPC v2 CBOR (`POST /service/NAME/operation/OP`, CBOR body) -> (operation, params).

    Newer botocore releases speak this to some services (Cloud Map, CloudWatch) instead of JSON.
    """
    import cbor2

    operation = path.rstrip("/").rsplit("/", 1)[-1]
    op = operation_model(service, operation)
    try:
        raw = cbor2.loads(body) if body else {}
    except (cbor2.CBORDecodeError, ValueError) as exc:
        raise ValidationError("Request body is not valid CBOR", code="SerializationException") from exc
    params = _from_json(op.input_shape, raw) if op.input_shape is not None else {}
    return operation, params


# ---------------------------------------------------------------- responses


def serialize_json_response(service: str, operation: str, result: Mapping[str, Any]) -> bytes:
    op = operation_model(service, operation)
    return json.dumps(_to_json(op.output_shape, result) if op.output_shape is not None else {}).encode()


def _to_json(shape: Shape | None, value: Any) -> Any:
    if value is None:
        return None
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return {
            k: _to_json(shape.members[k], v) for k, v in value.items() if k in shape.members and v is not None
        }
    if isinstance(shape, ListShape):
        return [_to_json(shape.member, v) for v in value]
    if isinstance(shape, MapShape):
        return {k: _to_json(shape.value, v) for k, v in value.items()}
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def serialize_cbor_response(service: str, operation: str, result: Mapping[str, Any]) -> bytes:
    import cbor2

    op = operation_model(service, operation)
    value = _to_cbor(op.output_shape, result) if op.output_shape is not None else {}
    return cbor2.dumps(value, datetime_as_timestamp=True, timezone=dt.UTC)


def _to_cbor(shape: Shape | None, value: Any) -> Any:
    """Like JSON, but timestamps stay datetimes (CBOR tag 1) and blobs stay bytes."""
    if value is None:
        return None
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        return {
            k: _to_cbor(shape.members[k], v) for k, v in value.items() if k in shape.members and v is not None
        }
    if isinstance(shape, ListShape):
        return [_to_cbor(shape.member, v) for v in value]
    if isinstance(shape, MapShape):
        return {k: _to_cbor(shape.value, v) for k, v in value.items()}
    if shape is not None and shape.type_name in ("double", "float") and isinstance(value, int):
        return float(value)
    return value


def cbor_error_body(service: str, error: AwsError) -> bytes:
    import cbor2

    namespace = service_model(service).metadata.get("targetPrefix") or service
    return cbor2.dumps({"__type": f"{namespace}#{error.code}", "message": error.message})


def json_error_body(error: AwsError) -> bytes:
    return json.dumps({"__type": error.code, "message": error.message}).encode()


def serialize_query_response(
    service: str, operation: str, result: Mapping[str, Any], request_id: str
) -> bytes:
    model = service_model(service)
    op = operation_model(service, operation)
    namespace = (
        model.metadata.get("xmlNamespace")
        or f"https://{model.endpoint_prefix}.amazonaws.com/doc/{model.api_version}/"
    )
    body = ""
    if op.output_shape is not None:
        body = f"<{operation}Result>{_to_xml_members(op.output_shape, result)}</{operation}Result>"
    return (
        f'<{operation}Response xmlns="{namespace}">{body}'
        f"<ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata></{operation}Response>"
    ).encode()


def _to_xml_members(shape: StructureShape, value: Mapping[str, Any]) -> str:
    parts = []
    for name, member in shape.members.items():
        if value.get(name) is None:
            continue
        tag = member.serialization.get("name", name)
        parts.append(_to_xml(member, value[name], tag))
    return "".join(parts)


def _to_xml(shape: Shape, value: Any, tag: str) -> str:
    if isinstance(shape, StructureShape):
        return f"<{tag}>{_to_xml_members(shape, value)}</{tag}>"
    if isinstance(shape, ListShape):
        member_tag = shape.member.serialization.get("name", "member")
        inner = "".join(_to_xml(shape.member, v, member_tag) for v in value)
        if shape.serialization.get("flattened"):
            return "".join(_to_xml(shape.member, v, tag) for v in value)
        return f"<{tag}>{inner}</{tag}>"
    if isinstance(shape, MapShape):
        entries = "".join(
            f"<entry>{_to_xml(shape.key, k, 'key')}{_to_xml(shape.value, v, 'value')}</entry>"
            for k, v in value.items()
        )
        return f"<{tag}>{entries}</{tag}>"
    return f"<{tag}>{escape(_scalar_to_text(value))}</{tag}>"


def _scalar_to_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return str(value)


def query_error_body(error: AwsError, request_id: str) -> bytes:
    kind = "Sender" if error.sender_fault else "Receiver"
    return (
        f"<ErrorResponse><Error><Type>{kind}</Type><Code>{escape(error.code)}</Code>"
        f"<Message>{escape(error.message)}</Message></Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    ).encode()


# ---------------------------------------------------------------- REST operation names (call log)

# signing name -> botocore model name, for the REST services the sandbox serves through moto
REST_MODELS = {"s3": "s3", "lambda": "lambda"}


@cache
def _rest_routes(model_name: str) -> list[tuple[str, re.Pattern[str], frozenset[str], int, str]]:
    model = service_model(model_name)
    routes = []
    for name in model.operation_names:
        http = model.operation_model(name).http
        path, _, query = http["requestUri"].partition("?")
        pattern = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(path))
        pattern = re.sub(r"\\\{[^}]+\\\}", "[^/]+", pattern)
        keys = frozenset(part.split("=", 1)[0] for part in query.split("&") if part)
        literal = len(re.sub(r"\{[^}]+\}", "", path)) + 10 * len(keys)
        routes.append((http["method"], re.compile(f"^{pattern}/?$"), keys, literal, name))
    return sorted(routes, key=lambda route: -route[3])


def rest_operation(signing_name: str, method: str, path: str, query: str) -> str | None:
    """Name the operation of a REST request, as botocore's model routes it."""
    model_name = REST_MODELS.get(signing_name)
    if model_name is None:
        return None
    params = dict(parse_qsl(query, keep_blank_values=True))
    if "x-id" in params:  # botocore names S3 operations outright
        return params["x-id"]
    for route_method, pattern, keys, _, name in _rest_routes(model_name):
        if route_method == method and pattern.match(path) and keys <= params.keys():
            return name
    return None
