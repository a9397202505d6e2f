"""The only methods and functions an expression can call: an allow-list, by value type.

Strings have the Java string methods the reference system's users write
(toUpperCase, substring, split, ...), with Java's behaviour where it differs from Python's
(split takes a regular expression and drops trailing empty strings; replace is literal;
trim removes control characters and spaces). Lists and maps have size/isEmpty/contains.

Functions live in namespaces, called as <+json.select("a.b", text)>:
    json.select(path, jsonText)     value at a JsonPath-style path ($.a.b[0]['c'])
    json.list(path, jsonText)       same, and it must be a list
    json.object(jsonText)           the parsed JSON, for further .field access
    json.format(value)              value as JSON text
    regex.match(pattern, text)      true when the pattern occurs in text
    regex.extract(pattern, text)    the first occurrence, or ""
    regex.replace(pattern, text, replacement)   every occurrence replaced ($1, ${name} groups)
secrets.getValue is handled by the evaluator, which holds the secret resolver.
"""

from __future__ import annotations

import inspect
import json
import re
from collections.abc import Callable
from typing import Any

from corral.errors import ExpressionError
from corral.expressions.limits import BoundedPattern, check_size
from corral.expressions.values import Unresolved, equal, to_text, type_name

Function = Callable[..., Any]

_JAVA_TRIM = "".join(chr(code) for code in range(33))
_PATH_STEP = re.compile(r"\.?([^.\[\]]+)|\[\s*(\d+)\s*\]|\[\s*'([^']*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]")


def _text(value: Any, method: str, what: str = "argument") -> str:
    if not isinstance(value, str):
        raise ExpressionError(f"{method}: the {what} must be a string, not a {type_name(value)}")
    return value


def _integer(value: Any, method: str) -> int:
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:
        raise ExpressionError(f"{method}: the argument must be a whole number, not a {type_name(value)}")
    return int(value)


def compile_regex(pattern: Any, method: str) -> BoundedPattern:
    try:
        return BoundedPattern(_text(pattern, method, "pattern"), method)
    except (OverflowError, RecursionError, ValueError) as exc:
        raise ExpressionError(f"{method}: invalid regular expression: {exc}") from exc


# -- strings ----------------------------------------------------------------------------


def _substring(value: str, begin: Any, end: Any = None) -> str:
    start = _integer(begin, "substring()")
    stop = len(value) if end is None else _integer(end, "substring()")
    if not 0 <= start <= stop <= len(value):
        raise ExpressionError(
            f"substring({start}, {stop}) is out of range for a string of length {len(value)}"
        )
    return value[start:stop]


def _split(value: str, pattern: Any, limit: Any = 0) -> list[str]:
    """Java's String.split: a regex separator; limit 0 drops trailing empty strings."""
    regex = compile_regex(pattern, "split()")
    most = _integer(limit, "split()")
    parts: list[str] = []
    start = 0
    for match in regex.finditer(value):
        if most > 0 and len(parts) == most - 1:
            break
        if match.start() == match.end() == 0:  # a zero-width match at the start adds nothing
            continue
        parts.append(value[start : match.start()])
        start = match.end()
    parts.append(value[start:])
    if most == 0:
        while parts and parts[-1] == "" and len(value) > 0:
            parts.pop()
    return parts


def _replace(value: str, target: Any, replacement: Any) -> str:
    old, new = _text(target, "replace()"), _text(replacement, "replace()")
    check_size(len(value) + value.count(old) * (len(new) - len(old)), "result of replace()")
    return value.replace(old, new)


def _joined(value: str, other: str) -> str:
    check_size(len(value) + len(other), "result of concat()")
    return value + other


def _index_of(value: str, part: Any) -> int:
    return value.find(_text(part, "indexOf()"))


def _last_index_of(value: str, part: Any) -> int:
    return value.rfind(_text(part, "lastIndexOf()"))


def _matches(value: str, pattern: Any) -> bool:
    return compile_regex(pattern, "matches()").fullmatch(value) is not None


STRING_METHODS: dict[str, Function] = {
    "toUpperCase": lambda value: value.upper(),
    "toLowerCase": lambda value: value.lower(),
    "trim": lambda value: value.strip(_JAVA_TRIM),
    "length": len,
    "isEmpty": lambda value: value == "",
    "substring": _substring,
    "split": _split,
    "contains": lambda value, part: _text(part, "contains()") in value,
    "startsWith": lambda value, part: value.startswith(_text(part, "startsWith()")),
    "endsWith": lambda value, part: value.endswith(_text(part, "endsWith()")),
    "replace": _replace,
    "concat": lambda value, other: _joined(value, _text(other, "concat()")),
    "indexOf": _index_of,
    "lastIndexOf": _last_index_of,
    "equals": lambda value, other: isinstance(other, str) and value == other,
    "equalsIgnoreCase": lambda value, other: isinstance(other, str) and value.lower() == other.lower(),
    "matches": _matches,
}

LIST_METHODS: dict[str, Function] = {
    "size": len,
    "isEmpty": lambda value: len(value) == 0,
    "contains": lambda value, item: any(equal(element, item) for element in value),
}

MAP_METHODS: dict[str, Function] = {
    "size": len,
    "isEmpty": lambda value: len(value) == 0,
    "containsKey": lambda value, key: isinstance(key, str | int) and key in value,
}

ANY_METHODS: dict[str, Function] = {"toString": to_text}


def _methods_for(value: Any) -> dict[str, Function]:
    if isinstance(value, str):
        return STRING_METHODS
    if isinstance(value, list | tuple):
        return LIST_METHODS
    if isinstance(value, dict):
        return MAP_METHODS
    return {}


