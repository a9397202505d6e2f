"""Scaling activities: what Application Auto Scaling did to a target's capacity, and why.

Activities that changed nothing ("not scaled") are kept apart and shown only when
DescribeScalingActivities asks for them (IncludeNotScaledActivities).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..core.clock import to_datetime
from .targets import TargetKey


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class NotScaledReason:
    code: str  # AlreadyAtMaxCapacity, AlreadyAtMinCapacity, AlreadyAtDesiredCapacity
    current: int
    min_capacity: int
    max_capacity: int

    def to_api(self) -> dict[str, Any]:
        return {
            "Code": self.code,
            "CurrentCapacity": self.current,
            "MinCapacity": self.min_capacity,
            "MaxCapacity": self.max_capacity,
        }


@dataclass
class ScalingActivity:
    key: TargetKey
    description: str
    cause: str
    started: float
    status: str  # Successful | Failed
    message: str
    scaled: bool = True
    not_scaled_reasons: list[NotScaledReason] = field(default_factory=list)
    id: str = field(default_factory=_new_id)

    def to_api(self) -> dict[str, Any]:
        return {
            "ActivityId": self.id,
            "ServiceNamespace": self.key.namespace,
            "ResourceId": self.key.resource_id,
            "ScalableDimension": self.key.dimension,
            "Description": self.description,
            "Cause": self.cause,
            "StartTime": to_datetime(self.started),
            "EndTime": to_datetime(self.started),
            "StatusCode": self.status,
            "StatusMessage": self.message,
            "NotScaledReasons": [reason.to_api() for reason in self.not_scaled_reasons] or None,
        }


def scaled(key: TargetKey, desired: int, cause: str, now: float) -> ScalingActivity:
    return ScalingActivity(
        key=key,
        description=f"Setting desired count to {desired}.",
        cause=cause,
        started=now,
        status="Successful",
        message=f"Successfully set desired count to {desired}. Change successfully fulfilled by ecs.",
    )


def not_scaled(
    key: TargetKey, desired: int, cause: str, reason: str, now: float, *, why: NotScaledReason | None = None
) -> ScalingActivity:
    return ScalingActivity(
        key=key,
        description=f"Setting desired count to {desired}.",
        cause=cause,
        started=now,
        status="Failed",
        message=reason,
        scaled=False,
        not_scaled_reasons=[why] if why else [],
    )
