"""Find what a document asks for before rendering it: runtime inputs and expressions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from corral.errors import ExpressionError, format_path
from corral.expressions.inputs import WHOLE_VALUE, InputSpec, input_spec
from corral.expressions.nodes import InputRef
from corral.expressions.parser import parse_at
from corral.expressions.values import located

PathParts = tuple[str | int, ...]


def find_inputs(value: Any, *, path: str = "") -> list[InputSpec]:
    """Every <+input> in value (nested dicts, lists, strings), in document order, with its path."""
    specs = []
    for parts, text in string_leaves(value, (path,) if path else (), keys=False):
        if "<+" not in text:
            continue
        where = format_path(parts)
        template = parse_at(text, where)
        refs = [part for part in template.parts if isinstance(part, InputRef)]
        if not refs:
            continue
        if not template.is_single:
            raise ExpressionError(located(where, WHOLE_VALUE), expression=text, position=refs[0].pos)
        specs.append(input_spec(refs[0], where))
    return specs


def find_expressions(value: Any, *, path: str = "") -> list[tuple[str, str]]:
    """(path, text) of every top-level <+...>, <+input> and FirstGen ${...} in value."""
    found = []
    for parts, text in string_leaves(value, (path,) if path else (), keys=True):
        if "<+" in text or "${" in text:
            where = format_path(parts)
            found += [(where, expression) for expression in parse_at(text, where).expressions()]
    return found


def string_leaves(
    value: Any, parts: PathParts = (), *, keys: bool = False
) -> Iterator[tuple[PathParts, str]]:
    """(path parts, string) for every string in value; a key's path is its entry's."""
    if isinstance(value, str):
        yield parts, value
    elif isinstance(value, dict):
        for key, item in value.items():
            entry = (*parts, key if isinstance(key, str) else str(key))
            if keys and isinstance(key, str):
                yield entry, key
            yield from string_leaves(item, entry, keys=keys)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from string_leaves(item, (*parts, index), keys=keys)
