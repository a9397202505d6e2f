"""How far a service deployment is, as one line for the step log and the live view.

The line names the status and lifecycle stage, the traffic weights ECS asked for on the new and
old revisions, the new revision's tasks, the hooks and their states, and the bake time left.
`deployment_state` is what the line shows minus the clock, so a waiter logs each change once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

# The strategy's bake between traffic steps (`linearConfiguration.stepBakeTimeInMinutes`,
# `canaryConfiguration.canaryBakeTimeInMinutes`), by strategy: (configuration, field)
STEP_BAKE = {
    "LINEAR": ("linearConfiguration", "stepBakeTimeInMinutes"),
    "CANARY": ("canaryConfiguration", "canaryBakeTimeInMinutes"),
}


def bake_clock_key(deployment: dict[str, Any]) -> tuple[Any, ...]:
    """What starts a bake clock when it changes: the stage, or the traffic weights within it."""
    return (deployment.get("lifecycleStage"), _weights(deployment))


def deployment_state(deployment: dict[str, Any]) -> tuple[Any, ...]:
    """What the progress line shows, without the bake time left (which changes every second)."""
    target = deployment.get("targetServiceRevision") or {}
    return (
        deployment.get("status"),
        deployment.get("lifecycleStage"),
        _weights(deployment),
        (target.get("runningTaskCount"), target.get("requestedTaskCount"), target.get("pendingTaskCount")),
        tuple((h.get("hookId"), h.get("status")) for h in deployment.get("lifecycleHookDetails") or []),
        (deployment.get("deploymentCircuitBreaker") or {}).get("failureCount"),
        (deployment.get("alarms") or {}).get("status"),
    )


def progress_text(
    deployment: dict[str, Any], *, now: dt.datetime | None = None, state_since: dt.datetime | None = None
) -> str:
    """`Service deployment ID IN_PROGRESS, stage BAKE_TIME: production traffic 100% new / 0% old; ...`"""
    name = str(deployment.get("serviceDeploymentArn", "")).rsplit("/", 1)[-1]
    stage = deployment.get("lifecycleStage")
    head = f"Service deployment {name} {deployment.get('status', 'PENDING')}" + (
        f", stage {stage}" if stage else ""
    )
    parts = [*_traffic(deployment), *_tasks(deployment), *_hooks(deployment)]
    breaker = deployment.get("deploymentCircuitBreaker") or {}
    if breaker.get("failureCount"):
        parts.append(
            f"circuit breaker {breaker['failureCount']}/{breaker.get('threshold', '?')} failed tasks"
        )
    left = bake_time_left(deployment, now=now, state_since=state_since)
    if left is not None:
        parts.append(f"bake time left {_duration(left)}")
    return head + (": " + "; ".join(parts) if parts else "")


def bake_time_left(
    deployment: dict[str, Any], *, now: dt.datetime | None, state_since: dt.datetime | None
) -> float | None:
    """Seconds of bake left: BAKE_TIME (`bakeTimeInMinutes`) or, in a linear or canary production
    shift, the step's bake before the next shift; None when not baking or the clock is unknown."""
    if now is None or state_since is None or deployment.get("status") != "IN_PROGRESS":
        return None
    hooks = deployment.get("lifecycleHookDetails") or []
    if any(h.get("status") in ("AWAITING_ACTION", "IN_PROGRESS") for h in hooks):
        return None  # a hook holds the deployment: no bake runs meanwhile
    config = deployment.get("deploymentConfiguration") or {}
    minutes: Any = None
    stage = deployment.get("lifecycleStage")
    if stage == "BAKE_TIME":
        minutes = config.get("bakeTimeInMinutes")
    elif stage == "PRODUCTION_TRAFFIC_SHIFT" and config.get("strategy") in STEP_BAKE:
        section, field = STEP_BAKE[config["strategy"]]
        weight = (deployment.get("targetServiceRevision") or {}).get("requestedProductionTrafficWeight")
        if weight is not None and 0 < weight < 100:
            minutes = (config.get(section) or {}).get(field)
    if minutes is None:
        return None
    return max(0.0, float(minutes) * 60 - (now - state_since).total_seconds())


def _weights(deployment: dict[str, Any]) -> tuple[Any, ...]:
    target = deployment.get("targetServiceRevision") or {}
    sources = deployment.get("sourceServiceRevisions") or []
    return (
        target.get("requestedProductionTrafficWeight"),
        target.get("requestedTestTrafficWeight"),
        tuple(s.get("requestedProductionTrafficWeight") for s in sources),
    )


def _traffic(deployment: dict[str, Any]) -> list[str]:
    target = deployment.get("targetServiceRevision") or {}
    sources = deployment.get("sourceServiceRevisions") or []
    parts = []
    new = target.get("requestedProductionTrafficWeight")
    if new is not None:
        old = sum(s.get("requestedProductionTrafficWeight") or 0 for s in sources)
        parts.append(f"production traffic {_percent(new)} new / {_percent(old)} old")
    test = target.get("requestedTestTrafficWeight")
    if test is not None:
        parts.append(f"test traffic {_percent(test)} new")
    return parts


def _tasks(deployment: dict[str, Any]) -> list[str]:
    target = deployment.get("targetServiceRevision") or {}
    if target.get("requestedTaskCount") is None:
        return []
    pending = target.get("pendingTaskCount") or 0
    return [
        f"new revision {target.get('runningTaskCount', 0)}/{target['requestedTaskCount']} tasks running"
        + (f", {pending} pending" if pending else "")
    ]


def _hooks(deployment: dict[str, Any]) -> list[str]:
    parts = []
    for hook in deployment.get("lifecycleHookDetails") or []:
        text = f"hook {hook.get('hookId')} ({hook.get('targetType', 'AWS_LAMBDA')}) {hook.get('status')}"
        if hook.get("status") == "AWAITING_ACTION":
            text += ", waiting for ContinueServiceDeployment"
            expires = hook.get("expiresAt")
            if isinstance(expires, dt.datetime):
                action = hook.get("timeoutAction")
                then = f", then ECS will {action}" if action else ""
                text += f" (expires at {expires.astimezone(dt.UTC):%H:%M:%S} UTC{then})"
        parts.append(text)
    return parts


def _percent(value: float) -> str:
    return f"{value:g}%"


def _duration(seconds: float) -> str:
    whole = round(seconds)
    minutes, rest = divmod(whole, 60)
    return f"{minutes}m {rest:02d}s" if minutes else f"{rest}s"
