"""The `instances` output of a step: the tasks a service (or a Run Task step) runs, JSON-ready.

ListTasks is read over all its pages and DescribeTasks in chunks of 100, so a service of 250 tasks
lists 250 instances (tools that forget either stop at 100).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from corral.aws.pagination import list_service_tasks

from .context import StepContext


def _iso(value: Any) -> str | None:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def container_summary(container: dict[str, Any]) -> dict[str, Any]:
    keys = ("name", "image", "containerArn", "runtimeId", "lastStatus", "healthStatus", "exitCode", "reason")
    return {k: container[k] for k in keys if container.get(k) is not None}


def task_summary(task: dict[str, Any]) -> dict[str, Any]:
    """One instance: taskArn, taskDefinitionArn, launchType, containers, startedAt (ISO 8601), and
    what else a later step may want to read (status, health, zone, who started it)."""
    summary: dict[str, Any] = {
        "taskArn": task["taskArn"],
        "taskDefinitionArn": task.get("taskDefinitionArn"),
        "launchType": task.get("launchType"),
        "containers": [container_summary(c) for c in task.get("containers", [])],
        "startedAt": _iso(task.get("startedAt")),
    }
    for key in ("lastStatus", "healthStatus", "availabilityZone", "startedBy", "group", "stoppedReason"):
        if task.get(key) is not None:
            summary[key] = task[key]
    return summary


def service_instances(ctx: StepContext, cluster: str, service: str) -> list[dict[str, Any]]:
    """The service's tasks whose desired status is RUNNING, oldest first."""
    tasks = list_service_tasks(ctx.clients, cluster, service)
    tasks.sort(key=lambda t: (_timestamp(t.get("startedAt") or t.get("createdAt")), t["taskArn"]))
    return [task_summary(t) for t in tasks]


def _timestamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, dt.datetime) else float("inf")
