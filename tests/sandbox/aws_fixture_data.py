"""Facts from AWS's documentation (tests/sandbox/aws_fixtures/*.yaml), read for the tests that compare
the sandbox with them. Each entry names its source page; see aws_fixtures/README.md."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import yaml

FIXTURES = Path(__file__).parent / "aws_fixtures"


@cache
def entries(topic: str) -> tuple[dict[str, Any], ...]:
    """The entries of `aws_fixtures/<topic>.yaml`, in file order."""
    document = yaml.safe_load((FIXTURES / f"{topic}.yaml").read_text())
    return tuple(document["entries"])


def entry(topic: str, entry_id: str) -> dict[str, Any]:
    found = [e for e in entries(topic) if e["id"] == entry_id]
    if len(found) != 1:
        raise KeyError(f"aws_fixtures/{topic}.yaml has {len(found)} entries with id {entry_id!r}")
    return found[0]


def topics() -> list[str]:
    return sorted(path.stem for path in FIXTURES.glob("*.yaml"))


def fill(template: str, **values: str) -> str:
    """A fixture's message template with its `{name}` placeholders filled in."""
    return " ".join(template.split()).format(**values)
