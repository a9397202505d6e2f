"""Container health checks as pure functions of time.

A container's checks run every `interval` seconds after it started. A check passes once the
image behaviour says so (`health_check: pass`, and `healthy_after` has elapsed). Failures
inside `startPeriod` do not count; a pass at any time makes the container HEALTHY at once;
`retries` counted failures in a row make it UNHEALTHY. The sandbox schedules only the
moments the status changes, never each check.
"""

from __future__ import annotations

import math

from ..core.images import ImageBehaviour
from .task_definitions import HealthCheck

HEALTHY = "HEALTHY"
UNHEALTHY = "UNHEALTHY"
UNKNOWN = "UNKNOWN"


def container_timeline(
    started: float, check: HealthCheck, image: ImageBehaviour, first_check: float | None = None
) -> list[tuple[float, str]]:
    """The moments a container's health status changes after `started`, in order (at most two).

    Check k (1 = first) runs `first_check + (k - 1) * interval` after the start; `first_check`
    is one interval unless the sandbox's timing jitter drew another (core/timing_jitter.py)."""
    first = check.interval if first_check is None else first_check
    first_pass = _first_passing_check(check, image, first)
    first_counted = _first_check_at_or_after(check.start_period, check.interval, first)
    unhealthy_check = first_counted + check.retries - 1
    timeline: list[tuple[float, str]] = []

    def at(index: int) -> float:
        return started + first + (index - 1) * check.interval

    if first_pass is None or unhealthy_check < first_pass:
        timeline.append((at(unhealthy_check), UNHEALTHY))
    if first_pass is not None:
        timeline.append((at(first_pass), HEALTHY))
    return timeline


def _first_check_at_or_after(seconds: float, interval: float, first: float) -> int:
    """Index (1 = first) of the first check `seconds` or more after the start."""
    return max(1, 1 + math.ceil((seconds - first) / interval - 1e-9))


def _first_passing_check(check: HealthCheck, image: ImageBehaviour, first: float) -> int | None:
    """Index (1 = first) of the first check that passes, or None if none ever does."""
    if image.health_check != "pass":
        return None
    return _first_check_at_or_after(image.healthy_after, check.interval, first)


def task_health(statuses: list[tuple[bool, str]]) -> str:
    """Task health from its containers' (essential, status): the reference's three rules."""
    essential = [status for is_essential, status in statuses if is_essential]
    if UNHEALTHY in essential:
        return UNHEALTHY
    if not essential or UNKNOWN in essential:
        return UNKNOWN
    return HEALTHY
