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
from .scheduled_actions import ScheduledAction, action_arn, checked
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
        self.scheduled: dict[tuple[TargetKey, str], ScheduledAction] = {}

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

    def _enforce_bounds(
        self, target: ScalableTarget, *, min_changed: bool, max_changed: bool, cause: str | None = None
    ) -> None:
        service = self._ecs_service(target.key)
        if service is None:
            return
        current = int(service.desired_count)
        if current < target.min_capacity and min_changed:
            why = cause or f"minimum capacity was set to {target.min_capacity}"
            self._apply(target, target.min_capacity, why)
        elif current > target.max_capacity and max_changed:
            why = cause or f"maximum capacity was set to {target.max_capacity}"
            self._apply(target, target.max_capacity, why)

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
        """Removes the target with its scaling policies (and their alarms) and scheduled actions."""
        self.get_target(key)
        for policy_key in [pk for pk in self.policies if pk[0] == key]:
            self._drop_policy(policy_key)
        for action_key in [ak for ak in self.scheduled if ak[0] == key]:
            self._drop_action(action_key)
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

    # ------------------------------------------------------------------ scheduled actions

    def put_scheduled_action(self, key: TargetKey, name: str, params: dict[str, Any]) -> ScheduledAction:
        """Create the action, or update the one with this name (its timer with it): members left
        out keep their values, except StartTime and EndTime, which are deleted (AWS's words)."""
        check_key(key)
        self.get_target(key)  # an unregistered target is refused, as AWS does
        old = self.scheduled.get((key, name))
        if old is not None:
            params = {**old.kept(), **params}
        schedule, start, end, low, high = checked(params)
        now = self.now()
        every = schedule.every or 0.0
        action = ScheduledAction(
            key=key,
            name=name,
            arn=old.arn
            if old
            else action_arn(self.region_name, self.account_id, key, name, str(uuid.uuid4())),
            schedule=schedule,
            timezone=params.get("Timezone"),
            start=start,
            end=end,
            min_capacity=low,
            max_capacity=high,
            created=old.created if old else now,
            first_rate_run=start if start is not None else now + every,
        )
        if old is not None and old.timer is not None:
            old.timer.cancel()
        self.scheduled[(key, name)] = action
        self._arm(action, now)
        return action

    def describe_scheduled_actions(
        self, namespace: str, names: list[str] | None, resource_id: str | None, dimension: str | None
    ) -> list[ScheduledAction]:
        return [
            action
            for (key, name), action in self.scheduled.items()
            if key.namespace == namespace
            and (not names or name in names)
            and (resource_id is None or key.resource_id == resource_id)
            and (dimension is None or key.dimension == dimension)
        ]

    def delete_scheduled_action(self, key: TargetKey, name: str) -> None:
        if (key, name) not in self.scheduled:
            raise ObjectNotFoundException(
                f"No scheduled action found for {key.describe()}, scheduled action name: {name}"
            )
        self._drop_action((key, name))

    def _drop_action(self, action_key: tuple[TargetKey, str]) -> None:
        action = self.scheduled.pop(action_key)
        if action.timer is not None:
            action.timer.cancel()

    def _arm(self, action: ScheduledAction, after: float) -> None:
        when = action.next_run(after)
        action.timer = None if when is None else self.world.timers.call_at(when, self._run_action, action)

    def _run_action(self, action: ScheduledAction) -> None:
        """The timer of a scheduled action: set the target's range, scale into it, arm the next run."""
        if self.scheduled.get((action.key, action.name)) is not action:
            return  # replaced or deleted since
        due = self.world.timers.due_time()
        target = self.targets.get(action.key)
        if target is not None and not target.suspended.scheduled_scaling:
            low = target.min_capacity if action.min_capacity is None else action.min_capacity
            high = target.max_capacity if action.max_capacity is None else action.max_capacity
            # a new bound that crosses the other one moves it too (the action's own bounds win)
            if action.max_capacity is None:
                high = max(high, low)
            if action.min_capacity is None:
                low = min(low, high)
            min_changed, max_changed = low != target.min_capacity, high != target.max_capacity
            target.min_capacity, target.max_capacity = low, high
            self._enforce_bounds(
                target,
                min_changed=min_changed or action.min_capacity is not None,
                max_changed=max_changed or action.max_capacity is not None,
                cause=f"scheduled action name {action.name} was triggered",
            )
        self._arm(action, due)

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
