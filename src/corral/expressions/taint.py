"""Marked text: strings that came from a secret or from a run-time input, and stay marked.

    Marked("s3cr3t", secrets={"db_password"})   a secret's value, or a value computed from one
    runtime_text("hi; rm -rf /")                 a value someone typed at run time (CLI, API, UI)

Python's own string methods return plain `str`, so marks do not travel by themselves: the
evaluator marks the result of every function, method and operator whose inputs carried a
mark (`carry`), lists and maps included. Two things rely on the marks:
    - the masker hides every secret-marked string an expression produced, not only the
      secret as stored (`<+secrets.getValue("k").toUpperCase()>` is masked too);
    - a ShellScript body never pastes a run-time-marked value as shell text
      (engine/shell_quoting.py).
Numbers and booleans carry no mark: `length()` of a secret is a number anyone may see.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import yaml


class Marked(str):
    """A string computed from the secrets named in `secrets` and/or from a run-time input."""

    secrets: frozenset[str]
    runtime: bool

    def __new__(cls, value: str, *, secrets: Iterable[str] = (), runtime: bool = False) -> Marked:
        text = super().__new__(cls, value)
        text.secrets = frozenset(secrets)
        text.runtime = runtime
        return text

    def __getnewargs_ex__(self) -> tuple[tuple[str], dict[str, Any]]:  # copy, deepcopy, pickle
        return (str(self),), {"secrets": self.secrets, "runtime": self.runtime}


def _represent(dumper: yaml.SafeDumper, text: Marked) -> yaml.Node:
    return dumper.represent_str(str(text))


yaml.SafeDumper.add_representer(Marked, _represent)  # YAML shows marked text as the text it is


def marks(*values: Any) -> tuple[frozenset[str], bool]:
    """(secret identifiers, came from a run-time input) of everything inside values."""
    secrets: set[str] = set()
    runtime = False
    stack = list(values)
    while stack:
        value = stack.pop()
        if isinstance(value, Marked):
            secrets |= value.secrets
            runtime = runtime or value.runtime
        elif isinstance(value, dict):
            stack.extend(value.keys())
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
    return frozenset(secrets), runtime


def mark(value: Any, *, secrets: Iterable[str] = (), runtime: bool = False) -> Any:
    """value with every string in it (map keys too) marked as well; other values as they are."""
    names = frozenset(secrets)
    if not names and not runtime:
        return value
    if isinstance(value, str):
        old_secrets, old_runtime = marks(value)
        return Marked(value, secrets=names | old_secrets, runtime=runtime or old_runtime)
    if isinstance(value, dict):
        return {
            mark(k, secrets=names, runtime=runtime): mark(v, secrets=names, runtime=runtime)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        items = [mark(item, secrets=names, runtime=runtime) for item in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def carry(result: Any, *inputs: Any) -> Any:
    """result, marked with every mark its inputs carried."""
    secrets, runtime = marks(*inputs)
    return mark(result, secrets=secrets, runtime=runtime)


def runtime_text(value: Any) -> Any:
    """A run-time input's value (CLI --input, API, UI form), marked as such; plain data kept."""
    return mark(value, runtime=True)


def is_runtime(value: Any) -> bool:
    """True when value, or anything inside it, came from a run-time input."""
    return marks(value)[1]


def secret_strings(value: Any) -> list[Marked]:
    """Every secret-marked string inside value (map keys too)."""
    found: list[Marked] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, Marked):
            if item.secrets:
                found.append(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return found
