"""Sandbox time: real time scaled by `speed`, plus whatever an admin call advanced it by.

Everything that takes time in the sandbox (task start, health checks, draining, grace
periods) is measured on this clock, so `--speed 10` makes a 30 s health check interval
last 3 real seconds. API throttling is not sandbox time: it refills in real time, because
it limits the real calls a tool makes.
"""

from __future__ import annotations

import datetime as dt
import time


class Clock:
    def __init__(self, *, speed: float = 1.0, start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self._origin_sandbox = time.time() if start is None else start
        self._origin_real = time.monotonic()

    def now(self) -> float:
        """Sandbox time as seconds since the Unix epoch."""
        return self._origin_sandbox + (time.monotonic() - self._origin_real) * self.speed

    def now_dt(self) -> dt.datetime:
        return dt.datetime.fromtimestamp(self.now(), tz=dt.UTC)

    def real_seconds_until(self, when: float) -> float:
        return max(0.0, (when - self.now()) / self.speed)

    def advance(self, seconds: float) -> None:
        """Jump sandbox time forward (admin API); due timers then fire in order."""
        self._origin_sandbox += seconds

    def __getstate__(self) -> dict[str, float]:
        return {"speed": self.speed, "now": self.now()}

    def __setstate__(self, state: dict[str, float]) -> None:
        self.speed = state["speed"]
        self._origin_sandbox = state["now"]
        self._origin_real = time.monotonic()


def to_datetime(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
