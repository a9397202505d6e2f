"""An EcsBlueGreenTrafficShift step's `spec`, in Harness's shape and in Corral's earlier one.

Harness (https://developer.harness.io/docs/continuous-delivery/deploy-srv-diff-platforms/aws/ecs/traffic-shifting):

    spec:
      ecsTrafficShiftWrapper:
        type: Inherit                      # the prod rule of ECS Blue Green Create Service
        spec:
          weightPercentage: 70             # the new service's share, 0-100
    spec:
      ecsTrafficShiftWrapper:
        type: Standalone                   # a rule of its own, e.g. a lower environment's
        spec:
          loadBalancer: my-alb
          listener: arn:...:listener/app/my-alb/...
          listenerRuleArn: arn:...:listener-rule/app/my-alb/...
          forwardConfig:                   # 1-5 target groups (ELBv2's limit), weight 0-100 each
            - targetGroupArn: arn:...:targetgroup/stage/...
              weight: 70
            - targetGroupArn: arn:...:targetgroup/prod/...
              weight: 30

Corral's earlier shape (Inherit only) still reads: `weightPercentage: N`, or `weights: [25, 50,
100]` with `pauseSeconds` between them; it may not be mixed with `ecsTrafficShiftWrapper`.
`doNotDownsizeOldService` and `downsizeOldServiceDelayInSecs` (the cut-over at 100) go with either.

`traffic_shift_problems` is what `validate` (through the pipeline model), `plan` and the start of
a run report; a field that still holds an expression (`<+matrix.weight>`) is checked once the step
renders it. `read_traffic_shift` is what the step runs with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .entities.common import is_expression

WRAPPER = "ecsTrafficShiftWrapper"
INHERIT: Final = "Inherit"
STANDALONE: Final = "Standalone"
EARLIER_FIELDS = ("weightPercentage", "weights", "pauseSeconds")
CUT_OVER_FIELDS = ("doNotDownsizeOldService", "downsizeOldServiceDelayInSecs")
ALWAYS_ALLOWED = ("delegateSelectors", "commandOptions")
STANDALONE_FIELDS = ("loadBalancer", "listener", "listenerRuleArn", "forwardConfig")
MAX_TARGET_GROUPS = 5  # target groups in one forward action (ELBv2 quota)

Path = str
Found = list[tuple[Path, str]]  # (path inside the step, what was expected)


@dataclass(frozen=True)
class TrafficShiftSpec:
    mode: Literal["Inherit", "Standalone"]
    weights: list[int] = field(default_factory=list)  # Inherit: the new service's shares, in order
    pause_seconds: float = 0.0
    load_balancer: str = ""  # Standalone
    listener: str = ""
    listener_rule_arn: str = ""
    forward_config: list[tuple[str, int]] = field(default_factory=list)


def traffic_shift_problems(spec: Mapping[str, Any] | None, *, rendered: bool = False) -> Found:
    """Everything wrong with the spec that can be told without AWS; [] when it reads.
    `rendered`: the step's spec as it runs, where an expression left is a problem too."""
    spec = spec or {}
    if rendered and (left := list(_expressions(spec, "spec"))):
        return [(path, f"the expression {text!r} did not resolve to a value") for path, text in left]
    known = (WRAPPER, *EARLIER_FIELDS, *CUT_OVER_FIELDS, *ALWAYS_ALLOWED)
    problems: Found = [
        (
            f"spec.{name}",
            f"unknown field of an EcsBlueGreenTrafficShift step (its fields: {', '.join(known)})",
        )
        for name in spec
        if name not in known
    ]
    if WRAPPER in spec:
        mixed = [name for name in EARLIER_FIELDS if name in spec]
        problems += [
            (f"spec.{name}", f"give the weight in {WRAPPER}, not beside it (Corral's earlier form)")
            for name in mixed
        ]
        return problems + _wrapper_problems(spec[WRAPPER])
    if "weights" in spec and spec["weights"] not in (None, ""):
        weights = spec["weights"]
        if not isinstance(weights, list) or not weights:
            problems.append(("spec.weights", f"expected a list of percentages 0-100, got {weights!r}"))
        else:
            problems += [
                (f"spec.weights[{i}]", message) for i, w in enumerate(weights) if (message := _weight(w))
            ]
    elif spec.get("weightPercentage") in (None, ""):
        problems.append((f"spec.{WRAPPER}", "is required (type: Inherit or Standalone)"))
    elif message := _weight(spec["weightPercentage"]):
        problems.append(("spec.weightPercentage", message))
    pause = spec.get("pauseSeconds")
    if pause not in (None, "") and not is_expression(pause) and _number(pause) is None:
        problems.append(("spec.pauseSeconds", f"expected a number of seconds, got {pause!r}"))
    return problems


