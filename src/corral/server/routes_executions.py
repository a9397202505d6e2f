"""Executions: run a pipeline (202 and the id), list, get, logs (also live, as server-sent
events), abort, approve or reject, resume."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Query, Request
from fastapi.responses import StreamingResponse

from corral.config.entities.common import strip_scope
from corral.config.project import Project
from corral.store import ExecutionRecord

from .auth import Caller, CallerDep, can_view, require_approver, require_production, require_role
from .schemas import (
    ApprovalIn,
    ApprovalOut,
    ExecutionOut,
    ExecutionRef,
    ExecutionSummary,
    LogLineOut,
    RunIn,
    StageOut,
    StepOut,
)
from .step_isolation import refuse_script_steps

router = APIRouter(tags=["executions"])
ExecutionId = Annotated[str, Path(max_length=64)]
STREAM_POLL = 0.2


def _duration(start: float | None, end: float | None) -> float | None:
    return None if start is None else round((end or time.time()) - start, 3)


def _summary(record: ExecutionRecord) -> ExecutionSummary:
    return ExecutionSummary(
        id=record.id,
        project=record.project,
        pipeline_id=record.pipeline_id,
        pipeline_name=record.pipeline_name,
        sequence_id=record.sequence_id,
        status=record.status,
        error=record.error,
        triggered_by=record.snapshot.get("triggeredBy"),
        created_at=record.created_at,
        started_at=record.started_at,
        ended_at=record.ended_at,
        duration=_duration(record.started_at, record.ended_at) if record.started_at else None,
    )


def _record(request: Request, who: Caller, execution_id: str) -> ExecutionRecord:
    """The execution, if the caller may see its project (else 404)."""
    server = request.app.state.server
    record: ExecutionRecord | None = server.store.execution(execution_id)
    if record is None or not can_view(server, who, record.project):
        raise HTTPException(404, f"no execution {execution_id!r}")
    return record


def production_environments(project: Project, pipeline_raw: dict[str, Any], file: str) -> list[str]:
    """The environments the pipeline's stages deploy to that are Production, or that cannot be
    told before the run (an expression): both need the Production right."""
    from corral.engine.plan import build_plan

    plan = build_plan(pipeline_raw, file=file)
    found = []
    for stage in plan.all_stages:
        if stage.target is None:
            continue
        environment = project.environments.get(strip_scope(stage.target.environment))
        if environment is None or environment.type == "Production":
            found.append(stage.target.environment)
    return found


@router.post(
    "/projects/{project}/pipelines/{pipeline}/executions", response_model=ExecutionRef, status_code=202
)
def run_pipeline(
    request: Request,
    who: CallerDep,
    project: Annotated[str, Path(max_length=64)],
    pipeline: Annotated[str, Path(max_length=128)],
    body: RunIn,
) -> ExecutionRef:
    """Check the pipeline and its inputs (422 lists the problems) and start it; the answer
    comes at once with the execution's id."""
    from corral.engine import create_execution
    from corral.engine.inputs import pipeline_inputs

    server = request.app.state.server
    if not server.projects.exists(project) or not can_view(server, who, project):
        raise HTTPException(404, f"no project {project!r}")
    require_role(server, who, project, "deployer")
    loaded = server.projects.load(project)
    filled = pipeline_inputs(loaded, pipeline, inputs=body.inputs, input_sets=body.input_sets)
    require_production(
        server, who, project, production_environments(loaded, filled.raw, filled.pipeline.file)
    )
    refuse_script_steps(server, filled.raw, filled.pipeline.file)  # not root: see step_isolation.py
    record = create_execution(
        loaded,
        pipeline,
        store=server.store,
        inputs=body.inputs,
        input_sets=body.input_sets,
        triggered_by=who.name,
        no_wait=body.no_wait,
    )
    server.runner.start(record.id)
    server.audit.record(
        who.name, "execution.run", record.id, project=project, pipeline=pipeline, inputs=body.inputs
    )
    return ExecutionRef(id=record.id, status=record.status, url=f"/api/v1/executions/{record.id}")


@router.get("/executions", response_model=list[ExecutionSummary])
def list_executions(
    request: Request,
    who: CallerDep,
    project: Annotated[str | None, Query(max_length=64)] = None,
    pipeline: Annotated[str | None, Query(max_length=128)] = None,
    status: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ExecutionSummary]:
    """Newest first, of the projects the caller may see."""
    server = request.app.state.server
    records = server.store.executions(
        pipeline_id=pipeline, status=[status] if status else None, limit=limit if project is None else 1000
    )
    visible = [
        r for r in records if (project is None or r.project == project) and can_view(server, who, r.project)
    ]
    return [_summary(r) for r in visible[:limit]]


@router.get("/executions/{execution_id}", response_model=ExecutionOut)
def get_execution(request: Request, who: CallerDep, execution_id: ExecutionId) -> ExecutionOut:
    record = _record(request, who, execution_id)
    store = request.app.state.server.store
    stages = [
        StageOut(
            key=s.key,
            identifier=s.identifier,
            name=s.name,
            status=s.status,
            started_at=s.started_at,
            ended_at=s.ended_at,
            duration=_duration(s.started_at, s.ended_at),
            error=s.error,
            rolled_back=s.rolled_back,
        )
        for s in store.stages(execution_id)
    ]
    steps = [
        StepOut(
            **{k: v for k, v in s.__dict__.items() if k != "position"},
            duration=_duration(s.started_at, s.ended_at),
        )
        for s in store.steps(execution_id)
    ]
    approvals = [
        ApprovalOut(
            **{k: v for k, v in a.__dict__.items() if k not in ("execution_id", "command_id", "inputs")}
        )
        for a in store.requests(execution_id)
    ]
    return ExecutionOut(
        **_summary(record).model_dump(),
        inputs=record.inputs.get("pipeline") or {},
        stages=stages,
        steps=steps,
        approvals=approvals,
    )


