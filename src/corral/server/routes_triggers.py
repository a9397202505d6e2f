"""Triggers: the project's `trigger:` entities with their last poll, the tags each has seen
(and the executions they started), and polling one now."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel

from .auth import CallerDep, can_view, require_role

router = APIRouter(tags=["triggers"])
ProjectName = Annotated[str, Path(max_length=64)]
TriggerId = Annotated[str, Path(max_length=128)]


class TriggerOut(BaseModel):
    identifier: str
    name: str
    pipeline: str
    enabled: bool
    poll_interval: str
    tag_pattern: str | None
    source: str  # `DockerRegistry registry/team/web` or `service web`
    last_poll_at: float | None
    last_error: str | None
    tags_seen: int
    executions: int


class TriggerTagOut(BaseModel):
    tag: str
    digest: str | None
    first_seen: float
    status: str  # Existing (there before the first poll), Starting, Started, Failed
    execution_id: str | None
    error: str | None


class PollOut(BaseModel):
    trigger: str
    first: bool
    new_tags: list[str]
    executions: list[str]
    error: str | None


def _project(request: Request, who: CallerDep, project: str) -> Any:
    """The server, when the caller may see the project (else 404)."""
    server = request.app.state.server
    if not server.projects.exists(project) or not can_view(server, who, project):
        raise HTTPException(404, f"no project {project!r}")
    return server


@router.get("/projects/{project}/triggers", response_model=list[TriggerOut])
def list_triggers(request: Request, who: CallerDep, project: ProjectName) -> list[TriggerOut]:
    """The project's triggers with their last poll and its error."""
    server = _project(request, who, project)
    triggers = server.projects.load(project).triggers
    status = server.triggers.status(project, triggers)
    out = []
    for trigger in triggers.values():
        if trigger.source is not None:
            spec = trigger.source.spec
            source = f"{spec.type} {spec.spec.connector_ref}/{spec.spec.image_path}"
        else:
            source = f"service {trigger.service_ref}" + (
                f"/{trigger.artifact_ref}" if trigger.artifact_ref else ""
            )
        out.append(
            TriggerOut(
                identifier=trigger.identifier,
                name=trigger.name,
                pipeline=trigger.pipeline_identifier,
                enabled=trigger.enabled,
                poll_interval=str(trigger.poll_interval),
                tag_pattern=trigger.tag_pattern,
                source=source,
                **status[trigger.identifier],
            )
        )
    return out


@router.get("/projects/{project}/triggers/{trigger}/history", response_model=list[TriggerTagOut])
def trigger_history(
    request: Request,
    who: CallerDep,
    project: ProjectName,
    trigger: TriggerId,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[TriggerTagOut]:
    """Every tag the trigger has seen, newest first, with the execution it started."""
    server = _project(request, who, project)
    if trigger not in server.projects.load(project).triggers:
        raise HTTPException(404, f"no trigger {trigger!r} in project {project!r}")
    return [TriggerTagOut(**row) for row in server.triggers.history(project, trigger, limit=limit)]


@router.post("/projects/{project}/triggers/{trigger}/poll", response_model=PollOut)
def poll_trigger(request: Request, who: CallerDep, project: ProjectName, trigger: TriggerId) -> PollOut:
    """Poll the trigger's repository now; new matching tags start their runs."""
    server = _project(request, who, project)
    require_role(server, who, project, "deployer")
    try:
        outcome = server.triggers.poll(project, trigger)
    except KeyError:
        raise HTTPException(404, f"no trigger {trigger!r} in project {project!r}") from None
    return PollOut(
        trigger=outcome.trigger_id,
        first=outcome.first,
        new_tags=outcome.new_tags,
        executions=outcome.executions,
        error=outcome.error,
    )
