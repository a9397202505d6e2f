"""The `spec` of the ECS Basic steps (EcsServiceSetup, EcsUpgradeContainer, EcsBasicRollback) and
of EcsScale, checked field by field in Harness's own names (EcsBlueGreenTrafficShift's, in
traffic_shift_spec.py, through the same entry point).

`corral validate` checks them through the pipeline model (a value that is still an expression,
such as `<+input>`, is checked when the step runs, rendered); the steps check the rendered spec
with the same function before they change anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .entities.common import is_expression
from .traffic_shift_spec import standalone_rule_problems, traffic_shift_problems

RESIZE_STRATEGIES = ("ResizeNewFirst", "DownsizeOldFirst")
INSTANCE_UNITS = ("Count", "Percentage")
ALWAYS_ALLOWED = ("delegateSelectors", "commandOptions")

FIELDS: dict[str, tuple[str, ...]] = {
    "EcsServiceSetup": ("resizeStrategy", "sameAsAlreadyRunningInstances"),
    "EcsUpgradeContainer": (
        "newServiceInstanceCount",
        "newServiceInstanceUnit",
        "downsizeOldServiceInstanceCount",
        "downsizeOldServiceInstanceUnit",
    ),
    "EcsBasicRollback": (),
    # `serviceName`: Corral's earlier name of `service`
    "EcsScale": (
        "service",
        "serviceName",
        "cluster",
        "connectorRef",
        "region",
        "instanceUnit",
        "instances",
        "skipSteadyStateCheck",
    ),
}

# every ECS step type whose spec is checked here when the pipeline loads (the others have a
# spec model in corral/wiring/ecs_step_types.py)
CHECKED_AT_LOAD = frozenset({*FIELDS, "EcsBlueGreenTrafficShift"})


def ecs_step_spec_problems(step_type: str, spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(path inside the step, what was expected) of everything wrong in the spec of one of these
    step types; [] for other types."""
    if step_type == "EcsBlueGreenTrafficShift":  # Inherit / Standalone: traffic_shift_spec.py
        return traffic_shift_problems(spec)
    if step_type not in FIELDS:
        return []
    known = FIELDS[step_type]
    found = [
        (f"spec.{name}", f"unknown field of a {step_type} step (its fields: {', '.join(known) or 'none'})")
        for name in spec
        if name not in known and name not in ALWAYS_ALLOWED
    ]
    if step_type == "EcsServiceSetup":
        found += _choice(spec, "resizeStrategy", RESIZE_STRATEGIES, required=False)
        found += _boolean(spec, "sameAsAlreadyRunningInstances")
    elif step_type == "EcsUpgradeContainer":
        found += _instances(spec, "newServiceInstanceCount", "newServiceInstanceUnit", required=True)
        found += _instances(spec, "downsizeOldServiceInstanceCount", "downsizeOldServiceInstanceUnit")
    elif step_type == "EcsScale":
        found += _choice(spec, "instanceUnit", INSTANCE_UNITS, required=False)
        # required in the execution phase (execution_problems); a rollback step without it
        # restores the counts the stage's ECS Scale steps changed
        found += _whole(spec, "instances", required=False)
        found += _boolean(spec, "skipSteadyStateCheck")
        for name in ("service", "serviceName", "cluster", "connectorRef", "region"):
            found += _text(spec, name)
    return found