@router.get("/executions/{execution_id}/logs", response_model=list[LogLineOut])
def get_logs(
    request: Request,
    who: CallerDep,
    execution_id: ExecutionId,
    step: Annotated[str | None, Query(max_length=512, description="a step key")] = None,
    after: Annotated[int, Query(ge=0, description="only lines after this id")] = 0,
) -> list[LogLineOut]:
    _record(request, who, execution_id)
    lines = request.app.state.server.store.logs(execution_id, step_key=step, after=after)
    return [LogLineOut(**line.__dict__) for line in lines]


@router.get(
    "/executions/{execution_id}/logs/stream",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}, "description": "server-sent events"}},
)
def stream_logs(
    request: Request,
    who: CallerDep,
    execution_id: ExecutionId,
    step: Annotated[str | None, Query(max_length=512)] = None,
    after: Annotated[int, Query(ge=0)] = 0,
    last_event_id: Annotated[str | None, Header(max_length=32)] = None,
) -> StreamingResponse:
    """Log lines as they are written (`event: log`, the line as JSON, `id:` the line id), status
    changes (`event: status`), and `event: end` once the execution has ended."""
    _record(request, who, execution_id)
    store = request.app.state.server.store
    start = int(last_event_id) if last_event_id and last_event_id.isdigit() else after
    return StreamingResponse(
        _events(store, execution_id, step, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def _events(store: Any, execution_id: str, step: str | None, after: int) -> Iterator[str]:
    status = None
    while True:
        record = store.execution(execution_id)
        ended = record is None or record.ended_at is not None
        for line in store.logs(execution_id, step_key=step, after=after):
            after = line.id
            yield f"id: {line.id}\nevent: log\ndata: {json.dumps(line.__dict__)}\n\n"
        current = record.status if record else None
        if current != status:
            status = current
            yield f"event: status\ndata: {json.dumps({'status': status})}\n\n"
        if ended:
            yield f"event: end\ndata: {json.dumps({'status': status})}\n\n"
            return
        time.sleep(STREAM_POLL)


@router.post("/executions/{execution_id}/abort", status_code=202)
def abort_execution(request: Request, who: CallerDep, execution_id: ExecutionId) -> dict[str, bool]:
    """Ask the execution to stop (its running stage rolls back); false when it already ended."""
    record = _record(request, who, execution_id)
    server = request.app.state.server
    require_role(server, who, record.project, "deployer")
    done = server.runner.abort(execution_id, by=who.name)
    server.audit.record(who.name, "execution.abort", execution_id, project=record.project, accepted=done)
    return {"aborted": done}


@router.post("/executions/{execution_id}/approval", status_code=202)
def decide_approval(
    request: Request, who: CallerDep, execution_id: ExecutionId, body: ApprovalIn
) -> dict[str, str]:
    """Approve or reject the HarnessApproval step waiting; only members of its approver user
    groups (and deployers of the project) may."""
    record = _record(request, who, execution_id)
    server = request.app.state.server
    require_role(server, who, record.project, "deployer")
    waiting = [r for r in server.store.requests(execution_id, waiting=True) if r.kind == "approval"]
    if body.step is not None:
        waiting = [r for r in waiting if body.step in (r.step_key, r.step_key.rsplit("/", 1)[-1])]
    if not waiting:
        raise HTTPException(409, f"no step of execution {execution_id} is waiting for approval")
    if len(waiting) > 1:
        keys = ", ".join(r.step_key for r in waiting)
        raise HTTPException(409, f"several steps wait for approval ({keys}); name one with step")
    require_approver(who, waiting[0].approvers)
    server.runner.decide(
        execution_id,
        approve=body.approve,
        by=who.name,
        comment=body.comment,
        step=waiting[0].step_key,
        inputs=body.inputs,
    )
    decision = "Approved" if body.approve else "Rejected"
    server.audit.record(
        who.name,
        "execution.approve" if body.approve else "execution.reject",
        execution_id,
        project=record.project,
        step=waiting[0].step_key,
        comment=body.comment,
    )
    return {"status": decision, "step": waiting[0].step_key}


@router.post("/executions/{execution_id}/resume", response_model=ExecutionRef, status_code=202)
def resume_execution(request: Request, who: CallerDep, execution_id: ExecutionId) -> ExecutionRef:
    """Continue an execution whose process died (finished steps are not run again)."""
    record = _record(request, who, execution_id)
    server = request.app.state.server
    require_role(server, who, record.project, "deployer")
    if record.ended_at is not None:
        raise HTTPException(409, f"execution {execution_id} has ended ({record.status})")
    lease = getattr(server.settings.executor_options, "lease", 60.0)
    alive = record.heartbeat_at is not None and time.time() - record.heartbeat_at < lease
    if execution_id in server.runner.running() or (record.owner and alive):
        raise HTTPException(409, f"execution {execution_id} is running ({record.owner or 'here'})")
    loaded = server.projects.load(record.project)
    snapshot = record.snapshot
    require_production(
        server,
        who,
        record.project,
        production_environments(loaded, snapshot["pipeline"], snapshot.get("file", "")),
    )
    server.runner.start(execution_id)
    server.audit.record(who.name, "execution.resume", execution_id, project=record.project)
    return ExecutionRef(id=record.id, status=record.status, url=f"/api/v1/executions/{record.id}")
