"""Scheduled actions: a scalable target's min/max capacity changed at set times.

As the Application Auto Scaling API Reference describes PutScheduledAction
(https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html):
an action belongs to a registered scalable target, its name is unique on that target, putting
it again updates what it names (members left out are kept, except StartTime and EndTime, which are
deleted: "If you don't specify start and end times, the old values are deleted"), and deregistering the target
deletes its actions. At the scheduled time the target's MinCapacity/MaxCapacity become those of
`ScalableTargetAction` (either or both), and the resource is scaled out to a new minimum or in
to a new maximum that its current capacity is outside of.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.clock import to_datetime
from ..core.timers import Timer
from .exceptions import ValidationException
from .schedules import Schedule, parse
from .targets import TargetKey


@dataclass
class ScheduledAction:
    key: TargetKey
    name: str
    arn: str
    schedule: Schedule
    timezone: str | None
    start: float | None
    end: float | None
    min_capacity: int | None
    max_capacity: int | None
    created: float
    first_rate_run: float  # a rate()'s first run: StartTime, else one interval after the put
    timer: Timer | None = field(default=None, repr=False)

    def next_run(self, after: float) -> float | None:
        """The first run strictly after `after` within StartTime..EndTime; None: no more runs."""
        t = after if self.start is None else max(after, self.start - 1e-6)
        when = self.schedule.next_after(t, first=self.first_rate_run)
        if when is None or (self.end is not None and when > self.end):
            return None
        return when

    def kept(self) -> dict[str, Any]:
        """What an update that leaves these members out keeps."""
        kept: dict[str, Any] = {"Schedule": self.schedule.text, "ScalableTargetAction": self._action()}
        if self.timezone:
            kept["Timezone"] = self.timezone
        return kept

    def _action(self) -> dict[str, int]:
        action: dict[str, int] = {}
        if self.min_capacity is not None:
            action["MinCapacity"] = self.min_capacity
        if self.max_capacity is not None:
            action["MaxCapacity"] = self.max_capacity
        return action

    def to_api(self) -> dict[str, Any]:
        action = self._action()
        out: dict[str, Any] = {
            "ScheduledActionName": self.name,
            "ScheduledActionARN": self.arn,
            "ServiceNamespace": self.key.namespace,
            "Schedule": self.schedule.text,
            "ResourceId": self.key.resource_id,
            "ScalableDimension": self.key.dimension,
            "ScalableTargetAction": action,
            "CreationTime": to_datetime(self.created),
        }
        if self.timezone:
            out["Timezone"] = self.timezone
        if self.start is not None:
            out["StartTime"] = to_datetime(self.start)
        if self.end is not None:
            out["EndTime"] = to_datetime(self.end)
        return out


def action_arn(region: str, account: str, key: TargetKey, name: str, target_arn_id: str) -> str:
    return (
        f"arn:aws:autoscaling:{region}:{account}:scheduledAction:{target_arn_id}:"
        f"resource/{key.namespace}/{key.resource_id}:scheduledActionName/{name}"
    )


def checked(params: dict[str, Any]) -> tuple[Schedule, float | None, float | None, int | None, int | None]:
    """The schedule, start, end, min and max of a PutScheduledAction request, or a ValidationException."""
    text = params.get("Schedule")
    if not text:
        raise ValidationException("Schedule is required to create a scheduled action.")
    schedule = parse(text, params.get("Timezone"))
    start, end = _time(params.get("StartTime")), _time(params.get("EndTime"))
    if start is not None and end is not None and start >= end:
        raise ValidationException("EndTime must be after StartTime.")
    action = params.get("ScalableTargetAction") or {}
    low, high = action.get("MinCapacity"), action.get("MaxCapacity")
    for name, value in (("MinCapacity", low), ("MaxCapacity", high)):
        if value is not None and value < 0:
            raise ValidationException(f"{name} must not be negative.")
    if low is not None and high is not None and low > high:
        raise ValidationException(
            f"Minimum capacity ({low}) cannot be greater than maximum capacity ({high})."
        )
    return schedule, start, end, low, high


def _time(value: Any) -> float | None:
    if value is None:
        return None
    if hasattr(value, "timestamp"):
        return float(value.timestamp())
    return float(value)
