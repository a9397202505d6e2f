"""Each service's deployments over time, for the UI's charts: the status model's deployments
(`corral.status.deployments`: every Deployment stage of the stored executions that prepared a
service, with its outcome), grouped by service and environment, oldest first, with durations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from corral.status import Deployment

NOT_RUN = ("Skipped", "NotStarted", "Queued")


def service_charts(history: Iterable[Deployment]) -> list[dict[str, Any]]:
    """[{"service", "environment", "deployments": [...]}] by service then environment."""
    by_target: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for item in history:
        if item.started_at is None or item.status in NOT_RUN:
            continue
        ended = item.ended_at
        by_target.setdefault((item.service, item.environment), []).append(
            {
                "execution_id": item.execution_id,
                "sequence_id": item.sequence_id,
                "pipeline_id": item.pipeline,
                "stage": item.stage,
                "status": item.status,
                "rolled_back": item.rolled_back,
                "started_at": item.started_at,
                "ended_at": ended,
                "duration": None if ended is None else round(ended - item.started_at, 3),
                "triggered_by": item.triggered_by,
                "tag": item.tag,
                "task_definition": item.task_definition,
            }
        )
    return [
        {
            "service": service,
            "environment": environment,
            "deployments": sorted(found, key=lambda d: d["started_at"]),
        }
        for (service, environment), found in sorted(by_target.items())
    ]
