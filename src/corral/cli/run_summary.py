"""The summary `corral run` prints when an execution ends: what changed on which ECS service,
how long each step took, and where to read more.

It reads only what the execution journaled: each stage's prepared target (cluster, region,
service, image), the services its steps captured before changing them (their rollback data:
`exists`, `request.taskDefinition`, `request.desiredCount`), and the deployments they started
(`ecsDeployments.starting`: service and task definition, written just before CreateService /
UpdateService; see corral.ecs.context.OwnDeployments). No AWS call: the summary says what this
execution did, not what runs now.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

SUMMARY_JOURNAL = ("StagePrepared", "checkpoint")  # the journal records the summary reads
_FAILED = frozenset({"Failed", "Aborted", "Expired", "ApprovalRejected"})


@dataclass
class ServiceChange:
    cluster: str
    region: str
    service: str
    image: str | None = None
    before: str | None = None  # task definition ARN before the stage; None: a new service
    before_count: int | None = None
    captured: bool = False  # a step looked at the service before changing it
    # the services the steps captured, each as first seen: name -> (exists, task def, count)
    snapshots: dict[str, tuple[bool, str | None, int | None]] = field(default_factory=dict)
    deployed: list[tuple[str, str]] = field(default_factory=list)  # (ECS service, task def ARN)
    desired: int | None = None
    rolled_back_to: str | None = None


def revision(arn: str | None) -> str:
    """`family:revision` of a task definition ARN (`...:task-definition/web:7` -> `web:7`)."""
    if not arn:
        return "?"
    return arn.rsplit("task-definition/", 1)[-1]


def summary_lines(execution: Any, journal: Iterable[Any], *, store_hint: str | None = "") -> list[str]:
    """The summary's lines under the execution's outcome, from an Execution and its journal.
    `store_hint`: what `corral logs` needs besides the id to find the store (`--store URL`);
    None: no `more:` line (the store is not kept)."""
    changes = _changes(execution, list(journal))
    lines: list[str] = []
    for stage in execution.stages:
        state = stage.status + (", rolled back" if stage.rolled_back else "")
        lines.append(f"  stage {stage.key} ({stage.name}): {state}")
        change = changes.get(stage.key)
        if change is not None:
            lines.append(f"    {_service_line(change, stage)}")
        for step in (s for s in execution.steps if s.stage_key == stage.key and s.type != "StepGroup"):
            took_step = (
                f"{step.ended_at - step.started_at:.1f}s" if step.started_at and step.ended_at else "-"
            )
            rollback = " (rollback)" if step.phase == "rollback" else ""
            why = f": {step.error.splitlines()[0]}" if step.error and step.status in _FAILED else ""
            lines.append(f"    step {step.key}{rollback}: {step.status} {took_step}{why}")
    if store_hint is None:
        return lines
    failed = [s for s in execution.steps if s.status in _FAILED and s.type != "StepGroup"]
    logs = f"corral logs {execution.id}{store_hint}"
    lines.append("  more: " + "; ".join([f"{logs} --step {s.key}" for s in failed] + [logs]))
    return lines


def _service_line(change: ServiceChange, stage: Any) -> str:
    where = f"ECS service {change.cluster}/{change.service} ({change.region})"
    # the stage's own service, else (blue green: web__2) the last one deployed
    own = [d for d in change.deployed if d[0] == change.service] or change.deployed
    after = own[-1][1] if own else None
    before = revision(change.before) if change.before else "new service"
    rename = f" as {own[-1][0]}" if own and own[-1][0] != change.service else ""
    if after is None:
        if stage.status == "Success":
            return f"{where}: unchanged" + (f" ({revision(change.before)})" if change.before else "")
        return f"{where}: not changed (the stage ended before deploying)"
    if stage.status in _FAILED:
        image = f" (image {change.image})" if change.image else ""
        text = f"{where}: {revision(after)}{rename}{image} failed"
        if stage.rolled_back:
            if change.rolled_back_to:
                text += f"; rolled back to {revision(change.rolled_back_to)}"
            elif change.before:
                text += f"; rolled back to {revision(change.before)}"
            elif change.captured:
                text += "; rolled back (it was a new service)"
            else:
                text += "; rolled back"
        if change.before_count is not None:
            text += f", desired count {change.before_count}"
        return text
    text = f"{where}: {before} -> {revision(after)}{rename}"
    if change.image:
        text += f", image {change.image}"
    if change.desired is not None:
        text += f", desired count {change.desired}"
        if change.before_count is not None and change.before_count != change.desired:
            text += f" (was {change.before_count})"
    return text


def _changes(execution: Any, journal: list[Any]) -> dict[str, ServiceChange]:
    """Each deploying stage's service change, by stage key."""
    phase = {s.key: (s.stage_key, s.phase) for s in execution.steps}
    changes: dict[str, ServiceChange] = {}
    for record in journal:
        if record.kind == "StagePrepared" and record.payload.get("ok"):
            target = record.payload.get("target") or {}
            stage_key = str(record.payload.get("command_id", "")).removesuffix("/prepare")
            if target.get("serviceName") and target.get("cluster"):
                changes[stage_key] = ServiceChange(
                    cluster=str(target["cluster"]),
                    region=str(target.get("region") or ""),
                    service=str(target["serviceName"]),
                    image=target.get("image"),
                )
        elif record.kind == "checkpoint" and record.step_key in phase:
            stage_key, step_phase = phase[record.step_key]
            change = changes.get(stage_key)
            data = (record.payload or {}).get("data") or {}
            if change is None or not isinstance(data, dict):
                continue
            if step_phase == "rollback":
                for intent in _starting(data):
                    change.rolled_back_to = intent["taskDefinition"]
                continue
            for snapshot in _snapshots(data):  # each service as the first step to look found it
                request = snapshot.get("request") or {}
                change.snapshots.setdefault(
                    str(snapshot["serviceName"]),
                    (
                        bool(snapshot.get("exists")),
                        request.get("taskDefinition"),
                        request.get("desiredCount"),
                    ),
                )
            for intent in _starting(data):
                if (intent["service"], intent["taskDefinition"]) not in change.deployed:
                    change.deployed.append((intent["service"], intent["taskDefinition"]))
            if isinstance(data.get("deployedDesiredCount"), int):
                change.desired = data["deployedDesiredCount"]
    for change in changes.values():
        _before(change)
    for step in execution.steps:  # the count a deploy step reports it left the service with
        stage_key, step_phase = phase[step.key]
        change = changes.get(stage_key)
        outputs = step.outputs or {}
        if change is not None and step_phase != "rollback" and isinstance(outputs.get("desiredCount"), int):
            change.desired = outputs["desiredCount"]
    return changes


def _before(change: ServiceChange) -> None:
    """What ran before: the stage's own service as first captured (a canary step captures its
    canary service first), else the first captured one that existed (blue green's blue)."""
    change.captured = bool(change.snapshots)
    found = change.snapshots.get(change.service)
    if found is None:
        found = next((s for s in change.snapshots.values() if s[0] and s[1]), None)
    if found is not None and found[0] and found[1]:
        change.before, change.before_count = found[1], found[2]


def _starting(data: dict[str, Any]) -> Iterator[dict[str, str]]:
    for intent in (data.get("ecsDeployments") or {}).get("starting") or []:
        if isinstance(intent, dict) and intent.get("service") and intent.get("taskDefinition"):
            yield {"service": str(intent["service"]), "taskDefinition": str(intent["taskDefinition"])}


def _snapshots(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """The captured services in a step's rollback data (a rolling step's is the data itself, a
    blue green step's are under `blue` and `green`), blue before green, outermost first."""
    if not isinstance(data, dict) or depth > 2:
        return
    if "exists" in data and "serviceName" in data and "request" in data:
        yield data
        return
    for value in data.values():
        yield from _snapshots(value, depth + 1)
