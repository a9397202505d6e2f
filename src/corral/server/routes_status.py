"""What runs where: the services dashboard's data (corral.status), read through each
infrastructure's AWS connector and the server's store.

    GET /projects/{p}/status[?service=ID&env=ID]        every service per environment / infrastructure
    GET /projects/{p}/services/{s}/history[?limit=N]    the executions that deployed a service, newest first
"""

from __future__ import annotations

import threading
import time
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request

from corral.config.project import Project
from corral.errors import CorralError

from .auth import CallerDep, can_view
from .schemas import DeploymentOut, ProjectStatusOut

router = APIRouter(tags=["status"])
ProjectName = Annotated[str, Path(max_length=64)]
Identifier = Annotated[str | None, Query(max_length=128)]
# Several people (and tabs) looking at one project's dashboard share one AWS read for this long:
# every look is a dozen read calls per service, from the budget the deployments' steps use too.
SHARED_SECONDS = 3.0
_recent: dict[tuple[str, str, str | None, str | None], tuple[float, Any]] = {}
_recent_lock = threading.Lock()


@router.get("/projects/{project}/status", response_model=ProjectStatusOut)
def project_status(
    request: Request, who: CallerDep, project: ProjectName, service: Identifier = None, env: Identifier = None
) -> Any:
    """For each service and environment / infrastructure: what AWS says now (revision, images,
    tasks, deployments, blue / green roles, listener weights, autoscaling) beside what Corral
    last deployed there, and drift between the two. A target AWS could not be read carries the
    error; the others are still answered."""
    from corral.status import project_status as read_status

    loaded = _project(request, who, project)
    if service is not None and service not in loaded.services:
        raise HTTPException(404, f"no service {service!r} in project {project}")
    if env is not None and env not in loaded.environments:
        raise HTTPException(404, f"no environment {env!r} in project {project}")
    store = request.app.state.server.store
    key = (store.url, project, service, env)  # store.url: one server's projects, not another's
    with _recent_lock:
        found = _recent.get(key)
    if found is not None and time.monotonic() - found[0] < SHARED_SECONDS:
        return found[1]
    answer = read_status(loaded, store, service=service, environment=env, clients_for=_shared_clients)
    with _recent_lock:
        now = time.monotonic()
        for old in [k for k, (at, _) in _recent.items() if now - at >= SHARED_SECONDS]:
            del _recent[old]
        _recent[key] = (now, answer)
    return answer


@router.get("/projects/{project}/services/{service}/history", response_model=list[DeploymentOut])
def service_history(
    request: Request,
    who: CallerDep,
    project: ProjectName,
    service: Annotated[str, Path(max_length=128)],
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> Any:
    """The stages that deployed the service, every environment, newest first."""
    from corral.status import service_history as history

    loaded = _project(request, who, project)
    if service not in loaded.services:
        raise HTTPException(404, f"no service {service!r} in project {project}")
    return history(request.app.state.server.store, loaded, service)[:limit]


def _project(request: Request, who: Any, name: str) -> Project:
    server = request.app.state.server
    if not server.projects.exists(name) or not can_view(server, who, name):
        raise HTTPException(404, f"no project {name!r}")
    project: Project = server.projects.load(name)
    return project


def _shared_clients(project: Project, connector_ref: str, region: str) -> Any:
    """The connector's clients, shared between requests (as the UI's AWS look-ups use them)."""
    from corral.aws.clients import Clients
    from corral.config.connections import aws_settings
    from corral.config.entities.common import strip_scope
    from corral.config.entities.connector import AwsConnector
    from corral.config.secrets import SecretResolver

    connector = project.connector(strip_scope(connector_ref))
    if not isinstance(connector, AwsConnector):
        raise CorralError(f"no AWS connector {connector_ref!r} in project {project.name}")
    return Clients.shared(aws_settings(connector, SecretResolver(project), region=region).for_clients())
