"""Checks an answer of the sandbox against the operation's output shape in botocore's model.

boto3 is forgiving: it drops members its model does not know, keeps a value of the wrong type
as it came and accepts any string where the model lists enum values. A sandbox answer that
boto3 takes without complaint can therefore still be one AWS never gives. Three checks:

- `check_parsed`: what boto3 returns (or what a handler hands to the serializer): every
  member known to the shape, required members present, scalars of the shape's type
  (timestamps as datetimes), strings of an enum one of its values, lists and maps member by
  member.
- `check_wire`: the raw body, before botocore drops anything: JSON object keys (json,
  rest-json and CBOR protocols) and XML element names (query protocol) against the shape,
  scalars as the protocol writes them; then botocore's own parser reads the body and
  `check_parsed` checks the result.
- `check_result`: a handler's result before serialization: members that no shape of the
  service's model has (misspelt or invented), which the serializer would drop without a word.

Each returns a list of `Mismatch` (empty when the answer fits). The gateway runs them on every
answer of the emulated services when shape checking is on (`SandboxApp(check_shapes=True)` or
the environment variable `CORRAL_SANDBOX_CHECK_SHAPES=1`, which the test suite sets).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import threading
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from botocore.parsers import create_parser

from .protocol import operation_model, service_model

ENVIRONMENT_FLAG = "CORRAL_SANDBOX_CHECK_SHAPES"
# the error code of a call whose answer failed the check: a client error, so SDKs do not retry
ERROR_CODE = "CorralSandboxShapeMismatch"

# botocore adds these to every parsed answer; they are not part of any output shape
PARSER_EXTRAS = frozenset({"ResponseMetadata"})

# (model, enum shape) -> (shape whose values AWS also sends there, why). Only where AWS's own
# answers are documented to go beyond the enum in its model.
ENUM_ALSO = {
    # A stack's own events (ResourceType AWS::CloudFormation::Stack) carry the stack's status,
    # e.g. UPDATE_COMPLETE_CLEANUP_IN_PROGRESS ("Stack status codes", CloudFormation User Guide,
    # https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html;
    # describe-stack-events output quoted in ansible/ansible#32396), values botocore's
    # ResourceStatus enum lacks.
    ("cloudformation", "ResourceStatus"): "StackStatus",
}


@dataclass(frozen=True)
class Mismatch:
    """One place where an answer differs from the output shape."""

    service: str  # botocore model name
    operation: str
    path: str  # where in the answer, e.g. `services[0].deployments[1].rolloutState`
    problem: str  # what was found and what the shape expects
    source: str = "parsed"  # parsed | wire | result

    def __str__(self) -> str:
        where = self.path or "(the answer)"
        return f"{self.service} {self.operation} ({self.source}): {where}: {self.problem}"


def enabled_by_environment() -> bool:
    return os.environ.get(ENVIRONMENT_FLAG, "").strip().lower() in ("1", "true", "yes", "on")


# ---------------------------------------------------------------- parsed answers


def check_parsed(service: str, operation: str, parsed: Mapping[str, Any]) -> list[Mismatch]:
    """Check what boto3 returns for `operation` against its output shape."""
    op = operation_model(service, operation)
    found: list[Mismatch] = []
    if op.output_shape is None:
        extra = sorted(set(parsed) - PARSER_EXTRAS)
        if extra:
            found.append(
                Mismatch(service, operation, "", f"has members {extra}; the operation has no output")
            )
        return found
    body = {k: v for k, v in parsed.items() if k not in PARSER_EXTRAS}
    _check_value(op.output_shape, body, "", found, service, operation)
    return found


def check_result(service: str, operation: str, result: Mapping[str, Any]) -> list[Mismatch]:
    """Members of a handler's result that no shape of the service's model has.

    The serializer drops members the output shape lacks, and handlers rely on that to answer a
    summary with the full view (a Cloud Map `ServiceSummary` from what GetService returns). A
    name found in no shape of the model is another matter: a misspelt or invented member,
    which boto3 would never see.
    """
    op = operation_model(service, operation)
    found: list[Mismatch] = []
    if op.output_shape is not None:
        _unknown_members(op.output_shape, result, "", found, service, operation)
    known = _member_names(service)
    return [
        Mismatch(
            m.service, m.operation, m.path, f"{m.problem} nor of any shape of the {service} model", "result"
        )
        for m in found
        if m.path.rsplit(".", 1)[-1].split("[", 1)[0] not in known
    ]


@cache
def _member_names(service: str) -> frozenset[str]:
    model = service_model(service)
    names: set[str] = set()
    for shape_name in model.shape_names:
        shape = model.shape_for(shape_name)
        if isinstance(shape, StructureShape):
            names.update(shape.members)
    return frozenset(names)


def _check_value(
    shape: Shape, value: Any, path: str, found: list[Mismatch], service: str, operation: str
) -> None:
    def report(problem: str) -> None:
        found.append(Mismatch(service, operation, path, problem))

    if value is None:
        report(f"is null; expected {_kind(shape)} or the member left out")
    elif shape.metadata.get("document"):
        return  # a document holds any JSON value (ECS's hookDetails)
    elif isinstance(shape, StructureShape):
        if not isinstance(value, Mapping):
            report(f"is {_describe(value)}; expected a structure ({shape.name})")
            return
        for name in shape.required_members:
            if name not in value:
                found.append(
                    Mismatch(service, operation, _join(path, name), f"is missing; {shape.name} requires it")
                )
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                found.append(
                    Mismatch(service, operation, _join(path, name), f"is not a member of {shape.name}")
                )
            else:
                _check_value(member, item, _join(path, name), found, service, operation)
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            report(f"is {_describe(value)}; expected a list of {_kind(shape.member)}")
            return
        for index, item in enumerate(value):
            _check_value(shape.member, item, f"{path}[{index}]", found, service, operation)
    elif isinstance(shape, MapShape):
        if not isinstance(value, Mapping):
            report(f"is {_describe(value)}; expected a map")
            return
        for key, item in value.items():
            _check_value(shape.key, key, f"{path}{{key {key!r}}}", found, service, operation)
            _check_value(shape.value, item, f"{path}[{key!r}]", found, service, operation)
    else:
        problem = _scalar_problem(shape, value, service)
        if problem:
            report(problem)


def _scalar_problem(shape: Shape, value: Any, service: str) -> str | None:
    kind = shape.type_name
    if kind == "string":
        if not isinstance(value, str):
            return f"is {_describe(value)}; expected a string"
        enum = shape.metadata.get("enum")
        if enum and value not in enum and value not in _enum_also(service, shape):
            listed = ", ".join(enum[:12]) + (f", ... ({len(enum)} values)" if len(enum) > 12 else "")
            return f"is {value!r}, not one of {shape.name}'s values [{listed}]"
        return None
    if kind in ("integer", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"is {_describe(value)}; expected an {kind}"
    if kind in ("float", "double"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok else f"is {_describe(value)}; expected a {kind}"
    if kind == "boolean":
        return None if isinstance(value, bool) else f"is {_describe(value)}; expected a boolean"
    if kind == "timestamp":
        return None if isinstance(value, dt.datetime) else f"is {_describe(value)}; expected a timestamp"
    if kind == "blob":
        ok = isinstance(value, bytes | bytearray) or hasattr(value, "read")  # streaming payloads
        return None if ok else f"is {_describe(value)}; expected bytes (blob)"
    return None  # document types hold any JSON value


def _enum_also(service: str, shape: Shape) -> list[str]:
    other = ENUM_ALSO.get((service, shape.name))
    if other is None:
        return []
    values: list[str] = service_model(service).shape_for(other).metadata.get("enum", [])
    return values


def _unknown_members(
    shape: Shape, value: Any, path: str, found: list[Mismatch], service: str, operation: str
) -> None:
    if shape.metadata.get("document"):
        return
    if isinstance(shape, StructureShape) and isinstance(value, Mapping):
        for name, item in value.items():
            member = shape.members.get(name)
            if member is None:
                if item is not None:  # a None member is left out on the wire: harmless
                    found.append(
                        Mismatch(service, operation, _join(path, name), f"is not a member of {shape.name}")
                    )
            else:
                _unknown_members(member, item, _join(path, name), found, service, operation)
    elif isinstance(shape, ListShape) and isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _unknown_members(shape.member, item, f"{path}[{index}]", found, service, operation)
    elif isinstance(shape, MapShape) and isinstance(value, Mapping):
        for key, item in value.items():
            _unknown_members(shape.value, item, f"{path}[{key!r}]", found, service, operation)


# ---------------------------------------------------------------- wire bodies


def wire_protocol_name(service: str, wire: str) -> str:
    """botocore's name of the protocol an answer was written in (`wire` as the gateway names it)."""
    if wire == "cbor":
        return "smithy-rpc-v2-cbor"
    protocol = str(service_model(service).metadata.get("protocol", "json"))
    if protocol in ("rest-json", "rest-xml", "ec2"):  # one wire form only: the model's
        return protocol
    return "json" if wire == "json" else "query"


