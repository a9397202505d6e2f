"""What time it is at the AWS endpoint, learned from the `Date` header of its answers.

A waiter that knows ECS cannot settle before ECS time E (settle_forecast.py) needs the local
moment ECS's clock reaches E. ECS's timestamps are on the endpoint's clock, not ours (a skewed
machine; the sandbox's clock runs `--speed` times faster), so this learns the mapping from the
answers themselves: every HTTP answer carries `Date`, the server's time to the second (RFC 9110,
section 6.6.1), which botocore keeps in `ResponseMetadata.HTTPHeaders`.

Each answer says: at some local moment between sending and receiving, the endpoint's clock read
between D and D + 1. From the first answer A and the newest B this bounds the clock's rate, and so
`earliest_local(E)`, the first local (time.monotonic) moment the endpoint's clock can read E. It
errs early, never late: a waiter may look once too often, never too late. None until the answers
span `MIN_SPAN` local seconds (a rate from a shorter span is too loose to be worth using).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

MIN_SPAN = 1.0  # local seconds between the first and newest answers before the rate is trusted
DATE_RESOLUTION = 1.0  # HTTP-date has whole seconds


@dataclass(frozen=True)
class _Sample:
    sent: float  # time.monotonic() when the request left
    received: float  # ... and when its answer arrived
    date: float  # the endpoint's clock (epoch seconds, floored to the second)


def header_time(value: str | None) -> float | None:
    """An HTTP-date header as epoch seconds, or None when absent or unreadable."""
    if not value:
        return None
    try:
        return parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None


class EcsClock:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._first: _Sample | None = None
        self._newest: _Sample | None = None

    def observe(self, sent: float, received: float, date_header: str | None) -> None:
        date = header_time(date_header)
        if date is None:
            return
        sample = _Sample(sent, received, date)
        with self._lock:
            newest = self._newest
            if self._first is None or newest is None or date + DATE_RESOLUTION < newest.date:
                self._first = sample  # the first answer, or the endpoint's clock went back: start over
            self._newest = sample

    def rate_bounds(self) -> tuple[float, float] | None:
        """(lowest, highest) endpoint seconds per local second consistent with the answers."""
        with self._lock:
            first, newest = self._first, self._newest
        if first is None or newest is None or newest.sent - first.received < MIN_SPAN:
            return None
        advanced = newest.date - first.date
        highest = (advanced + DATE_RESOLUTION) / (newest.sent - first.received)
        lowest = max(0.0, (advanced - DATE_RESOLUTION) / (newest.received - first.sent))
        return lowest, highest

    def now_at_most(self, at: float) -> float | None:
        """The latest the endpoint's clock can read at local moment `at` (>= the newest answer)."""
        bounds = self.rate_bounds()
        with self._lock:
            newest = self._newest
        if bounds is None or newest is None:
            return None
        return newest.date + DATE_RESOLUTION + bounds[1] * max(0.0, at - newest.sent)

    def now_at_least(self) -> float | None:
        """The earliest the endpoint's clock read when the newest answer was made."""
        with self._lock:
            return self._newest.date if self._newest is not None else None

    def earliest_local(self, ecs_time: float) -> float | None:
        """The first local moment (time.monotonic) the endpoint's clock can read `ecs_time`."""
        bounds = self.rate_bounds()
        with self._lock:
            newest = self._newest
        if bounds is None or newest is None or bounds[1] <= 0:
            return None
        # the endpoint's clock reads at most D + 1 + highest rate * (t - sent) at local t; a moment
        # already past comes out before the newest answer (how long ago it came, at the latest)
        return newest.sent + (ecs_time - (newest.date + DATE_RESOLUTION)) / bounds[1]