def standalone_rule_problems(steps: list[tuple[Path, str, Mapping[str, Any]]]) -> Found:
    """(path, message) for each Standalone shift of a stage's steps (path, type, spec) whose rule is
    the prod rule its Create Service names: Harness fails such a step when it runs, since that rule
    belongs to the Inherit shifts and ECS Blue Green Rollback. Rules given as expressions are
    checked when the step runs."""
    prod = {
        str(spec.get("prodListenerRuleArn"))
        for _, kind, spec in steps
        if kind == "EcsBlueGreenCreateService"
        and spec.get("prodListenerRuleArn")
        and not is_expression(spec.get("prodListenerRuleArn"))
    }
    found: Found = []
    for path, kind, spec in steps:
        wrapper = spec.get(WRAPPER) if kind == "EcsBlueGreenTrafficShift" else None
        if not isinstance(wrapper, Mapping) or wrapper.get("type") != STANDALONE:
            continue
        body = wrapper.get("spec")
        rule = body.get("listenerRuleArn") if isinstance(body, Mapping) else None
        if isinstance(rule, str) and rule in prod:
            found.append(
                (
                    f"{path}.spec.{WRAPPER}.spec.listenerRuleArn",
                    "is the prod listener rule of the stage's ECS Blue Green Create Service; a "
                    "Standalone shift needs a rule of its own (type: Inherit shifts the prod rule)",
                )
            )
    return found


def _expressions(node: Any, path: str) -> Any:
    if isinstance(node, Mapping):
        for key, item in node.items():
            yield from _expressions(item, f"{path}.{key}")
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _expressions(item, f"{path}[{index}]")
    elif is_expression(node):
        yield path, node


def _wrapper_problems(wrapper: Any) -> Found:
    where = f"spec.{WRAPPER}"
    if is_expression(wrapper):
        return []
    if not isinstance(wrapper, Mapping):
        return [(where, f"expected a mapping with type and spec, got {wrapper!r}")]
    unknown = [
        (f"{where}.{k}", "unknown field (its fields: type, spec)")
        for k in wrapper
        if k not in ("type", "spec")
    ]
    kind, body = wrapper.get("type"), wrapper.get("spec")
    if kind not in (INHERIT, STANDALONE):
        return [*unknown, (f"{where}.type", f"expected Inherit or Standalone, got {kind!r}")]
    if not isinstance(body, Mapping):
        return [*unknown, (f"{where}.spec", f"expected a mapping of the {kind} fields, got {body!r}")]
    if kind == INHERIT:
        return unknown + _inherit_problems(body, f"{where}.spec")
    return unknown + _standalone_problems(body, f"{where}.spec")


def _inherit_problems(body: Mapping[str, Any], where: str) -> Found:
    problems: Found = [
        (f"{where}.{k}", "unknown field of Inherit (its field: weightPercentage)")
        for k in body
        if k != "weightPercentage"
    ]
    weight = body.get("weightPercentage")
    if weight in (None, ""):
        problems.append((f"{where}.weightPercentage", "is required: the new service's share, 0-100"))
    elif message := _weight(weight):
        problems.append((f"{where}.weightPercentage", message))
    return problems


