"""The six ECS manifest kinds and the AWS request each one is written in.

A manifest is the request document of one AWS call, written as the seeds write it
(camelCase keys, JSON or YAML). Corral fills some required members at deploy time, so a
manifest may leave them out:

- EcsServiceDefinition (ecs CreateService): `cluster` (from the infrastructure) and
  `taskDefinition` (the revision just registered). `serviceName` stays required.
- EcsRunTaskRequestDefinition (ecs RunTask): `cluster` and `taskDefinition`.
- EcsScalableTargetDefinition (application-autoscaling RegisterScalableTarget) and
  EcsScalingPolicyDefinition (PutScalingPolicy): `resourceId`
  (`service/<cluster>/<service>`); `serviceNamespace` defaults to `ecs` and
  `scalableDimension` to `ecs:service:DesiredCount` when left out.
- EcsScheduledActionDefinition (application-autoscaling PutScheduledAction): the same three,
  filled the same way (Harness's manifest type of 2026, named in its release notes).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class ManifestKind(StrEnum):
    TASK_DEFINITION = "EcsTaskDefinition"
    SERVICE_DEFINITION = "EcsServiceDefinition"
    SCALABLE_TARGET = "EcsScalableTargetDefinition"
    SCALING_POLICY = "EcsScalingPolicyDefinition"
    RUN_TASK_REQUEST = "EcsRunTaskRequestDefinition"
    SCHEDULED_ACTION = "EcsScheduledActionDefinition"


@dataclass(frozen=True)
class KindSpec:
    """Which botocore request shape a kind is written in, and what Corral supplies itself."""

    service: str
    operation: str
    filled_at_deploy: frozenset[str] = frozenset()
    defaults: Mapping[str, str] = field(default_factory=dict)


_AUTOSCALING_DEFAULTS = {"ServiceNamespace": "ecs", "ScalableDimension": "ecs:service:DesiredCount"}
_AUTOSCALING_FILLED = frozenset({"ResourceId", "ServiceNamespace", "ScalableDimension"})

SPECS: Mapping[ManifestKind, KindSpec] = {
    ManifestKind.TASK_DEFINITION: KindSpec("ecs", "RegisterTaskDefinition"),
    ManifestKind.SERVICE_DEFINITION: KindSpec(
        "ecs", "CreateService", filled_at_deploy=frozenset({"cluster", "taskDefinition"})
    ),
    ManifestKind.RUN_TASK_REQUEST: KindSpec(
        "ecs", "RunTask", filled_at_deploy=frozenset({"cluster", "taskDefinition"})
    ),
    ManifestKind.SCALABLE_TARGET: KindSpec(
        "application-autoscaling",
        "RegisterScalableTarget",
        filled_at_deploy=_AUTOSCALING_FILLED,
        defaults=_AUTOSCALING_DEFAULTS,
    ),
    ManifestKind.SCALING_POLICY: KindSpec(
        "application-autoscaling",
        "PutScalingPolicy",
        filled_at_deploy=_AUTOSCALING_FILLED,
        defaults=_AUTOSCALING_DEFAULTS,
    ),
    ManifestKind.SCHEDULED_ACTION: KindSpec(
        "application-autoscaling",
        "PutScheduledAction",
        filled_at_deploy=_AUTOSCALING_FILLED,
        defaults=_AUTOSCALING_DEFAULTS,
    ),
}


def spec_for(kind: ManifestKind | str) -> tuple[ManifestKind, KindSpec]:
    """The kind (accepting its YAML name, e.g. 'EcsTaskDefinition') and its spec."""
    try:
        member = ManifestKind(kind)
    except ValueError:
        names = ", ".join(k.value for k in ManifestKind)
        raise ValueError(f"unknown manifest kind {kind!r}; expected one of {names}") from None
    return member, SPECS[member]
