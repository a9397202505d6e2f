"""The API routes of the UI's pictures (mounted under /api/v1 by `app.py`): an execution's
graph, timeline and traffic, and a project's deployments per service for the charts."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from corral.config.entities.common import strip_scope
from corral.engine.plan import build_plan
from corral.engine.runtime_values import mark_runtime_inputs
from corral.errors import CorralError

from ..auth import CallerDep, can_view
from ..routes_executions import ExecutionId, _record
from ..routes_ui import _clients, _short
from .charts import service_deployments
from .graph import pipeline_graph
from .timeline import deployment_timeline
from .traffic import traffic_picture

router = APIRouter(tags=["pictures"])
# step outputs that name a service the stage deployed (ECS steps; Blue Green's two)
SERVICE_OUTPUTS = ("serviceName", "greenServiceName", "blueServiceName")
CHART_EXECUTIONS = 500  # the newest executions the charts read


@router.get("/executions/{execution_id}/graph")
def execution_graph(request: Request, who: CallerDep, execution_id: ExecutionId) -> dict[str, Any]:
    """The pipeline's stages, step groups, parallel branches, looping iterations and rollback
    steps; node keys are the step keys of `GET /executions/{id}`."""
    record = _record(request, who, execution_id)
    try:
        return pipeline_graph(record.snapshot)
    except CorralError as error:
        raise HTTPException(409, f"the execution's pipeline cannot be drawn: {error}") from None


@router.get("/executions/{execution_id}/timeline")
def execution_timeline(request: Request, who: CallerDep, execution_id: ExecutionId) -> dict[str, Any]:
    """When each step ran and the ECS service events its steps logged, on one time axis."""
    _record(request, who, execution_id)
    store = request.app.state.server.store
    return deployment_timeline(store.steps(execution_id), store.logs(execution_id), now=time.time())


@router.get("/executions/{execution_id}/traffic")
def execution_traffic(request: Request, who: CallerDep, execution_id: ExecutionId) -> dict[str, Any]:
    """For each Deployment stage whose steps named services: where traffic goes now (listeners,
    rules, target groups with weights and health, services), read through the stage's
    infrastructure's AWS connector. A stage AWS could not be asked about carries `error`."""
    record = _record(request, who, execution_id)
    server = request.app.state.server
    project = server.projects.load(record.project)
    services: dict[str, set[str]] = {}
    for step in server.store.steps(execution_id):
        for output in SERVICE_OUTPUTS:
            value = (step.outputs or {}).get(output)
            if isinstance(value, str) and value:
                services.setdefault(step.stage_key, set()).add(value)
    stages = []
    for stage in _plan(record.snapshot).all_stages:
        if stage.key not in services or stage.target is None or not stage.target.infrastructure:
            continue
        found: dict[str, Any] = {"stage_key": stage.key, "stage": stage.name}
        infra = project.infrastructures.get(
            (strip_scope(stage.target.environment), strip_scope(stage.target.infrastructure))
        )
        spec = (infra.raw.get("infrastructureDefinition", {}).get("spec", {})) if infra else {}
        if not spec.get("connectorRef") or not spec.get("cluster"):
            found["error"] = "the stage's infrastructure names no connector or cluster"
        else:
            try:
                clients = _clients(project, str(spec["connectorRef"]), spec.get("region"))
                found |= traffic_picture(clients, cluster=str(spec["cluster"]), services=services[stage.key])
            except HTTPException as error:
                found["error"] = str(error.detail)
            except Exception as error:  # any AWS failure is shown to the user as text
                found["error"] = f"AWS did not answer: {_short(error)}"
        stages.append(found)
    return {"stages": stages}


@router.get("/projects/{project}/deployments")
def project_deployments(
    request: Request,
    who: CallerDep,
    project: Annotated[str, Path(max_length=64)],
    service: Annotated[str | None, Query(max_length=128)] = None,
) -> dict[str, Any]:
    """Each service's deployments (Deployment stages of stored executions), oldest first, with
    outcome and duration: what the charts draw."""
    server = request.app.state.server
    if not server.projects.exists(project) or not can_view(server, who, project):
        raise HTTPException(404, f"no project {project!r}")
    records = [r for r in server.store.executions(limit=CHART_EXECUTIONS) if r.project == project]
    found = service_deployments(records, server.store.stages)
    if service is not None:
        found = [f for f in found if f["service"] == service]
    return {"project": project, "services": found}


def _plan(snapshot: dict[str, Any]) -> Any:
    pipeline = mark_runtime_inputs(snapshot["pipeline"], snapshot.get("runtimeInputs") or ())
    return build_plan(pipeline, file=snapshot.get("file", ""))
