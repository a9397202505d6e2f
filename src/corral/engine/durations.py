"""Harness duration strings: `10m`, `1h30m`, `45s`, `1d`, `2w`, `500ms` (a bare number is seconds)."""

from __future__ import annotations

import re

_UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|w|d|h|m|s)")
_WHOLE = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*(?:ms|w|d|h|m|s))+\s*")


def parse_duration(text: str | int | float, *, what: str = "duration") -> float:
    """Seconds in a duration; ValueError saying what was expected otherwise."""
    if isinstance(text, bool):
        raise ValueError(f"expected a {what} such as 10m, 1h30m or 45s, got {text!r}")
    if isinstance(text, int | float):
        return float(text)
    value = text.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", value):
        return float(value)
    if not value or not _WHOLE.fullmatch(value):
        raise ValueError(f"expected a {what} such as 10m, 1h30m or 45s, got {text!r}")
    return sum(float(number) * _UNITS[unit] for number, unit in _PART.findall(value))


def format_duration(seconds: float) -> str:
    """`1h30m`, `45s`, `250ms`: the short form people write."""
    if seconds < 1:
        return f"{round(seconds * 1000)}ms"
    out, rest = "", round(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out += f"{rest // size}{unit}"
            rest %= size
    return out or "0s"
