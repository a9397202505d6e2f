"""Errors a Corral user sees.

    CorralError                 base of every error Corral reports on purpose
     ├── ConfigError            bad project input: a list of Problems (file, path, expected)
     ├── ExpressionError        a <+...> expression that cannot be parsed or resolved
     └── DeploymentError        a step failed against AWS (ECS reason and events in the text)

A message names the file, the path inside it and what was expected, never a Python function.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


class CorralError(Exception):
    """Base of every error Corral reports on purpose (exit code 2 for input errors)."""


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input: where it is and what was expected."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


def format_path(parts: Iterable[str | int]) -> str:
    """Render ('containerDefinitions', 0, 'portMappings') as containerDefinitions[0].portMappings."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


class ConfigError(CorralError):
    """The project's input is wrong; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(dict.fromkeys(problems))  # the same problem found twice is said once
        super().__init__(self.render())

    def render(self) -> str:
        lines = [f"{len(self.problems)} problem(s) found:"] if len(self.problems) > 1 else []
        lines += [str(p) for p in self.problems]
        return "\n".join(lines)


class ExpressionError(CorralError):
    """An expression that cannot be parsed (position given) or resolved."""

    def __init__(self, message: str, *, expression: str = "", position: int | None = None) -> None:
        self.expression = expression
        self.position = position
        self.detail = message
        text = message
        if position is not None and expression:
            text = f"{message} at position {position} in '{expression}'"
        elif expression:
            text = f"{message} in '{expression}'"
        super().__init__(text)


class DeploymentError(CorralError):
    """A deployment step failed; the message carries the ECS reason and recent events."""
