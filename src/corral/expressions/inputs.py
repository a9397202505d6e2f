"""Runtime inputs: <+input> and its options, as the reference system writes them.

    <+input>                                   a value must be given when the pipeline runs
    <+input>.default(bengaluru)                used when no value is given
    <+input>.allowedValues(dev,qa,prod)        the value must be one of these
    <+input>.default(dev).allowedValues(dev,prod)
    <+input>.selectOneFrom(a,b)                same as allowedValues
    <+input>.regex(^v[0-9]+$)                  the value must match (search semantics)
    <+input>.executionInput()                  asked for during the run; accepted, recorded

Option arguments are bare text separated by commas. A value holding a comma is quoted,
as the reference documents, with \\'london,uk\\' (or '...' / "..."). An unquoted default that
is a JSON number or true/false keeps that type, so desiredCount: <+input>.default(2) is 2.

A runtime input must be the whole value of a field; its path in the document (as
corral.errors.format_path writes it) is the key of its value in ExpressionContext.inputs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lark import Token

from corral.errors import ExpressionError
from corral.expressions.nodes import InputRef
from corral.expressions.values import located, to_text

WHOLE_VALUE = "a runtime input <+input> must be the whole value of a field"

_JSON_SCALAR = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false")
_OPTION = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)\((.*)\)", re.DOTALL)
_ARITY = {  # option -> (fewest, most) arguments
    "default": (1, 1),
    "allowedValues": (1, None),
    "selectOneFrom": (1, None),
    "regex": (1, 1),
    "executionInput": (0, 0),
}


@dataclass
class InputSpec:
    """One runtime input found in a document."""

    path: str  # where it stands, e.g. pipeline.stages[0].stage.spec.infrastructure.cluster
    expression: str  # the text as written, e.g. <+input>.default(dev).allowedValues(dev,prod)
    default: Any | None
    allowed_values: list[str] | None
    required: bool  # no default: a value must be given
    regex: str | None = None
    execution_input: bool = False


def input_ref(ref: Token, options: list[Token]) -> InputRef:
    """The InputRef for an INPUT_REF token and its INPUT_OPTION tokens."""
    found: dict[str, list[tuple[str, bool]]] = {}
    for token in options:
        match = _OPTION.fullmatch(str(token))
        name, args = (match.group(1), _split_args(match.group(2))) if match else ("", [])
        _check_option(name, args, found, token.start_pos or 0)
        found[name] = args
    allowed = found.get("allowedValues", found.get("selectOneFrom"))
    default = found.get("default")
    source = str(ref) + "".join(str(token) for token in options)
    return InputRef(
        source=source,
        pos=ref.start_pos or 0,
        default=_typed(*default[0]) if default else None,
        allowed_values=tuple(value for value, _ in allowed) if allowed is not None else None,
        regex=found["regex"][0][0] if "regex" in found else None,
        execution_input="executionInput" in found,
    )


def _check_option(
    name: str, args: list[tuple[str, bool]], found: dict[str, list[tuple[str, bool]]], position: int
) -> None:
    if name not in _ARITY:
        known = ", ".join(_ARITY)
        raise ExpressionError(
            f"unknown runtime input option '{name}'; expected one of {known}", position=position
        )
    if name in found or ({name, *found} >= {"allowedValues", "selectOneFrom"}):
        raise ExpressionError(f"runtime input option '{name}' is given twice", position=position)
    fewest, most = _ARITY[name]
    if len(args) < fewest or (most is not None and len(args) > most):
        count = "no arguments" if most == 0 else "one argument" if most == 1 else "at least one argument"
        raise ExpressionError(f"runtime input option '{name}' takes {count}", position=position)
    if name == "regex":
        try:
            re.compile(args[0][0])
        except re.error as exc:
            raise ExpressionError(f"runtime input regex is not valid: {exc}", position=position) from exc


def _split_args(inner: str) -> list[tuple[str, bool]]:
    """Split option arguments at commas outside quotes; returns (value, was_quoted) pairs."""
    if not inner.strip():
        return []
    pieces, start, i, quote = [], 0, 0, ""
    while i < len(inner):
        if quote:
            if inner.startswith(quote, i):
                i += len(quote)
                quote = ""
                continue
        elif inner.startswith("\\'", i):
            quote = "\\'"
            i += 2
            continue
        elif inner[i] in "\"'":
            quote = inner[i]
        elif inner[i] == ",":
            pieces.append(inner[start:i])
            start = i + 1
        i += 1
    pieces.append(inner[start:])
    return [_unquote(piece.strip()) for piece in pieces]


def _unquote(piece: str) -> tuple[str, bool]:
    for quote in ("\\'", "'", '"'):
        if len(piece) >= 2 * len(quote) and piece.startswith(quote) and piece.endswith(quote):
            return piece[len(quote) : -len(quote)], True
    return piece, False


def _typed(value: str, quoted: bool) -> Any:
    if not quoted and _JSON_SCALAR.fullmatch(value):
        return json.loads(value)
    return value


def input_spec(ref: InputRef, path: str) -> InputSpec:
    return InputSpec(
        path=path,
        expression=ref.source,
        default=ref.default,
        allowed_values=list(ref.allowed_values) if ref.allowed_values is not None else None,
        required=ref.default is None,
        regex=ref.regex,
        execution_input=ref.execution_input,
    )


def check_input_value(spec: InputSpec, value: Any, *, what: str = "value") -> None:
    """Raise ExpressionError naming the path unless value satisfies the input's options."""
    try:
        text = to_text(value)
    except ExpressionError as exc:
        raise ExpressionError(located(spec.path, f"runtime input {what}: {exc.detail}")) from None
    if spec.allowed_values is not None and text not in spec.allowed_values:
        allowed = ", ".join(spec.allowed_values)
        raise ExpressionError(
            located(spec.path, f"runtime input {what} '{text}' is not one of the allowed values: {allowed}"),
            expression=spec.expression,
        )
    if spec.regex is not None and _bounded_search(spec, text, what) is None:
        raise ExpressionError(
            located(spec.path, f"runtime input {what} '{text}' does not match the pattern {spec.regex}"),
            expression=spec.expression,
        )


def _bounded_search(spec: InputSpec, text: str, what: str) -> object:
    """The pattern searched in a value someone typed, bounded in time (a pattern such as
    `^([a-z0-9]+-?)+$` backtracks for hours on 40 characters: a request must not hang)."""
    from corral.expressions.limits import BoundedPattern

    assert spec.regex is not None
    try:
        return BoundedPattern(spec.regex, f"runtime input regex {spec.regex}").search(text)
    except ValueError as exc:
        raise ExpressionError(located(spec.path, f"runtime input regex is not valid: {exc}")) from None
    except ExpressionError as exc:
        raise ExpressionError(located(spec.path, f"runtime input {what}: {exc.detail}")) from None