def whole_number(value: Any) -> int | None:
    """A whole number as YAML or a rendered expression gives it ("3" too), else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def _unset(value: Any) -> bool:
    return value is None or value == ""


def _choice(
    spec: Mapping[str, Any], name: str, allowed: tuple[str, ...], *, required: bool
) -> list[tuple[str, str]]:
    value = spec.get(name)
    if is_expression(value):
        return []
    if _unset(value):
        return [(f"spec.{name}", f"is required: {' or '.join(allowed)}")] if required else []
    if value not in allowed:
        return [(f"spec.{name}", f"expected {' or '.join(allowed)}, got {value!r}")]
    return []


def _boolean(spec: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
    value = spec.get(name)
    if _unset(value) or is_expression(value) or isinstance(value, bool):
        return []
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return []
    return [(f"spec.{name}", f"expected true or false, got {value!r}")]


def _text(spec: Mapping[str, Any], name: str) -> list[tuple[str, str]]:
    value = spec.get(name)
    if value is None or isinstance(value, str):
        return []
    return [(f"spec.{name}", f"expected text, got {value!r}")]


def _whole(spec: Mapping[str, Any], name: str, *, required: bool) -> list[tuple[str, str]]:
    value = spec.get(name)
    if is_expression(value):
        return []
    if _unset(value):
        return [(f"spec.{name}", "is required: a whole number")] if required else []
    number = whole_number(value)
    if number is None or number < 0:
        return [(f"spec.{name}", f"expected a whole number of 0 or more, got {value!r}")]
    return []


def _instances(
    spec: Mapping[str, Any], count: str, unit: str, *, required: bool = False
) -> list[tuple[str, str]]:
    """A count and its unit (Count, or Percentage from 0 to 100), given together."""
    value, kind = spec.get(count), spec.get(unit)
    if not required and _unset(value) and _unset(kind):
        return []
    if not required and _unset(value) != _unset(kind):
        given, missing = (unit, count) if _unset(value) else (count, unit)
        return [(f"spec.{missing}", f"is required with {given}")]
    found = _whole(spec, count, required=True) + _choice(spec, unit, INSTANCE_UNITS, required=True)
    number = whole_number(value)
    if not found and kind == "Percentage" and number is not None and number > 100:
        found.append((f"spec.{count}", f"a percentage is 0 to 100, got {number}"))
    return found


def execution_problems(execution: Any) -> list[tuple[str, str]]:
    """ECS Scale steps of the execution phase name their `instances` (paths below `execution`);
    a Standalone traffic shift does not shift the prod rule of the stage's Create Service."""
    steps = _steps(execution.steps, "steps")
    return [
        (f"{path}.spec.instances", "is required: a whole number")
        for path, step, rollback in steps
        if step.type == "EcsScale" and not rollback and _unset(step.spec.get("instances"))
    ] + standalone_rule_problems([(path, step.type, step.spec) for path, step, _ in steps])


def custom_stage_problems(execution: Any, *, has_infrastructure: bool) -> list[tuple[str, str]]:
    """ECS Scale steps of a Custom stage: no service there (and without an environment, no
    infrastructure) to take the service, cluster and connector from. `execution`: the stage's
    `Execution` model; paths are below the stage's `spec`. A rollback step that restores
    (no `instances`) takes them from the steps it undoes."""
    needed = ("service", "cluster", "connectorRef") if not has_infrastructure else ("service",)
    found = []
    steps = _steps(execution.steps, "execution.steps") + _steps(
        execution.rollback_steps, "execution.rollbackSteps", rollback=True
    )
    for path, step, rollback in steps:
        if step.type != "EcsScale" or (rollback and _unset(step.spec.get("instances"))):
            continue
        for name in needed:
            if _unset(step.spec.get(name)) and not (name == "service" and step.spec.get("serviceName")):
                message = "is required in a Custom stage (no service or infrastructure gives it)"
                found.append((f"{path}.spec.{name}", message))
    return found


def _steps(elements: Any, path: str, *, rollback: bool = False) -> list[tuple[str, Any, bool]]:
    """(path, step model, in a rollback phase) of every step below a list of step elements."""
    found: list[tuple[str, Any, bool]] = []
    for index, element in enumerate(elements or ()):
        here = f"{path}[{index}]"
        if element.step is not None:
            found.append((f"{here}.step", element.step, rollback))
        elif element.step_group is not None:
            found += _steps(element.step_group.steps, f"{here}.stepGroup.steps", rollback=rollback)
            found += _steps(
                element.step_group.rollback_steps, f"{here}.stepGroup.rollbackSteps", rollback=True
            )
        else:
            found += _steps(element.parallel, f"{here}.parallel", rollback=rollback)
    return found
