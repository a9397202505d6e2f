"""Run-time input values are data: what a deployer types is never evaluated as an expression.

A value given at run time (`corral run --input`, the API's `inputs`, the UI's form) is put
into the pipeline where its `<+input>` stands; the pipeline is then rendered several times
(inputs, then what the interpreter knows, then secrets where the step runs). So that no
later pass reads `<+...>` or `${...}` in such a value, `protect` writes a word joiner (U+2060)
inside each opening, and `reveal` takes it out once the step's spec is final, just before
the step runs: the step sees exactly the text that was typed, and nothing was evaluated.
Input sets, defaults and triggers are project files: their expressions keep working.
"""

from __future__ import annotations

from typing import Any

_JOINER = "\u2060"
_OPENINGS = (("<+", f"<{_JOINER}+"), ("${", f"${_JOINER}{{"))


def protect(value: Any) -> Any:
    """value with every expression opening made inert (strings inside lists and maps too)."""
    if isinstance(value, str):
        for opening, inert in _OPENINGS:
            value = value.replace(opening, inert)
        return value
    if isinstance(value, dict):
        return {key: protect(item) for key, item in value.items()}
    if isinstance(value, list):
        return [protect(item) for item in value]
    return value


def reveal(value: Any) -> Any:
    """The text as typed again; only for a step's final spec, after the last rendering."""
    if isinstance(value, str):
        if _JOINER not in value:
            return value
        for opening, inert in _OPENINGS:
            value = value.replace(inert, opening)
        return value
    if isinstance(value, dict):
        return {key: reveal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [reveal(item) for item in value]
    return value


def has_expression_text(value: Any) -> bool:
    """True when value (or a string inside it) would be read as an expression or placeholder."""
    if isinstance(value, str):
        return any(opening in value for opening, _ in _OPENINGS)
    if isinstance(value, dict):
        return any(has_expression_text(v) for v in value.values())
    if isinstance(value, list):
        return any(has_expression_text(v) for v in value)
    return False
