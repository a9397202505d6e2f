"""Turn pydantic's validation errors into Problems a user can act on.

A problem names the file (with the line), the YAML path (`service.serviceDefinition.spec
.manifests[1].manifest.spec.store.type`) and what was expected, in words, without Python
type names.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Callable
from typing import Any

from pydantic import BaseModel, ValidationError

from corral.errors import Problem, format_path

Locator = Callable[[tuple[str | int, ...]], str]

_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def split_path(text: str) -> tuple[str | int, ...]:
    """'a.b[2].c' -> ('a', 'b', 2, 'c')."""
    return tuple(int(index) if index else name for name, index in _PATH_PART.findall(text))


def problems_from_validation(
    error: ValidationError,
    data: Any,
    *,
    root: str,
    locate: Locator,
    model: type[BaseModel] | None = None,
    keep: Callable[[Any], bool] | None = None,
) -> list[Problem]:
    """One Problem per pydantic error; `root` is the document's top-level key. keep: which
    pydantic errors count (the others are judged later)."""
    found: dict[tuple[str | int, ...], list[str]] = {}
    for item in error.errors(include_url=False):
        if keep is not None and not keep(item):
            continue
        parts, message = _explain(item, data, model)
        found.setdefault((root, *parts) if root else parts, []).append(message)
    return [Problem(locate(path), format_path(path), _joined(messages)) for path, messages in found.items()]


def _joined(messages: list[str]) -> str:
    """One message for one place: a value that fits none of a union's types says so once
    ("expected a string, an integer or a number, got a mapping")."""
    unique = list(dict.fromkeys(messages))
    wanted = [m.removeprefix("expected ").rpartition(", got ") for m in unique]
    if len(unique) > 1 and all(
        m.startswith("expected ") and sep for m, (_, sep, _) in zip(unique, wanted, strict=True)
    ):
        got = {rest for _, _, rest in wanted}
        if len(got) == 1:
            kinds = [kind for kind, _, _ in wanted]
            listed = ", ".join(kinds[:-1]) + " or " + kinds[-1]
            return f"expected {listed}, got {got.pop()}"
    return "; ".join(unique)


def _explain(item: Any, data: Any, model: type[BaseModel] | None) -> tuple[tuple[str | int, ...], str]:
    """(path in the document, message) for one pydantic error dict."""
    kind = item["type"]
    parts = _data_path(item["loc"], data, missing_field=kind in ("missing", "extra_forbidden"))
    ctx = item.get("ctx") or {}
    value = item.get("input")
    message = item["msg"]
    if kind == "value_error":
        text = str(ctx.get("error", message))
        if text.startswith("@"):
            field, _, text = text[1:].partition(": ")
            parts = (*parts, *split_path(field))
        return parts, text
    if kind == "missing":
        return parts, "required field is missing"
    if kind == "extra_forbidden":
        return parts, _unknown_field(parts, data, model)
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        key = str(ctx.get("discriminator", "'type'")).strip("'")
        expected = str(ctx.get("expected_tags", "")).replace("'", "")
        if kind == "union_tag_not_found":
            return (*parts, key), f"required field is missing; expected one of {expected}"
        return (*parts, key), f"expected one of {expected}, got {ctx.get('tag')!r}"
    if kind == "literal_error":
        expected = str(ctx.get("expected", "")).replace("'", "").replace(" or ", ", ")
        return parts, f"expected one of {expected}, got {_show(value)}"
    if kind == "string_pattern_mismatch":
        return parts, _pattern_message(str(ctx.get("pattern", "")), value)
    if kind == "too_short":
        return (
            parts,
            f"expected at least {ctx.get('min_length', 1)} item(s), got {ctx.get('actual_length', 0)}",
        )
    return parts, _type_message(kind, value, message)


_ABSENT: Any = object()


def _data_path(loc: tuple[Any, ...], data: Any, *, missing_field: bool = True) -> tuple[str | int, ...]:
    """pydantic's loc without the union tags and validator names it inserts.

    Walks the data along loc: a string that is not a key of the current mapping but is
    that mapping's `type` value (or a pydantic function marker) is a tag, not a field.
    """
    parts: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if isinstance(part, int):
            parts.append(part)
            current = current[part] if isinstance(current, list) and part < len(current) else None
            continue
        if isinstance(current, dict):
            if part in current:
                parts.append(part)
                current = current[part]
                continue
            if not last and (current.get("type") == part or _is_marker(part)):
                continue
        elif _is_marker(part) and not last:
            continue
        if last and not missing_field and current is not _ABSENT:
            break  # a union member's name (str, int, a model) after the value: not a field
        parts.append(part)
        current = _ABSENT
    return tuple(parts)


def _is_marker(part: str) -> bool:
    return "[" in part or part.startswith(("function-", "tagged-union", "union["))


def _unknown_field(parts: tuple[str | int, ...], data: Any, model: type[BaseModel] | None) -> str:
    name = str(parts[-1]) if parts else "?"
    allowed = _allowed_fields(model, parts[:-1], data) if model else []
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown field '{name}'; did you mean '{close[0]}'?"
    if allowed:
        return f"unknown field '{name}'; expected one of {', '.join(allowed)}"
    return f"unknown field '{name}'"


def _allowed_fields(model: type[BaseModel], parts: tuple[str | int, ...], data: Any) -> list[str]:
    """The YAML field names the model accepts at parts (following the data for unions)."""
    current: Any = model
    node = data
    for part in parts:
        if isinstance(part, int):
            node = node[part] if isinstance(node, list) and part < len(node) else None
            current = _item_type(current)
            continue
        current = _field_type(current, part, node)
        node = node.get(part) if isinstance(node, dict) else None
        if current is None:
            return []
    current = pick_model(current, node)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return sorted(f.alias or name for name, f in current.model_fields.items() if not f.exclude)
    return []


def _field_type(current: Any, name: str, parent: Any) -> Any:
    current = pick_model(current, parent)
    if not (isinstance(current, type) and issubclass(current, BaseModel)):
        return None
    for field_name, info in current.model_fields.items():
        if (info.alias or field_name) == name:
            return info.annotation
    return None


def _item_type(annotation: Any) -> Any:
    for arg in _args(annotation):
        if getattr(arg, "__origin__", None) is list:
            return _args(arg)[0]
    if getattr(annotation, "__origin__", None) is list:
        return _args(annotation)[0]
    return None


def _args(annotation: Any) -> tuple[Any, ...]:
    args = typing.get_args(annotation)
    out: list[Any] = []
    for arg in args:
        if typing.get_origin(arg) is typing.Annotated:
            out.extend(_args(arg))
        else:
            out.append(arg)
    return tuple(out) if args else ()


def pick_model(annotation: Any, node: Any) -> Any:
    """The model a (possibly Optional / discriminated union) annotation means for node."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    candidates = [arg for arg in _flatten(annotation) if isinstance(arg, type) and issubclass(arg, BaseModel)]
    if len(candidates) == 1:
        return candidates[0]
    tag = node.get("type") if isinstance(node, dict) else None
    for candidate in candidates:
        type_field = candidate.model_fields.get("type")
        if type_field is not None and tag in _literal_values(type_field.annotation):
            return candidate
    return None


def _flatten(annotation: Any) -> list[Any]:
    args = _args(annotation)
    if not args:
        return [annotation]
    out: list[Any] = []
    for arg in args:
        out.extend(_flatten(arg))
    return out


def _literal_values(annotation: Any) -> tuple[Any, ...]:
    if typing.get_origin(annotation) is typing.Literal:
        return typing.get_args(annotation)
    return ()


_TYPE_WORDS = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}


def _type_message(kind: str, value: Any, fallback: str) -> str:
    if kind in _TYPE_WORDS:
        return f"expected {_TYPE_WORDS[kind]}, got {_show(value)}"
    return fallback[0].lower() + fallback[1:] if fallback else kind


def _pattern_message(pattern: str, value: Any) -> str:
    if pattern.startswith("^[A-Za-z_][A-Za-z0-9_"):
        return f"expected an identifier (letters, digits, _ and $, not starting with a digit), got {_show(value)}"
    return f"expected text matching {pattern}, got {_show(value)}"


def _show(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return repr(value)
    return str(value)