def _standalone_problems(body: Mapping[str, Any], where: str) -> Found:
    problems: Found = [
        (f"{where}.{k}", f"unknown field of Standalone (its fields: {', '.join(STANDALONE_FIELDS)})")
        for k in body
        if k not in STANDALONE_FIELDS
    ]
    for name in ("loadBalancer", "listener"):
        value = body.get(name)
        if value in (None, ""):
            problems.append((f"{where}.{name}", "is required"))
        elif not isinstance(value, str):
            problems.append((f"{where}.{name}", f"expected text, got {value!r}"))
    rule = body.get("listenerRuleArn")
    if rule not in (None, "") and not isinstance(rule, str):
        problems.append((f"{where}.listenerRuleArn", f"expected text, got {rule!r}"))
    config = body.get("forwardConfig")
    if is_expression(config):
        return problems
    if not isinstance(config, list) or not config:
        return [
            *problems,
            (f"{where}.forwardConfig", "expected a list of {targetGroupArn, weight}, at least one"),
        ]
    if len(config) > MAX_TARGET_GROUPS:
        problems.append(
            (
                f"{where}.forwardConfig",
                f"at most {MAX_TARGET_GROUPS} target groups (ELBv2), got {len(config)}",
            )
        )
    seen: set[str] = set()
    for index, item in enumerate(config):
        at = f"{where}.forwardConfig[{index}]"
        if not isinstance(item, Mapping):
            problems.append((at, f"expected a mapping with targetGroupArn and weight, got {item!r}"))
            continue
        problems += [
            (f"{at}.{k}", "unknown field (its fields: targetGroupArn, weight)")
            for k in item
            if k not in ("targetGroupArn", "weight")
        ]
        arn = item.get("targetGroupArn")
        if arn in (None, ""):
            problems.append((f"{at}.targetGroupArn", "is required"))
        elif not isinstance(arn, str):
            problems.append((f"{at}.targetGroupArn", f"expected a target group ARN, got {arn!r}"))
        elif not is_expression(arn):
            if arn in seen:
                problems.append((f"{at}.targetGroupArn", f"{arn} is already in forwardConfig"))
            seen.add(arn)
        weight = item.get("weight")
        if weight in (None, ""):
            problems.append((f"{at}.weight", "is required: a weight 0-100"))
        elif message := _weight(weight):
            problems.append((f"{at}.weight", message))
    return problems


def _weight(value: Any) -> str | None:
    """What is wrong with a percentage (None: nothing, or an expression checked once rendered)."""
    if is_expression(value):
        return None
    number = _number(value)
    if number is None or number != int(number) or not 0 <= number <= 100:
        return f"expected a whole percentage 0-100, got {value!r}"
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(str(value))
    except ValueError:
        return None


def read_traffic_shift(spec: Mapping[str, Any] | None) -> TrafficShiftSpec:
    """The rendered spec as the step runs it; call traffic_shift_problems first (ValueError if not)."""
    spec = spec or {}
    if traffic_shift_problems(spec, rendered=True):
        raise ValueError("the spec has problems; report traffic_shift_problems(spec)")
    wrapper = spec.get(WRAPPER)
    if wrapper is None:
        weights = spec.get("weights") or [spec["weightPercentage"]]
        return TrafficShiftSpec(
            INHERIT, [_whole(w) for w in weights], pause_seconds=_number(spec.get("pauseSeconds") or 0) or 0.0
        )
    body = wrapper["spec"]
    if wrapper["type"] == INHERIT:
        return TrafficShiftSpec(INHERIT, [_whole(body["weightPercentage"])])
    return TrafficShiftSpec(
        STANDALONE,
        load_balancer=str(body["loadBalancer"]),
        listener=str(body["listener"]),
        listener_rule_arn=str(body.get("listenerRuleArn") or ""),
        forward_config=[
            (str(item["targetGroupArn"]), _whole(item["weight"])) for item in body["forwardConfig"]
        ],
    )


def _whole(value: Any) -> int:
    return int(float(str(value)))
