"""Application Auto Scaling state for one account and Region.

ECS services are the one resource the sandbox scales: it reads and sets their desired count
through the ECS contract (`find_service`, `scale_from_autoscaling`, `deployment_in_progress`).
No metrics exist in the sandbox, so policies never fire on their own; the admin API's
`simulate_scaling` stands in for an alarm triggering a policy.
"""

from __future__ import annotations

import uuid
from typing import Any

from ..core.world import Backend as _Base
from . import activities, alarms
from .activities import NotScaledReason, ScalingActivity
from .exceptions import ObjectNotFoundException, ResourceNotFoundException, ValidationException
from .policies import ScalingPolicy, check_policy, policy_arn
from .targets import (
    ECS,
    ECS_DESIRED_COUNT,
    ScalableTarget,
    TargetKey,
    check_capacity,
    check_key,
    service_linked_role,
)


class Backend(_Base):
    service = "application-autoscaling"

    def __init__(self, region: Any) -> None:
        super().__init__(region)
        self.targets: dict[TargetKey, ScalableTarget] = {}
        self.policies: dict[tuple[TargetKey, str], ScalingPolicy] = {}
        self.activities: list[ScalingActivity] = []  # oldest first

    # ------------------------------------------------------------------ ECS

    def _ecs(self) -> Any | None:
        """The ECS backend, or None while the sandbox has no ECS emulation to ask."""
        ecs = self.region.ecs
        return ecs if hasattr(ecs, "find_service") else None

    def _ecs_service(self, key: TargetKey) -> Any | None:
        ecs, names = self._ecs(), key.ecs_service()
        if ecs is None or names is None:
            return None
        found = ecs.find_service(*names)
        return found if found is not None and getattr(found, "status", "ACTIVE") == "ACTIVE" else None

    def _check_resource(self, key: TargetKey) -> None:
        if key.namespace == ECS and self._ecs() is not None and self._ecs_service(key) is None:
            raise ValidationException(f"ECS service doesn't exist: {key.resource_id}")

    # ------------------------------------------------------------------ scalable targets

    def register_target(
        self,
        key: TargetKey,
        *,
        min_capacity: int | None,
        max_capacity: int | None,
        role_arn: str | None,
        suspended: dict[str, Any] | None,
        tags: dict[str, str] | None,
    ) -> ScalableTarget:
        """Create the target, or update the fields given; keeps the current capacity in range."""
        check_key(key)
        self._check_resource(key)
        target = self.targets.get(key)
        if target is None:
            if min_capacity is None or max_capacity is None:
                raise ValidationException(
                    "MinCapacity and MaxCapacity are required to register a new scalable target."
                )
            target = ScalableTarget(
                key=key,
                arn=self.arn(
                    "application-autoscaling", f"scalable-target/{uuid.uuid4().hex[:4]}{uuid.uuid4().hex}"
                ),
                min_capacity=min_capacity,
                max_capacity=max_capacity,
                role_arn=role_arn or service_linked_role(self.account_id, key.namespace),
                created=self.now(),
                tags=dict(tags or {}),
            )
        new_min = target.min_capacity if min_capacity is None else min_capacity
        new_max = target.max_capacity if max_capacity is None else max_capacity
        check_capacity(new_min, new_max)
        min_changed, max_changed = new_min != target.min_capacity, new_max != target.max_capacity
        target.min_capacity, target.max_capacity = new_min, new_max
        if role_arn:
            target.role_arn = role_arn
        if suspended:
            target.suspended.update(suspended)
        is_new = key not in self.targets
        self.targets[key] = target
        self._enforce_bounds(target, min_changed=min_changed or is_new, max_changed=max_changed or is_new)
        return target

    def _enforce_bounds(self, target: ScalableTarget, *, min_changed: bool, max_changed: bool) -> None:
        service = self._ecs_service(target.key)
        if service is None:
            return
        current = int(service.desired_count)
        if current < target.min_capacity and min_changed:
            self._apply(target, target.min_capacity, f"minimum capacity was set to {target.min_capacity}")
        elif current > target.max_capacity and max_changed:
            self._apply(target, target.max_capacity, f"maximum capacity was set to {target.max_capacity}")

    def get_target(self, key: TargetKey) -> ScalableTarget:
        found = self.targets.get(key)
        if found is None:
            raise ObjectNotFoundException(f"No scalable target registered for {key.describe()}")
        return found

    def describe_targets(
        self, namespace: str, resource_ids: list[str] | None, dimension: str | None
    ) -> list[ScalableTarget]:
        return [
            target
            for key, target in self.targets.items()
            if key.namespace == namespace
            and (not resource_ids or key.resource_id in resource_ids)
            and (dimension is None or key.dimension == dimension)
        ]

    def deregister_target(self, key: TargetKey) -> None:
        """Removes the target with its scaling policies and their alarms."""
        self.get_target(key)
        for policy_key in [pk for pk in self.policies if pk[0] == key]:
            self._drop_policy(policy_key)
        del self.targets[key]

    def target_by_arn(self, arn: str) -> ScalableTarget:
        for target in self.targets.values():
            if target.arn == arn:
                return target
        raise ResourceNotFoundException(f"Scalable target with ARN {arn} not found.")

    # ------------------------------------------------------------------ scaling policies

    def put_policy(
        self, key: TargetKey, name: str, policy_type: str, params: dict[str, Any]
    ) -> ScalingPolicy:
        """Create the policy, or replace the configuration of the one with this name."""
        check_key(key)
        self.get_target(key)
        configuration = check_policy(key, policy_type, params)
        policy = self.policies.get((key, name))
        if policy is None:
            policy = ScalingPolicy(
                key=key,
                name=name,
                arn=policy_arn(self.region_name, self.account_id, key, name),
                type=policy_type,
                configuration=configuration,
                created=self.now(),
            )
            self.policies[(key, name)] = policy
        policy.type, policy.configuration = policy_type, configuration
        policy.alarms = alarms.put_alarms(policy, self.account_id, self.region_name)
        return policy

    def describe_policies(
        self, namespace: str, names: list[str] | None, resource_id: str | None, dimension: str | None
    ) -> list[ScalingPolicy]:
        return [
            policy
            for (key, name), policy in self.policies.items()
            if key.namespace == namespace
            and (not names or name in names)
            and (resource_id is None or key.resource_id == resource_id)
            and (dimension is None or key.dimension == dimension)
        ]

    def delete_policy(self, key: TargetKey, name: str) -> None:
        if (key, name) not in self.policies:
            raise ObjectNotFoundException(
                f"No scaling policy found for {key.describe()}, policy name: {name}"
            )
        self._drop_policy((key, name))

    def _drop_policy(self, policy_key: tuple[TargetKey, str]) -> None:
        policy = self.policies.pop(policy_key)
        alarms.delete_alarms([alarm.name for alarm in policy.alarms], self.account_id, self.region_name)

    # ------------------------------------------------------------------ scaling activities

    def describe_activities(
        self, namespace: str, resource_id: str | None, dimension: str | None, *, include_not_scaled: bool
    ) -> list[ScalingActivity]:
        return [
            activity
            for activity in reversed(self.activities)
            if activity.key.namespace == namespace
            and (resource_id is None or activity.key.resource_id == resource_id)
            and (dimension is None or activity.key.dimension == dimension)
            and (activity.scaled or include_not_scaled)
        ]

    def simulate_scaling(self, resource_id: str, desired: int) -> dict[str, Any]:
        """Admin API contract: act as a scaling policy whose alarm asks for `desired` tasks.

        Clamped to the target's min/max; scale-in is refused while the ECS service is being
        deployed or when SuspendedState suspends it. Returns resourceId, desiredCount (the
        service's desired count afterwards), applied and reason.
        """
        key = TargetKey(ECS, resource_id, ECS_DESIRED_COUNT)
        if key not in self.targets:
            raise ValueError(f"No scalable target registered for {key.describe()}")
        target = self.targets[key]
        if self._ecs() is None:
            raise ValueError("The sandbox has no ECS emulation to scale.")
        service = self._ecs_service(key)
        if service is None:
            return self._refuse(target, desired, None, f"ECS service doesn't exist: {resource_id}", None)
        current, wanted = int(service.desired_count), target.clamp(desired)
        clamped = None
        if wanted != desired:
            bound = "maximum" if desired > wanted else "minimum"
            clamped = f"clamped to the {bound} capacity {wanted}"
        refusal = self._refusal(target, current, wanted)
        if refusal is not None:
            return self._refuse(
                target, desired, current, refusal, _not_scaled_reason(target, current, wanted)
            )
        self._apply(target, wanted, f"a sandbox scaling request asked for desired count {desired}")
        return {"resourceId": resource_id, "desiredCount": wanted, "applied": True, "reason": clamped}

    def _refusal(self, target: ScalableTarget, current: int, wanted: int) -> str | None:
        if wanted == current:
            return f"the service is already at desired count {current}"
        names = target.key.ecs_service()
        ecs = self._ecs()
        if wanted < current:
            if target.suspended.dynamic_scaling_in:
                return "scale-in is suspended for this scalable target (DynamicScalingInSuspended)"
            if ecs is not None and names is not None and ecs.deployment_in_progress(*names):
                return "scale-in is suspended while an ECS deployment of the service is in progress"
        elif target.suspended.dynamic_scaling_out:
            return "scale-out is suspended for this scalable target (DynamicScalingOutSuspended)"
        return None

    def _refuse(
        self,
        target: ScalableTarget,
        desired: int,
        current: int | None,
        reason: str,
        why: NotScaledReason | None,
    ) -> dict[str, Any]:
        cause = f"a sandbox scaling request asked for desired count {desired}"
        wanted = target.clamp(desired)
        self.activities.append(activities.not_scaled(target.key, wanted, cause, reason, self.now(), why=why))
        return {
            "resourceId": target.key.resource_id,
            "desiredCount": current,
            "applied": False,
            "reason": reason,
        }

    def _apply(self, target: ScalableTarget, desired: int, cause: str) -> None:
        ecs, names = self._ecs(), target.key.ecs_service()
        assert ecs is not None and names is not None
        ecs.scale_from_autoscaling(*names, desired)
        self.activities.append(activities.scaled(target.key, desired, cause, self.now()))


def _not_scaled_reason(target: ScalableTarget, current: int, wanted: int) -> NotScaledReason | None:
    if wanted != current:
        return None
    if current == target.max_capacity:
        code = "AlreadyAtMaxCapacity"
    elif current == target.min_capacity:
        code = "AlreadyAtMinCapacity"
    else:
        code = "AlreadyAtDesiredCapacity"
    return NotScaledReason(code, current, target.min_capacity, target.max_capacity)
