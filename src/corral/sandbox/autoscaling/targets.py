"""Scalable targets: a resource's dimension with the capacity range scaling may use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..core.clock import to_datetime
from .exceptions import ValidationException

ECS = "ecs"
ECS_DESIRED_COUNT = "ecs:service:DesiredCount"


@dataclass(frozen=True)
class TargetKey:
    namespace: str
    resource_id: str
    dimension: str

    def describe(self) -> str:
        return (
            f"service namespace: {self.namespace}, resource ID: {self.resource_id}, "
            f"scalable dimension: {self.dimension}"
        )

    def ecs_service(self) -> tuple[str, str] | None:
        """(cluster, service) for an ECS service's desired count, else None."""
        if self.namespace != ECS:
            return None
        _, cluster, service = self.resource_id.split("/")
        return cluster, service


def check_key(key: TargetKey) -> None:
    """ECS keys are validated; other namespaces are accepted as given."""
    if key.namespace != ECS:
        return
    parts = key.resource_id.split("/")
    if len(parts) != 3 or parts[0] != "service" or not parts[1] or not parts[2]:
        raise ValidationException(
            f"Unsupported resource ID {key.resource_id}: ECS resource IDs look like service/<cluster>/<service>."
        )
    if key.dimension != ECS_DESIRED_COUNT:
        raise ValidationException("Unsupported service namespace, resource type or scalable dimension")


@dataclass
class SuspendedState:
    dynamic_scaling_in: bool = False
    dynamic_scaling_out: bool = False
    scheduled_scaling: bool = False

    def update(self, data: dict[str, Any]) -> None:
        self.dynamic_scaling_in = data.get("DynamicScalingInSuspended", self.dynamic_scaling_in)
        self.dynamic_scaling_out = data.get("DynamicScalingOutSuspended", self.dynamic_scaling_out)
        self.scheduled_scaling = data.get("ScheduledScalingSuspended", self.scheduled_scaling)

    def to_api(self) -> dict[str, bool]:
        return {
            "DynamicScalingInSuspended": self.dynamic_scaling_in,
            "DynamicScalingOutSuspended": self.dynamic_scaling_out,
            "ScheduledScalingSuspended": self.scheduled_scaling,
        }


@dataclass
class ScalableTarget:
    key: TargetKey
    arn: str
    min_capacity: int
    max_capacity: int
    role_arn: str
    created: float
    suspended: SuspendedState = field(default_factory=SuspendedState)
    tags: dict[str, str] = field(default_factory=dict)

    def clamp(self, desired: int) -> int:
        return max(self.min_capacity, min(self.max_capacity, desired))

    def to_api(self) -> dict[str, Any]:
        return {
            "ServiceNamespace": self.key.namespace,
            "ResourceId": self.key.resource_id,
            "ScalableDimension": self.key.dimension,
            "MinCapacity": self.min_capacity,
            "MaxCapacity": self.max_capacity,
            "RoleARN": self.role_arn,
            "CreationTime": to_datetime(self.created),
            "SuspendedState": self.suspended.to_api(),
            "ScalableTargetARN": self.arn,
        }


def check_capacity(min_capacity: int, max_capacity: int) -> None:
    if min_capacity < 0 or max_capacity < 0:
        raise ValidationException("MinCapacity and MaxCapacity must not be negative.")
    if min_capacity > max_capacity:
        raise ValidationException(
            f"Minimum capacity ({min_capacity}) cannot be greater than maximum capacity ({max_capacity})."
        )


def service_linked_role(account_id: str, namespace: str) -> str:
    suffix = {
        ECS: ("ecs.application-autoscaling.amazonaws.com", "ECSService"),
        "dynamodb": ("dynamodb.application-autoscaling.amazonaws.com", "DynamoDBTable"),
        "lambda": ("lambda.application-autoscaling.amazonaws.com", "LambdaConcurrency"),
    }.get(namespace, (f"{namespace}.application-autoscaling.amazonaws.com", namespace.title()))
    return (
        f"arn:aws:iam::{account_id}:role/aws-service-role/{suffix[0]}/"
        f"AWSServiceRoleForApplicationAutoScaling_{suffix[1]}"
    )
