"""The phases of an ECS-native deployment (BLUE_GREEN, LINEAR, CANARY) and how long it may take,
read from a converted service definition (and its task definition, for health checks). Pure:
`corral plan` and `corral render` show it; nothing here calls AWS.

    phases = deployment_phases(service_request, task_request)   # None for ROLLING
    phases.line()      # scale up green (2 tasks) → test traffic → [PAUSE hook ...] → production 10% → ...
    phases.estimate    # minutes, longest_minutes (every PAUSE hook waiting until it times out), parts

The order is ECS's lifecycle (DescribeServiceDeployments `lifecycleStage`, botocore's
DeploymentLifecycleHook.lifecycleStages text): RECONCILE_SERVICE, PRE_SCALE_UP, SCALE_UP,
POST_SCALE_UP, TEST_TRAFFIC_SHIFT, POST_TEST_TRAFFIC_SHIFT, PRE_PRODUCTION_TRAFFIC_SHIFT,
PRODUCTION_TRAFFIC_SHIFT, POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME, CLEAN_UP. For LINEAR and
CANARY the PRE_PRODUCTION_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT hooks run at every traffic
step. Defaults are AWS's: LINEAR 10% steps with 6 min between them (no bake after 100%),
CANARY 5% for 10 min; a hook's timeout 1440 min with action ROLLBACK
(API_LinearConfiguration, API_CanaryConfiguration, API_DeploymentLifecycleHookTimeoutConfiguration).
The number of linear steps is CloudFormation's (AWS::ECS::Service LinearConfiguration):
ceil(100 / stepPercent) shifts, one step bake fewer.

The estimate is a sum of assumptions, each said in `Estimate.assumes`: tasks start in
TASK_START_MINUTES; a target is healthy after the target group's default checks (5 x 30 s) or
a container health check after its first interval; Lambda hooks answer at once; the old
revision drains for the target group's default deregistration delay (300 s).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from corral.manifests.native_rules import NATIVE_STRATEGIES, shifts_traffic, strategy_of

TASK_START_MINUTES = 1.0  # Fargate: ENI, image pull and start; a guess, said as one
ELB_HEALTHY_MINUTES = 2.5  # target group defaults: healthy threshold 5 x interval 30 s
NO_CHECK_HEALTHY_MINUTES = 40 / 60  # no load balancer, no health check: healthy 40 s after RUNNING
DEREGISTRATION_MINUTES = 5.0  # target group default deregistration_delay.timeout_seconds 300
STOP_MINUTES = 0.5  # stopTimeout default 30 s
DEFAULTS = {
    "LINEAR": ("linearConfiguration", "stepPercent", 10.0, "stepBakeTimeInMinutes", 6),
    "CANARY": ("canaryConfiguration", "canaryPercent", 5.0, "canaryBakeTimeInMinutes", 10),
}
HOOK_TIMEOUT_MINUTES, HOOK_TIMEOUT_ACTION = 1440, "ROLLBACK"
# the circuit breaker's default threshold and BOUNDED_PERCENT's bounds, in failed tasks
BREAKER_DEFAULT_PERCENT, BREAKER_MIN_TASKS, BREAKER_MAX_TASKS = 50, 3, 200
PER_STEP_STAGES = ("PRE_PRODUCTION_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT")
ELIDE_AFTER = 8  # traffic steps shown before the rest are summed up as "…"


@dataclass(frozen=True)
class Phase:
    """One thing ECS does, in the lifecycle stage it does it in; `minutes` is its share of the
    estimate, `pause_minutes` how long a PAUSE hook may hold it (its timeout)."""

    stage: str
    text: str
    minutes: float = 0.0
    pause_minutes: float = 0.0
    step: int = 0  # the traffic step (1, 2, ...) of a LINEAR or CANARY shift; 0 outside them


@dataclass(frozen=True)
class Estimate:
    minutes: float  # every PAUSE hook continued at once
    longest_minutes: float  # every PAUSE hook waiting until it times out
    parts: dict[str, float]
    assumes: tuple[str, ...]


@dataclass(frozen=True)
class DeploymentPhases:
    strategy: str
    phases: tuple[Phase, ...]
    estimate: Estimate
    notes: tuple[str, ...] = field(default=())

    def line(self) -> str:
        """The phases joined by arrows; a long LINEAR rollout keeps its first and last steps."""
        steps = max((p.step for p in self.phases), default=0)
        shown: list[str] = []
        for phase in self.phases:
            if steps > ELIDE_AFTER and ELIDE_AFTER // 2 < phase.step < steps:
                if not shown or shown[-1] != "…":
                    shown.append("…")
                continue
            later_step = phase.step > 1 and phase.text.startswith("production ")
            shown.append(phase.text.removeprefix("production ") if later_step else phase.text)
        return " → ".join(shown)

    def estimate_line(self) -> str:
        e = self.estimate
        parts = " + ".join(f"{label} {minutes_text(m)}" for label, m in e.parts.items() if m)
        text = f"about {minutes_text(e.minutes)} ({parts})"
        if e.longest_minutes > e.minutes:
            text += f"; up to {minutes_text(e.longest_minutes)} if every PAUSE hook waits until it times out"
        return text

    def to_dict(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "phases": self.line(),
            "lifecycle": [{"stage": p.stage, "does": p.text} for p in self.phases],
            "estimate": {
                "minutes": round(self.estimate.minutes, 1),
                "longestMinutes": round(self.estimate.longest_minutes, 1),
                "parts": {k: round(v, 1) for k, v in self.estimate.parts.items()},
                "assumes": list(self.estimate.assumes),
            },
            **({"notes": list(self.notes)} if self.notes else {}),
        }


def deployment_phases(service: dict[str, Any], task: dict[str, Any] | None = None) -> DeploymentPhases | None:
    """The phases and duration estimate of the service's native strategy; None for ROLLING
    (or a strategy still given as an expression)."""
    strategy = strategy_of(service)
    if strategy not in NATIVE_STRATEGIES:
        return None
    config = service.get("deploymentConfiguration") or {}
    hooks = _hooks(config)
    health, health_assumes = _health_minutes(service, task or {})
    phases: list[Phase] = []
    phases += hooks.at("RECONCILE_SERVICE", "only when more than one revision is active")
    phases += hooks.at("PRE_SCALE_UP")
    count = service.get("desiredCount")
    tasks = f" ({count} task{'s' if count != 1 else ''})" if isinstance(count, int) else ""
    phases.append(Phase("SCALE_UP", f"scale up green{tasks}", TASK_START_MINUTES + health))
    phases += hooks.at("POST_SCALE_UP")
    phases.append(Phase("TEST_TRAFFIC_SHIFT", _test_traffic(service)))
    phases += hooks.at("TEST_TRAFFIC_SHIFT")
    phases += hooks.at("POST_TEST_TRAFFIC_SHIFT")
    phases += _production(strategy, config, hooks)
    phases += hooks.at("POST_PRODUCTION_TRAFFIC_SHIFT")
    bake = _int(config.get("bakeTimeInMinutes"))
    phases.append(Phase("BAKE_TIME", f"bake {minutes_text(bake or 0)}", bake or 0))
    cleanup = DEREGISTRATION_MINUTES if service.get("loadBalancers") else STOP_MINUTES
    phases.append(Phase("CLEAN_UP", "clean up blue", cleanup))
    assumes = [
        f"tasks start in about {minutes_text(TASK_START_MINUTES)}",
        *health_assumes,
        "Lambda hooks answer at once",
        "the old revision drains for the target group's default deregistration delay (300 s)"
        if service.get("loadBalancers")
        else "old tasks stop within the default stopTimeout (30 s)",
    ]
    if bake is None:
        assumes.append("bakeTimeInMinutes is not set: counted as 0")
    return DeploymentPhases(
        strategy, tuple(phases), _estimate(phases, health, assumes), _notes(service, config)
    )


def minutes_text(minutes: float) -> str:
    """6 min, 2.5 min, 1 h 30 min, 24 h."""
    if minutes < 60:
        return f"{minutes:g} min" if minutes == int(minutes) else f"{minutes:.1f} min"
    hours, rest = divmod(round(minutes), 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


def _notes(service: dict[str, Any], config: dict[str, Any]) -> tuple[str, ...]:
    """What else decides the deployment: no traffic to shift, alarms, the circuit breaker."""
    notes = (
        []
        if shifts_traffic(service)
        else ["no load balancer, Service Connect or VPC Lattice: ECS shifts no traffic"]
    )
    alarms = config.get("alarms") or {}
    if alarms.get("enable") and alarms.get("alarmNames"):
        outcome = "rolls back" if alarms.get("rollback") else "fails"
        notes.append(
            f"alarms {', '.join(map(str, alarms['alarmNames']))}: the deployment {outcome} if one goes to ALARM"
        )
    breaker = config.get("deploymentCircuitBreaker") or {}
    if breaker.get("enable"):
        notes.append(circuit_breaker_note(breaker, service.get("desiredCount")))
    return tuple(notes)


def circuit_breaker_note(breaker: dict[str, Any], desired: Any) -> str:
    """When the circuit breaker ends the deployment (API ThresholdConfiguration: COUNT is the
    number of failed tasks, a percent type multiplies its value by the desired count, and
    BOUNDED_PERCENT keeps the result between 3 and 200; default BOUNDED_PERCENT 50)."""
    outcome = "rolls back" if breaker.get("rollback") else "fails"
    threshold = breaker.get("thresholdConfiguration") or {}
    kind = str(threshold.get("type") or "BOUNDED_PERCENT")
    value = _int(threshold.get("value"))
    value = BREAKER_DEFAULT_PERCENT if value is None and "type" not in threshold else value
    text = f"circuit breaker: the deployment {outcome} after {_failed_tasks(kind, value, desired)}"
    if breaker.get("resetOnHealthyTask") is False:
        return text + " (the count is not reset when a task becomes healthy)"
    return text + " (a task that becomes healthy resets the count)"


def _failed_tasks(kind: str, value: int | None, desired: Any) -> str:
    if value is None:
        return "as many failed tasks as its thresholdConfiguration says"
    if kind == "COUNT":
        return f"{value} failed task{'s' if value != 1 else ''}"
    count = _int(desired)
    if count is None:
        bounds = ", at least 3 and at most 200" if kind == "BOUNDED_PERCENT" else ""
        return f"failed tasks reach {value}% of the desired count{bounds}"
    tasks = math.ceil(value * count / 100)
    if kind == "BOUNDED_PERCENT":
        tasks = min(max(tasks, BREAKER_MIN_TASKS), BREAKER_MAX_TASKS)
    return f"{tasks} failed task{'s' if tasks != 1 else ''} ({kind} {value}% of {count} desired)"


# -- production traffic ---------------------------------------------------------------------------


def _production(strategy: str, config: dict[str, Any], hooks: _Hooks) -> list[Phase]:
    if strategy == "BLUE_GREEN":
        return [
            *hooks.at("PRE_PRODUCTION_TRAFFIC_SHIFT"),
            Phase("PRODUCTION_TRAFFIC_SHIFT", "production 100%"),
            *hooks.at("PRODUCTION_TRAFFIC_SHIFT"),
        ]
    key, percent_key, percent_default, bake_key, bake_default = DEFAULTS[strategy]
    settings = config.get(key) or {}
    percent = _float(settings.get(percent_key), percent_default)
    bake = _int(settings.get(bake_key))
    bake = bake_default if bake is None else bake
    if strategy == "LINEAR":
        tenths = max(round(percent * 10), 1)
        weights = [min(k * tenths, 1000) / 10 for k in range(1, math.ceil(1000 / tenths) + 1)]
    else:
        weights = [percent, 100.0] if percent < 100 else [100.0]
    phases: list[Phase] = []
    several = len(weights) > 1
    for step, weight in enumerate(weights, start=1):
        if step == 1:  # shown once, said to run at every step (counted so in the estimate)
            phases += hooks.at("PRE_PRODUCTION_TRAFFIC_SHIFT", "before every step" if several else "", step=1)
        phases.append(Phase("PRODUCTION_TRAFFIC_SHIFT", f"production {weight:g}%", step=step))
        if step == 1:
            phases += hooks.at("PRODUCTION_TRAFFIC_SHIFT", "at every step" if several else "", step=1)
        if step < len(weights):  # no step bake after 100%
            phases.append(Phase("PRODUCTION_TRAFFIC_SHIFT", f"bake {minutes_text(bake)}", bake, step=step))
    return phases


def _test_traffic(service: dict[str, Any]) -> str:
    balancers = [lb for lb in service.get("loadBalancers") or [] if isinstance(lb, dict)]
    if any((lb.get("advancedConfiguration") or {}).get("testListenerRule") for lb in balancers):
        return "test traffic (test listener rule → green)"
    if _service_connect_test_rules(service):
        return "test traffic (Service Connect test header → green)"
    return "test traffic: none (no testListenerRule)" if balancers else "test traffic: none"


def _service_connect_test_rules(service: dict[str, Any]) -> bool:
    connect = service.get("serviceConnectConfiguration") or {}
    return any(
        alias.get("testTrafficRules")
        for entry in connect.get("services") or []
        for alias in entry.get("clientAliases") or []
        if isinstance(alias, dict)
    )


# -- hooks --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Hook:
    target: str
    name: str
    timeout: int
    action: str

    def text(self, stage: str, when: str) -> str:
        where = f"{stage}, {when}" if when else stage
        if self.target == "PAUSE":
            return f"[PAUSE hook at {where}, times out after {minutes_text(self.timeout)}: {self.action}]"
        return f"[Lambda hook {self.name} at {where}]"


class _Hooks:
    def __init__(self, by_stage: dict[str, list[_Hook]]) -> None:
        self.by_stage = by_stage

    def at(self, stage: str, when: str = "", *, step: int = 0) -> list[Phase]:
        """The hooks of a stage, as phases; `when` adds when they run (e.g. "before every step")."""
        found = []
        for hook in self.by_stage.get(stage, []):
            pause = hook.timeout if hook.target == "PAUSE" else 0.0
            found.append(Phase(stage, hook.text(stage, when), pause_minutes=pause, step=step))
        return found


def _hooks(config: dict[str, Any]) -> _Hooks:
    by_stage: dict[str, list[_Hook]] = {}
    for raw in config.get("lifecycleHooks") or []:
        if not isinstance(raw, dict):
            continue
        timeout = raw.get("timeoutConfiguration") or {}
        arn = str(raw.get("hookTargetArn") or "")
        hook = _Hook(
            target=str(raw.get("targetType") or "AWS_LAMBDA"),
            name=arn.rsplit(":function:", 1)[-1] if ":function:" in arn else arn or "(no function)",
            timeout=_int(timeout.get("timeoutInMinutes")) or HOOK_TIMEOUT_MINUTES,
            action=str(timeout.get("action") or HOOK_TIMEOUT_ACTION),
        )
        for stage in raw.get("lifecycleStages") or []:
            by_stage.setdefault(str(stage), []).append(hook)
    return _Hooks(by_stage)


# -- estimate -----------------------------------------------------------------------------------


def _health_minutes(service: dict[str, Any], task: dict[str, Any]) -> tuple[float, list[str]]:
    container = _container_check_minutes(task)
    if service.get("loadBalancers"):
        minutes = max(ELB_HEALTHY_MINUTES, container or 0)
        return minutes, ["targets pass the target group's default health checks (5 x 30 s)"]
    if container is not None:
        return container, ["containers pass their first health check"]
    return NO_CHECK_HEALTHY_MINUTES, ["with no health check, a task counts as healthy 40 s after RUNNING"]


def _container_check_minutes(task: dict[str, Any]) -> float | None:
    intervals = [
        int((c.get("healthCheck") or {}).get("interval") or 30)
        for c in task.get("containerDefinitions") or []
        if isinstance(c, dict) and c.get("healthCheck") and c.get("essential", True)
    ]
    return max(intervals) / 60 if intervals else None


def _estimate(phases: list[Phase], health: float, assumes: list[str]) -> Estimate:
    steps = sum(p.minutes for p in phases if p.stage == "PRODUCTION_TRAFFIC_SHIFT")
    bake = sum(p.minutes for p in phases if p.stage == "BAKE_TIME")
    cleanup = sum(p.minutes for p in phases if p.stage == "CLEAN_UP")
    parts = {
        "task start": TASK_START_MINUTES,
        "health checks": health,
        "traffic step bakes": steps,
        "bake": bake,
        "clean up": cleanup,
    }
    total = sum(parts.values())
    pauses = sum(p.pause_minutes * _repeats(p, phases) for p in phases)
    return Estimate(total, total + pauses, parts, tuple(assumes))


def _repeats(phase: Phase, phases: list[Phase]) -> int:
    """A per-step hook shown at the first step runs at every step."""
    if phase.step == 1 and phase.stage in PER_STEP_STAGES:
        return max(p.step for p in phases)
    return 1


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _float(value: Any, default: float) -> float:
    return (
        float(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        else default
    )
