"""Each service's deployments over time, for the UI's charts: every Deployment stage of the
stored executions that ran, by the service (and environment) it deployed, with its outcome and
how long it took. The stage's target comes from the plan of the execution's snapshot, so a
renamed or deleted pipeline still counts what it deployed then.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from corral.config.entities.common import strip_scope
from corral.engine.plan import build_plan
from corral.engine.runtime_values import mark_runtime_inputs
from corral.errors import CorralError
from corral.store import ExecutionRecord, StageRecord

ENDED_WITHOUT_RUNNING = ("Skipped", "NotStarted", "Queued")


def service_deployments(
    records: Iterable[ExecutionRecord], stages_of: Callable[[str], Sequence[StageRecord]]
) -> list[dict[str, Any]]:
    """[{"service", "environment", "deployments": [...]}] by service then environment; each
    service's deployments oldest first."""
    by_target: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for record in records:
        targets = _targets(record)
        for stage in stages_of(record.id):
            target = targets.get(stage.key)
            if target is None or stage.started_at is None or stage.status in ENDED_WITHOUT_RUNNING:
                continue
            by_target.setdefault(target, []).append(
                {
                    "execution_id": record.id,
                    "sequence_id": record.sequence_id,
                    "pipeline_id": record.pipeline_id,
                    "stage": stage.name,
                    "status": stage.status,
                    "rolled_back": stage.rolled_back,
                    "started_at": stage.started_at,
                    "ended_at": stage.ended_at,
                    "duration": None
                    if stage.ended_at is None
                    else round(stage.ended_at - stage.started_at, 3),
                    "triggered_by": record.snapshot.get("triggeredBy"),
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


def _targets(record: ExecutionRecord) -> dict[str, tuple[str, str]]:
    """stage key -> (service, environment) of the execution's Deployment stages."""
    snapshot = record.snapshot
    try:
        pipeline = mark_runtime_inputs(snapshot["pipeline"], snapshot.get("runtimeInputs") or ())
        plan = build_plan(pipeline, file=snapshot.get("file", ""))
    except (CorralError, KeyError, TypeError):
        return {}  # a snapshot this version cannot read is left out of the charts
    return {
        stage.key: (strip_scope(stage.target.service), strip_scope(stage.target.environment))
        for stage in plan.all_stages
        if stage.target is not None and stage.target.service
    }
