"""What Corral deployed where, from the store: every Deployment stage that prepared a service for
an infrastructure (its journaled `StagePrepared` target), with the stage's outcome.

    history = deployments(store, "Sandbox Demo")          # newest first
    latest = last_deployments(history)                     # (service, env, infra) -> (last success, newer attempt)

The target was journaled when the stage started (rendered once, secrets left as references), so
the ECS service, cluster, image and tag are the ones the stage deployed; a step's outputs add the
task definition it registered and, for blue green, the listener rules it used.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from corral.store import ExecutionRecord, Store

from .model import Deployment, family_revision

SCANNED = 500  # executions read, newest first: the dashboard answers what ran recently
PREPARED = "StagePrepared"
_RULE_ROLES = (("prodListenerRuleArn", "production"), ("stageListenerRuleArn", "stage"))

Key = tuple[str, str, str | None]  # service, environment, infrastructure
CACHED = 5000  # ended executions whose deployments are kept in memory (the dashboard reads often)

# An ended execution's stages no longer change: its deployments are read from the store once.
_ended: OrderedDict[tuple[str, str], list[Deployment]] = OrderedDict()
_ended_lock = threading.Lock()


def deployments(store: Store, project: str, *, limit: int = SCANNED) -> list[Deployment]:
    """The project's deployments (one per Deployment stage that deployed a service), newest first."""
    found: list[Deployment] = []
    for record in store.executions(limit=limit):
        if record.project == project:
            found += _cached(store, record)
    return found


def _cached(store: Store, record: ExecutionRecord) -> list[Deployment]:
    if record.ended_at is None:
        return _of_execution(store, record)
    key = (store.url, record.id)
    with _ended_lock:
        if key in _ended:
            _ended.move_to_end(key)
            return list(_ended[key])
    read = _of_execution(store, record)
    with _ended_lock:
        _ended[key] = read
        while len(_ended) > CACHED:
            _ended.popitem(last=False)
    return list(read)


def last_deployments(history: list[Deployment]) -> dict[Key, tuple[Deployment | None, Deployment | None]]:
    """For each target: its last successful deployment, and the newest one if that one did not succeed."""
    out: dict[Key, tuple[Deployment | None, Deployment | None]] = {}
    for item in history:  # newest first
        key = (item.service, item.environment, item.infrastructure)
        success, attempt = out.get(key, (None, None))
        if success is not None:
            continue
        if item.status == "Success" and not item.rolled_back:
            out[key] = (item, attempt)
        elif attempt is None:
            out[key] = (None, item)
    return out


def _of_execution(store: Store, record: ExecutionRecord) -> list[Deployment]:
    prepared = [
        e
        for e in store.journal(record.id, kinds=[PREPARED])
        if (e.payload.get("target") or {}).get("service")
    ]
    if not prepared:
        return []
    stages = {s.key: s for s in store.stages(record.id)}
    steps = store.steps(record.id)
    by = record.snapshot.get("triggeredBy")
    out = []
    for event in reversed(prepared):  # a later stage is newer
        target: dict[str, Any] = event.payload["target"]
        stage_key = str(event.command_id or "").removesuffix("/prepare")
        stage = stages.get(stage_key)
        outputs = [
            s.outputs
            for s in steps
            if s.stage_key == stage_key and s.phase != "rollback" and s.status == "Success" and s.outputs
        ]
        artifact = ((target.get("values") or {}).get("artifacts") or {}).get("primary") or {}
        out.append(
            Deployment(
                execution_id=record.id,
                pipeline=record.pipeline_id,
                pipeline_name=record.pipeline_name,
                sequence_id=record.sequence_id,
                stage=stage.identifier if stage else stage_key,
                service=str(target["service"]),
                environment=str(target.get("environment", "")),
                infrastructure=target.get("infrastructure"),
                status=stage.status if stage else record.status,
                execution_status=record.status,
                rolled_back=bool(stage and stage.rolled_back),
                triggered_by=by if isinstance(by, str) else None,
                started_at=(stage.started_at if stage else None) or record.started_at,
                ended_at=(stage.ended_at if stage else None) or record.ended_at,
                ecs_service=target.get("serviceName"),
                cluster=target.get("cluster"),
                region=target.get("region"),
                connector=target.get("connectorRef"),
                image=target.get("image"),
                tag=artifact.get("tag"),
                task_definition=family_revision(
                    next(
                        (o["taskDefinitionArn"] for o in reversed(outputs) if o.get("taskDefinitionArn")),
                        None,
                    )
                ),
                listener_rules={
                    str(o[key]): role for o in outputs for key, role in _RULE_ROLES if o.get(key)
                },
            )
        )
    return out
