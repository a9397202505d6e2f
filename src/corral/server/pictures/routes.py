"""The API routes of the UI's pictures (mounted under /api/v1 by `app.py`): an execution's
graph, timeline and traffic, and a project's deployments per service for the charts."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from corral.errors import CorralError
from corral.status import deployments
from corral.status.deployed import _of_execution as stage_deployments  # one execution's

from ..auth import CallerDep, can_view
from ..routes_executions import ExecutionId, _record
from ..routes_ui import _clients, _short
from .charts import service_charts
from .graph import pipeline_graph
from .timeline import deployment_timeline
from .traffic import traffic_picture

router = APIRouter(tags=["pictures"])


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
    """For each Deployment stage that prepared an ECS service: where traffic goes now (listeners,
    rules, target groups with weights and health, services), read through the connector of the
    target the stage journaled. A stage AWS could not be asked about carries `error`."""
    record = _record(request, who, execution_id)
    server = request.app.state.server
    names = {s.identifier: s.name for s in server.store.stages(execution_id)}
    stages = []
    for deployment in stage_deployments(server.store, record):
        found: dict[str, Any] = {
            "stage_key": deployment.stage,
            "stage": names.get(deployment.stage, deployment.stage),
            "service": deployment.service,
        }
        if not (deployment.ecs_service and deployment.cluster and deployment.connector):
            found["error"] = "the stage's target names no ECS service, cluster or connector"
        else:
            try:
                clients = _clients(
                    server.projects.load(record.project), deployment.connector, deployment.region
                )
                found |= traffic_picture(clients, deployment)
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
    history = deployments(server.store, project)
    found = service_charts(d for d in history if service is None or d.service == service)
    return {"project": project, "services": found}