def check_wire(
    service: str,
    operation: str,
    protocol: str,
    body: bytes,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> list[Mismatch]:
    """Check a raw answer body (then botocore's reading of it) against the output shape.

    `protocol` is botocore's name: json, rest-json, query or smithy-rpc-v2-cbor.
    """
    op = operation_model(service, operation)
    found: list[Mismatch] = []
    try:
        if protocol in ("json", "rest-json"):
            _check_json_body(op, json.loads(body or b"{}"), protocol, found, service)
        elif protocol == "smithy-rpc-v2-cbor":
            import cbor2

            _check_json_body(op, cbor2.loads(body) if body else {}, protocol, found, service)
        elif protocol == "query":
            _check_xml_body(op, body, found, service)
    except (ValueError, ET.ParseError) as exc:
        found.append(Mismatch(service, operation, "", f"body cannot be read as {protocol}: {exc}", "wire"))
        return found
    if op.output_shape is None:
        return found
    parsed = _parse(op, op.output_shape, protocol, body, status, dict(headers or {}))
    return found + check_parsed(service, operation, parsed)


def _parse(
    op: OperationModel, shape: Shape, protocol: str, body: bytes, status: int, headers: dict[str, str]
) -> Any:
    parser = create_parser(protocol)
    response: dict[str, Any] = {"status_code": status, "headers": headers, "body": body}
    if op.has_streaming_output:
        response["body"] = _Stream(body)
    return parser.parse(response, shape)


class _Stream:
    """What botocore expects of a streaming body (Lambda's Invoke payload, for one)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def read(self, amt: int | None = None) -> bytes:
        data, self._data = self._data, b""
        return data


def _check_json_body(
    op: OperationModel, raw: Any, protocol: str, found: list[Mismatch], service: str
) -> None:
    shape = op.output_shape
    if shape is None:
        if raw not in ({}, None, b""):
            found.append(Mismatch(service, op.name, "", "has a body; the operation has no output", "wire"))
        return
    payload = shape.serialization.get("payload")
    if payload:  # rest-json: the body is one member (a structure, or raw bytes we do not read)
        member = shape.members[payload]
        if isinstance(member, StructureShape):
            _walk_json(member, raw, "", found, service, op.name, protocol)
        return
    _walk_json(shape, raw, "", found, service, op.name, protocol, top=True)


def _walk_json(
    shape: Shape,
    raw: Any,
    path: str,
    found: list[Mismatch],
    service: str,
    operation: str,
    protocol: str,
    *,
    top: bool = False,
) -> None:
    def report(at: str, problem: str) -> None:
        found.append(Mismatch(service, operation, at, problem, "wire"))

    if raw is None:
        report(path, f"is null; expected {_kind(shape)} or the member left out")
    elif shape.metadata.get("document"):
        return
    elif isinstance(shape, StructureShape):
        if not isinstance(raw, dict):
            report(path, f"is {_describe(raw)}; expected a JSON object ({shape.name})")
            return
        # rest-json puts some members in headers or the status code, never in the body
        wire_names = {
            member.serialization.get("name", name): member
            for name, member in shape.members.items()
            if not (top and member.serialization.get("location"))
        }
        for key, item in raw.items():
            member = wire_names.get(key)
            if member is None:
                report(_join(path, key), f"is not a member of {shape.name}")
            else:
                _walk_json(member, item, _join(path, key), found, service, operation, protocol)
    elif isinstance(shape, ListShape):
        if not isinstance(raw, list):
            report(path, f"is {_describe(raw)}; expected a JSON array")
            return
        for index, item in enumerate(raw):
            _walk_json(shape.member, item, f"{path}[{index}]", found, service, operation, protocol)
    elif isinstance(shape, MapShape):
        if not isinstance(raw, dict):
            report(path, f"is {_describe(raw)}; expected a JSON object (map)")
            return
        for key, item in raw.items():
            _walk_json(shape.value, item, f"{path}[{key!r}]", found, service, operation, protocol)
    else:
        problem = _json_scalar_problem(shape, raw, protocol, service)
        if problem:
            report(path, problem)


def _json_scalar_problem(shape: Shape, raw: Any, protocol: str, service: str) -> str | None:
    kind = shape.type_name
    if kind == "timestamp":
        if protocol == "smithy-rpc-v2-cbor" and isinstance(raw, dt.datetime):
            return None
        fmt = shape.serialization.get("timestampFormat") or (
            "iso8601" if protocol == "rest-json" else "unixTimestamp"
        )
        if fmt.lower() == "unixtimestamp":
            ok = isinstance(raw, int | float) and not isinstance(raw, bool)
            return None if ok else f"is {_describe(raw)}; expected epoch seconds (a number)"
        return None if isinstance(raw, str) else f"is {_describe(raw)}; expected a {fmt} timestamp string"
    if kind == "blob":
        if protocol == "smithy-rpc-v2-cbor":
            return None if isinstance(raw, bytes) else f"is {_describe(raw)}; expected bytes"
        if not isinstance(raw, str):
            return f"is {_describe(raw)}; expected base64 text"
        try:
            base64.b64decode(raw, validate=True)
        except ValueError:
            return "is not base64 text"
        return None
    if kind == "string":  # its enum is checked once, on the parsed answer
        return None if isinstance(raw, str) else f"is {_describe(raw)}; expected a string"
    return _scalar_problem(shape, raw, service)


def _check_xml_body(op: OperationModel, body: bytes, found: list[Mismatch], service: str) -> None:
    root = ET.fromstring(body)
    children = {_local(child.tag): child for child in root}
    expected = {"ResponseMetadata"}
    shape = op.output_shape
    if shape is not None:
        wrapper = shape.serialization.get("resultWrapper") or f"{op.name}Result"
        expected.add(wrapper)
        if wrapper in children:
            _walk_xml(shape, children[wrapper], "", found, service, op.name)
    for name in children:
        if name not in expected:
            found.append(Mismatch(service, op.name, name, f"is not an element of {_local(root.tag)}", "wire"))


def _walk_xml(
    shape: Shape, element: ET.Element, path: str, found: list[Mismatch], service: str, operation: str
) -> None:
    def report(at: str, problem: str) -> None:
        found.append(Mismatch(service, operation, at, problem, "wire"))

    if isinstance(shape, StructureShape):
        members: dict[str, Shape] = {}
        for name, declared in shape.members.items():
            tag = declared.serialization.get("name", name)
            if isinstance(declared, ListShape) and declared.serialization.get("flattened"):
                tag = declared.member.serialization.get("name", tag)
            members[tag] = declared
        flattened_seen: dict[str, int] = {}
        for child in element:
            tag = _local(child.tag)
            member = members.get(tag)
            if member is None:
                report(_join(path, tag), f"is not a member of {shape.name}")
            elif isinstance(member, ListShape) and member.serialization.get("flattened"):
                index = flattened_seen[tag] = flattened_seen.get(tag, -1) + 1
                _walk_xml(member.member, child, f"{_join(path, tag)}[{index}]", found, service, operation)
            else:
                _walk_xml(member, child, _join(path, tag), found, service, operation)
    elif isinstance(shape, ListShape):
        item_tag = shape.member.serialization.get("name", "member")
        for index, child in enumerate(element):
            if _local(child.tag) != item_tag:
                report(f"{path}[{index}]", f"is <{_local(child.tag)}>; expected <{item_tag}>")
            else:
                _walk_xml(shape.member, child, f"{path}[{index}]", found, service, operation)
    elif isinstance(shape, MapShape):
        key_tag = shape.key.serialization.get("name", "key")
        value_tag = shape.value.serialization.get("name", "value")
        for index, entry in enumerate(element):
            parts = {_local(part.tag): part for part in entry}
            if _local(entry.tag) != "entry" or set(parts) != {key_tag, value_tag}:
                report(f"{path}[{index}]", f"expected <entry> with <{key_tag}> and <{value_tag}>")
            else:
                _walk_xml(shape.value, parts[value_tag], f"{path}[{index}]", found, service, operation)
    else:
        if len(element):
            report(path, f"has child elements; expected {_kind(shape)}")
            return
        problem = _xml_text_problem(shape, element.text or "")
        if problem:
            report(path, problem)


def _xml_text_problem(shape: Shape, text: str) -> str | None:
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            int(text)
        elif kind in ("float", "double"):
            float(text)
        elif kind == "boolean" and text not in ("true", "false"):
            return f"is {text!r}; expected true or false"
        elif kind == "timestamp":
            dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return f"is {text!r}; expected {_kind(shape)}"
    return None


# ---------------------------------------------------------------- mismatches seen in this process


class Recorder:
    """Mismatches the gateways of this process answered, for the test run to fail on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: list[Mismatch] = []

    def add(self, mismatches: list[Mismatch]) -> None:
        with self._lock:
            self._seen.extend(mismatches)

    def take(self) -> list[Mismatch]:
        with self._lock:
            seen, self._seen = self._seen, []
            return seen


RECORDED = Recorder()


# ---------------------------------------------------------------- helpers


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _kind(shape: Shape) -> str:
    kind = shape.type_name
    if kind == "structure":
        return f"a structure ({shape.name})"
    if kind == "list":
        return "a list"
    if kind == "map":
        return "a map"
    return f"a {kind}"


def _describe(value: Any) -> str:
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{type(value).__name__} {text}"