def call_method(value: Any, name: str, args: list[Any]) -> Any:
    """value.name(args) when name is allowed for value's type; ExpressionError otherwise."""
    methods = {**ANY_METHODS, **_methods_for(value)}
    function = methods.get(name)
    if function is None:
        allowed = ", ".join(sorted(methods))
        raise ExpressionError(f"{name}() is not a method of a {type_name(value)}; allowed: {allowed}")
    return _call(function, f"{name}()", value, *args)


def _call(function: Function, label: str, *args: Any) -> Any:
    try:
        inspect.signature(function).bind(*args)
    except TypeError as exc:
        raise ExpressionError(f"{label} was called with the wrong number of arguments") from exc
    return function(*args)


# -- json -------------------------------------------------------------------------------


def _document(source: Any, function: str) -> Any:
    if isinstance(source, dict | list):
        return source
    try:
        return json.loads(_text(source, function, "JSON text"))
    except (ValueError, RecursionError) as exc:
        raise ExpressionError(f"{function}: the text is not valid JSON") from exc


def _select_path(path: Any, document: Any, function: str) -> Any:
    text = _text(path, function, "path").strip()
    text = text[1:] if text.startswith("$") else text
    current, position = document, 0
    while position < len(text):
        step = _PATH_STEP.match(text, position)
        if step is None:
            raise ExpressionError(f"{function}: cannot read the path '{path}' at position {position}")
        position = step.end()
        key, number, single, double = step.groups()
        if number is not None:
            found = isinstance(current, list) and int(number) < len(current)
            current = current[int(number)] if found else Unresolved(str(path))
        else:
            name = key if key is not None else single if single is not None else double
            found = isinstance(current, dict) and name in current
            current = current[name] if found else Unresolved(str(path))
        if isinstance(current, Unresolved):
            raise Unresolved(f'{function}("{path}")', detail=f"nothing at '{path}'")
    return current


def _json_select(path: Any, source: Any) -> Any:
    return _select_path(path, _document(source, "json.select()"), "json.select()")


def _json_list(path: Any, source: Any) -> list[Any]:
    found = _select_path(path, _document(source, "json.list()"), "json.list()")
    if not isinstance(found, list):
        raise ExpressionError(f"json.list(): the value at '{path}' is a {type_name(found)}, not a list")
    return found


def _json_format(value: Any) -> str:
    return value if isinstance(value, str) else to_text(value)


# -- regex ------------------------------------------------------------------------------


def _regex_match(pattern: Any, text: Any) -> bool:
    return compile_regex(pattern, "regex.match()").search(_text(text, "regex.match()", "text")) is not None


def _regex_extract(pattern: Any, text: Any) -> str:
    found = compile_regex(pattern, "regex.extract()").search(_text(text, "regex.extract()", "text"))
    return found.group(0) if found else ""


def _regex_replace(pattern: Any, text: Any, replacement: Any) -> str:
    regex = compile_regex(pattern, "regex.replace()")
    pieces = _java_replacement(_text(replacement, "regex.replace()", "replacement"), regex)
    source = _text(text, "regex.replace()", "text")
    return regex.sub(lambda match: "".join(_expand(piece, match) for piece in pieces), source)


def _expand(piece: str | int, match: Any) -> str:
    if isinstance(piece, str):
        return piece
    return match.group(piece) or ""


def _java_replacement(replacement: str, regex: BoundedPattern) -> list[str | int]:
    """Java's replacement syntax: $1 and ${name} are groups, a backslash quotes the next char."""
    pieces: list[str | int] = []
    i = 0
    while i < len(replacement):
        char = replacement[i]
        if char == "\\" and i + 1 < len(replacement):
            pieces.append(replacement[i + 1])
            i += 2
        elif char == "$":
            group, i = _group_reference(replacement, i + 1, regex)
            pieces.append(group)
        else:
            pieces.append(char)
            i += 1
    return pieces


def _group_reference(replacement: str, i: int, regex: BoundedPattern) -> tuple[int, int]:
    if replacement.startswith("{", i):
        end = replacement.find("}", i)
        name = replacement[i + 1 : end] if end > 0 else ""
        if name not in regex.groupindex:
            raise ExpressionError(f"regex.replace(): no group named '{name}' in the pattern")
        return regex.groupindex[name], end + 1
    digits = re.match(r"[0-9]+", replacement[i:])
    if digits is None:
        raise ExpressionError("regex.replace(): '$' must be followed by a group number or {name}")
    # like Java, take as many digits as still name an existing group
    number, used = int(digits.group(0)[0]), 1
    while used < len(digits.group(0)) and int(digits.group(0)[: used + 1]) <= regex.groups:
        used += 1
        number = int(digits.group(0)[:used])
    if number > regex.groups:
        raise ExpressionError(f"regex.replace(): the pattern has no group {number}")
    return number, i + used


FUNCTIONS: dict[str, dict[str, Function]] = {
    "json": {
        "select": _json_select,
        "list": _json_list,
        "object": lambda source: _document(source, "json.object()"),
        "format": _json_format,
    },
    "regex": {"match": _regex_match, "extract": _regex_extract, "replace": _regex_replace},
}


def call_function(namespace: str, name: str, args: list[Any]) -> Any:
    """namespace.name(args) for the functions above."""
    function = FUNCTIONS[namespace].get(name)
    if function is None:
        allowed = ", ".join(f"{namespace}.{known}" for known in FUNCTIONS[namespace])
        raise ExpressionError(f"{namespace}.{name}() is not a function; allowed: {allowed}")
    return _call(function, f"{namespace}.{name}()", *args)
