"""Scaling policies: target tracking, step and predictive, and the alarms target tracking owns."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from ..core.clock import to_datetime
from .exceptions import ValidationException
from .targets import ECS, TargetKey

TARGET_TRACKING = "TargetTrackingScaling"
STEP = "StepScaling"
PREDICTIVE = "PredictiveScaling"

CONFIG_FIELD = {
    TARGET_TRACKING: "TargetTrackingScalingPolicyConfiguration",
    STEP: "StepScalingPolicyConfiguration",
    PREDICTIVE: "PredictiveScalingPolicyConfiguration",
}

ECS_PREDEFINED_METRICS = {
    "ECSServiceAverageCPUUtilization",
    "ECSServiceAverageMemoryUtilization",
    "ALBRequestCountPerTarget",
}


def _two_uuids() -> tuple[str, str]:
    return str(uuid.uuid4()), str(uuid.uuid4())


@dataclass
class Alarm:
    name: str
    arn: str

    def to_api(self) -> dict[str, str]:
        return {"AlarmName": self.name, "AlarmARN": self.arn}


@dataclass
class ScalingPolicy:
    key: TargetKey
    name: str
    arn: str
    type: str
    configuration: dict[str, Any]
    created: float
    # target tracking alarm names end in a UUID each; kept so an update keeps the names
    alarm_ids: tuple[str, str] = field(default_factory=_two_uuids)
    alarms: list[Alarm] = field(default_factory=list)

    def to_api(self) -> dict[str, Any]:
        return {
            "PolicyARN": self.arn,
            "PolicyName": self.name,
            "ServiceNamespace": self.key.namespace,
            "ResourceId": self.key.resource_id,
            "ScalableDimension": self.key.dimension,
            "PolicyType": self.type,
            CONFIG_FIELD[self.type]: self.configuration,
            "Alarms": [alarm.to_api() for alarm in self.alarms],
            "CreationTime": to_datetime(self.created),
        }

    def alarm_names(self) -> list[str]:
        """The alarms a target tracking policy owns: high (scale out) and, unless disabled, low."""
        if self.type != TARGET_TRACKING:
            return []
        prefix = f"TargetTracking-{self.key.resource_id}"
        names = [f"{prefix}-AlarmHigh-{self.alarm_ids[0]}"]
        if not self.configuration.get("DisableScaleIn"):
            names.append(f"{prefix}-AlarmLow-{self.alarm_ids[1]}")
        return names


def policy_arn(region: str, account_id: str, key: TargetKey, name: str) -> str:
    return (
        f"arn:aws:autoscaling:{region}:{account_id}:scalingPolicy:{uuid.uuid4()}:"
        f"resource/{key.namespace}/{key.resource_id}:policyName/{name}"
    )


def check_policy(key: TargetKey, policy_type: str, params: dict[str, Any]) -> dict[str, Any]:
    """The configuration for the policy type; ValidationException when it is missing or wrong."""
    for other, field_name in CONFIG_FIELD.items():
        if other != policy_type and params.get(field_name) is not None:
            raise ValidationException(f"{field_name} cannot be specified for a {policy_type} policy.")
    configuration: dict[str, Any] | None = params.get(CONFIG_FIELD[policy_type])
    if configuration is None:
        raise ValidationException(f"{CONFIG_FIELD[policy_type]} is required for a {policy_type} policy.")
    if policy_type == TARGET_TRACKING:
        _check_target_tracking(key, configuration)
    elif policy_type == STEP:
        _check_step(configuration)
    elif key.namespace != ECS:
        raise ValidationException("PredictiveScaling policies are supported only for ECS services.")
    return configuration


def _check_target_tracking(key: TargetKey, configuration: dict[str, Any]) -> None:
    predefined = configuration.get("PredefinedMetricSpecification")
    customized = configuration.get("CustomizedMetricSpecification")
    if (predefined is None) == (customized is None):
        raise ValidationException(
            "Exactly one of PredefinedMetricSpecification and CustomizedMetricSpecification must be specified."
        )
    if predefined is not None and key.namespace == ECS:
        metric = predefined["PredefinedMetricType"]
        if metric not in ECS_PREDEFINED_METRICS:
            raise ValidationException(
                f"Unsupported PredefinedMetricType {metric} for service namespace ecs; "
                f"use one of {', '.join(sorted(ECS_PREDEFINED_METRICS))}."
            )
        if metric == "ALBRequestCountPerTarget" and not predefined.get("ResourceLabel"):
            raise ValidationException(
                "ResourceLabel is required for PredefinedMetricType ALBRequestCountPerTarget."
            )
    if configuration["TargetValue"] <= 0:
        raise ValidationException("TargetValue must be greater than 0.")


def _check_step(configuration: dict[str, Any]) -> None:
    if not configuration.get("AdjustmentType"):
        raise ValidationException("AdjustmentType is required for a StepScaling policy.")
    steps = configuration.get("StepAdjustments") or []
    if not steps:
        raise ValidationException("StepAdjustments must contain at least one step adjustment.")
    for step in steps:
        lower, upper = step.get("MetricIntervalLowerBound"), step.get("MetricIntervalUpperBound")
        if lower is not None and upper is not None and lower >= upper:
            raise ValidationException("MetricIntervalLowerBound must be less than MetricIntervalUpperBound.")
    if sum(1 for step in steps if step.get("MetricIntervalLowerBound") is None) > 1:
        raise ValidationException("Only one step adjustment can have a null lower bound.")
    if sum(1 for step in steps if step.get("MetricIntervalUpperBound") is None) > 1:
        raise ValidationException("Only one step adjustment can have a null upper bound.")
