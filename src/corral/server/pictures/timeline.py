"""One time axis for a deployment: when each step ran (its boundaries) and what ECS said while
they ran, as the steps logged it: service events (`# AWS Event: <time> <message>`, see
`ecs.steady_state.event_lines`) and, for ECS's own strategies, each change of status or
lifecycle stage of the service deployment (`Service deployment ID STATUS, stage STAGE: ...`,
see `ecs.native.progress.progress_text`).

An event is placed when Corral saw it (its log line's time), and keeps the time ECS gave it as
text: ECS's `createdAt` comes from AWS's clock (or the sandbox's, which runs faster than the
wall clock at a speed factor), so only the log time is on the same clock as the step boundaries.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Protocol

EVENT_PREFIX = "# AWS Event: "
_EVENT = re.compile(
    r"^# AWS Event: (?P<time>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)?) (?P<message>.*)$", re.S
)
_SERVICE = re.compile(r"\(service ([^)\s]+)\)")
_SERVICE_DEPLOYMENT = re.compile(
    r"^Service deployment (?P<id>\S+) (?P<status>[A-Z_]+)(?:, stage (?P<stage>[A-Z_]+))?(?::|$)"
)


class StepLike(Protocol):
    key: str
    stage_key: str
    name: str
    type: str
    phase: str
    status: str
    started_at: float | None
    ended_at: float | None


class LogLike(Protocol):
    step_key: str
    at: float
    message: str


def ecs_event(message: str) -> dict[str, str] | None:
    """The ECS time, service and message of a logged service event; None for other lines."""
    found = _EVENT.match(message)
    if found is None:
        return None
    service = _SERVICE.search(found["message"])
    return {
        "ecs_time": found["time"],
        "service": service.group(1) if service else "",
        "message": found["message"],
    }


def service_deployment_state(message: str) -> tuple[str, str, str] | None:
    """(id, status, lifecycle stage) of a logged service deployment progress line; else None."""
    found = _SERVICE_DEPLOYMENT.match(message)
    return None if found is None else (found["id"], found["status"], found["stage"] or "")


def deployment_timeline(steps: Iterable[StepLike], logs: Iterable[LogLike], *, now: float) -> dict[str, Any]:
    """Steps that started (groups left out: their steps are drawn) and ECS events, oldest first;
    `start`/`end` span both (a running step ends at `now`)."""
    ran = steps_ran(steps)
    bars = [
        {
            "key": s.key,
            "stage_key": s.stage_key,
            "name": s.name,
            "type": s.type,
            "phase": s.phase,
            "status": s.status,
            "started_at": s.started_at,
            "ended_at": s.ended_at,
        }
        for s in ran
    ]
    events: list[dict[str, Any]] = []
    last_state: dict[str, tuple[str, str]] = {}  # service deployment -> (status, stage) last shown
    for line in logs:
        event = ecs_event(line.message)
        if event is not None:
            events.append({"at": line.at, "step_key": line.step_key, "kind": "service-event", **event})
            continue
        state = service_deployment_state(line.message)
        if state is not None and last_state.get(state[0]) != state[1:]:
            last_state[state[0]] = state[1:]  # only changes: progress lines repeat while tasks start
            events.append(
                {
                    "at": line.at,
                    "step_key": line.step_key,
                    "kind": "service-deployment",
                    "ecs_time": "",
                    "service": "",
                    "message": line.message,
                }
            )
    times = [s.started_at or now for s in ran] + [float(e["at"]) for e in events]
    ends = [s.ended_at or now for s in ran] + [float(e["at"]) for e in events]
    return {
        "start": min(times) if times else None,
        "end": max(ends) if ends else None,
        "steps": sorted(bars, key=lambda b: float(b["started_at"])),
        "events": sorted(events, key=lambda e: float(e["at"])),
    }


def steps_ran(steps: Iterable[StepLike]) -> list[StepLike]:
    """The steps that started; step groups left out (their steps are drawn)."""
    return [s for s in steps if s.started_at is not None and s.type != "StepGroup"]
