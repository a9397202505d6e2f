"""What a person reads under a failed step: ECS's reason, the stopped tasks' reasons and the
service's last events, each once.

A deploy step's error is ECS's reason on its first line, then one `  task ID: why` line per
stopped task, then `Recent events:` and `  HH:MM:SS message` lines (corral.ecs.steady_state).
When that block is empty (the service could not be described before the step gave up), the
events the step logged while it waited (`# AWS Event: ...` lines) stand in for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

EVENTS_SHOWN = 5  # as many as the step's error shows (corral.ecs.steady_state.RECENT_EVENTS)
EVENTS_HEADER = "Recent events:"
_AWS_EVENT = re.compile(r"^# AWS Event: \d{4}-\d\d-\d\d (\d\d:\d\d:\d\d)\.\d+ (.*)$")


@dataclass(frozen=True)
class Failure:
    headline: str
    details: list[str] = field(default_factory=list)  # stopped tasks' reasons and other lines
    events: list[str] = field(default_factory=list)  # `HH:MM:SS message`, newest first


def parse_error(error: str) -> Failure:
    """The error's first line, its other lines, and the events of its `Recent events:` block."""
    lines = error.splitlines() or [""]
    details: list[str] = []
    events: list[str] = []
    in_events = False
    for line in lines[1:]:
        if line.strip() == EVENTS_HEADER:
            in_events = True
        elif in_events and line.startswith("  "):
            if line.strip():
                events.append(line.strip())
        elif line.strip():
            in_events = False
            details.append(line.strip())
    return Failure(lines[0], details, events)


def logged_event(message: str) -> str | None:
    """A step log line that holds an ECS service event, as `HH:MM:SS message`; None otherwise."""
    found = _AWS_EVENT.match(message)
    return f"{found.group(1)} {found.group(2)}" if found else None


def failure_lines(error: str, logged: list[str]) -> list[str]:
    """The lines shown under a failed step: details, then `ECS events:` (the error's own, else the
    newest the step logged, newest first)."""
    failure = parse_error(error)
    events = failure.events or list(reversed(logged[-EVENTS_SHOWN:]))
    out = list(failure.details)
    if events:
        out.append("ECS events (newest first):")
        out.extend(f"  {event}" for event in events)
    return out


def headline(error: str | None) -> str:
    return (error or "").splitlines()[0] if error else ""
