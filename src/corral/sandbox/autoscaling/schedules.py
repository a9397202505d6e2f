"""Schedule expressions of scheduled actions: when an action runs next.

What AWS documents for PutScheduledAction's `Schedule` (Application Auto Scaling API Reference,
https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html, and
the User Guide's "Schedule recurring scaling actions using cron expressions"):

- `at(yyyy-mm-ddThh:mm:ss)`: once, at that moment in `Timezone` (UTC when none is given);
- `rate(value unit)`: every `value` minutes, hours or days (unit `minute|minutes|hour|hours|day|days`);
- `cron(Minutes Hours Day-of-month Month Day-of-week Year)`: six fields, in `Timezone`; one of
  day-of-month and day-of-week must be `?`; days of the week are 1-7 (1 = Sunday) or SUN-SAT.

`StartTime` and `EndTime` bound a recurring schedule. The sandbox reads `*`, `?`, numbers, names,
ranges, lists and increments (`a/n`, `*/n`); `L`, `W` and `#` are refused with a
ValidationException that says the sandbox does not read them (AWS accepts them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .exceptions import ValidationException

_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_CRON = re.compile(r"^cron\((.+)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
_DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]
# (low, high, names) per cron field; names map to low, low + 1, ...
_FIELDS = (
    ("Minutes", 0, 59, ()),
    ("Hours", 0, 23, ()),
    ("Day-of-month", 1, 31, ()),
    ("Month", 1, 12, _MONTHS),
    ("Day-of-week", 1, 7, _DAYS),
    ("Year", 1970, 2199, ()),
)
_SEARCH_DAYS = 366 * 5  # a cron that matches no day in five years never runs


def _invalid(schedule: str, why: str) -> ValidationException:
    return ValidationException(f"Invalid schedule expression {schedule}: {why}")


def zone(name: str | None) -> ZoneInfo:
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationException(f"Time zone {name} is not a valid IANA time zone.") from None


@dataclass(frozen=True)
class Schedule:
    """A parsed schedule; `next_after(t)` is its first run strictly after `t` (None: never)."""

    text: str
    tz: ZoneInfo
    at: float | None = None
    every: int | None = None  # seconds, for rate()
    cron: tuple[frozenset[int], ...] | None = None

    def next_after(self, t: float, *, first: float) -> float | None:
        """`first`: a rate's first run (StartTime, else one interval after it was put)."""
        if self.at is not None:
            return self.at if self.at > t else None
        if self.every is not None:
            if t < first:
                return first
            return first + (int((t - first) // self.every) + 1) * self.every
        assert self.cron is not None
        return _next_cron(self.cron, self.tz, t)


def parse(text: str, timezone: str | None) -> Schedule:
    tz = zone(timezone)
    text = text.strip()
    if m := _AT.match(text):
        try:
            local = dt.datetime.fromisoformat(m.group(1))
        except ValueError:
            raise _invalid(text, "the date and time do not exist") from None
        return Schedule(text, tz, at=local.replace(tzinfo=tz).timestamp())
    if m := _RATE.match(text):
        value, unit = int(m.group(1)), m.group(2).rstrip("s")
        if value < 1:
            raise _invalid(text, "the rate value must be a positive integer")
        if (value == 1) != (m.group(2) == unit):
            raise _invalid(text, f"use '{unit}' for a value of 1 and '{unit}s' otherwise")
        return Schedule(text, tz, every=value * _UNIT_SECONDS[unit])
    if m := _CRON.match(text):
        return Schedule(text, tz, cron=_parse_cron(text, m.group(1).split()))
    raise _invalid(text, "expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields)")


def _parse_cron(text: str, fields: list[str]) -> tuple[frozenset[int], ...]:
    if len(fields) != 6:
        raise _invalid(
            text, "a cron expression has six fields: minutes hours day-of-month month day-of-week year"
        )
    if (fields[2] == "?") == (fields[4] == "?"):
        raise _invalid(text, "exactly one of day-of-month and day-of-week must be '?'")
    return tuple(_parse_field(text, raw, spec) for raw, spec in zip(fields, _FIELDS, strict=True))


def _parse_field(text: str, raw: str, spec: tuple[str, int, int, Sequence[str]]) -> frozenset[int]:
    name, low, high, names = spec
    if any(c in raw for c in "LW#"):
        raise _invalid(text, f"the sandbox does not read L, W or # (field {name})")
    values: set[int] = set()
    for part in raw.split(","):
        base, _, step_text = part.partition("/")
        step = _number(text, step_text, name, names, low) if step_text else 1
        if base in ("*", "?"):
            first, last = low, high
        elif "-" in base:
            a, b = base.split("-", 1)
            first, last = _number(text, a, name, names, low), _number(text, b, name, names, low)
        else:
            first = _number(text, base, name, names, low)
            last = high if step_text else first
        if not low <= first <= high or not low <= last <= high or first > last or step < 1:
            raise _invalid(text, f"field {name} must be within {low}-{high}")
        values.update(range(first, last + 1, step))
    return frozenset(values)


def _number(text: str, raw: str, name: str, names: Sequence[str], low: int) -> int:
    if raw.upper() in names:
        return low + names.index(raw.upper())
    if not raw.isdigit():
        raise _invalid(text, f"field {name} has {raw!r}")
    return int(raw)


def _next_cron(fields: tuple[frozenset[int], ...], tz: ZoneInfo, t: float) -> float | None:
    minutes, hours, days, months, weekdays, years = fields
    start = dt.datetime.fromtimestamp(t, tz).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    day = start.date()
    for _ in range(_SEARCH_DAYS):
        # isoweekday: Monday 1 .. Sunday 7; cron: Sunday 1 .. Saturday 7
        if (
            day.year in years
            and day.month in months
            and day.day in days
            and day.isoweekday() % 7 + 1 in weekdays
        ):
            for hour in sorted(hours):
                for minute in sorted(minutes):
                    moment = dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=tz)
                    if moment >= start:
                        return moment.timestamp()
        day += dt.timedelta(days=1)
    return None
