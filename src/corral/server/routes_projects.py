"""Projects and their entities: create from YAML, upload/replace, edit, list, get, delete,
secrets (write-only values) and sync from a Git repository."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query, Request
from sqlalchemy import insert, select, update

from corral.manifests.git_store import without_credentials

from .auth import CallerDep, can_view, require_admin, require_role
from .git_sources import SourceRefused, check_source
from .projects import EntityInfo, Refused
from .schemas import EntityDocumentOut, EntityOut, GitSyncIn, ProjectIn, ProjectOut, SecretIn, YamlIn
from .tables import projects as projects_table

router = APIRouter(tags=["projects"])
ProjectName = Annotated[str, Path(max_length=64)]
Kind = Annotated[str, Path(max_length=64, description="service, environment, pipeline, ...")]
Identifier = Annotated[str, Path(max_length=128)]
Scope = Annotated[
    str | None,
    Query(max_length=128, description="the environment of an infrastructure, the pipeline of an input set"),
]


def _entity(info: EntityInfo) -> EntityOut:
    return EntityOut(**info.__dict__)


def _project_out(request: Request, name: str, role: str | None) -> ProjectOut:
    server = request.app.state.server
    with server.store.engine.begin() as conn:
        row = conn.execute(select(projects_table).where(projects_table.c.name == name)).first()
    counts = Counter(info.kind for info in server.projects.entities(name))
    return ProjectOut(
        name=name,
        role=role,
        git_url=without_credentials(row.git_url) if row and row.git_url else None,  # older rows
        git_ref=row.git_ref if row else None,
        entities=dict(counts),
    )


def _remember(request: Request, name: str, git_url: str | None = None, git_ref: str | None = None) -> None:
    engine = request.app.state.server.store.engine
    now = time.time()
    with engine.begin() as conn:
        known = conn.execute(select(projects_table.c.name).where(projects_table.c.name == name)).first()
        values = {"updated_at": now, **({"git_url": git_url, "git_ref": git_ref} if git_url else {})}
        if known is None:
            conn.execute(insert(projects_table).values(name=name, created_at=now, **values))
        else:
            conn.execute(update(projects_table).where(projects_table.c.name == name).values(**values))


def _role_name(request: Request, who: CallerDep, name: str) -> str | None:
    if who.user.admin:
        return "admin"
    role = request.app.state.server.accounts.role(who.name, name)
    return role.role if role else None


@contextmanager
def _refusals_audited(request: Request, who: CallerDep, attempted: str, target: str) -> Iterator[None]:
    """A write refused for a name that would become a path (or a Git source) is recorded
    with who tried what, then answered (422 with the problems, or the source's 400/403)."""
    audit = request.app.state.server.audit
    target = target.encode("unicode_escape").decode("ascii")[:300]  # a NUL fits no database text
    project = target.split("/", 1)[0]
    try:
        yield
    except Refused as error:
        problems = [f"{p.file}: {p.path}: {p.message}" for p in error.problems]
        audit.record(
            who.name, "write.refused", target, project=project, attempted=attempted, problems=problems
        )
        raise
    except SourceRefused as error:
        audit.record(
            who.name, "write.refused", target, project=project, attempted=attempted, reason=str(error)
        )
        raise HTTPException(error.status, str(error)) from None


def _viewable(request: Request, who: CallerDep, name: str) -> None:
    """404 for a project the caller may not see (its existence is not told)."""
    server = request.app.state.server
    if not server.projects.exists(name) or not can_view(server, who, name):
        raise HTTPException(404, f"no project {name!r}")


@router.get("/projects", response_model=list[ProjectOut])
def list_projects(request: Request, who: CallerDep) -> list[ProjectOut]:
    server = request.app.state.server
    return [
        _project_out(request, name, _role_name(request, who, name))
        for name in server.projects.names()
        if can_view(server, who, name)
    ]


@router.post("/projects", response_model=ProjectOut, status_code=201)
def create_project(request: Request, who: CallerDep, body: ProjectIn) -> ProjectOut:
    """A new project from YAML documents; 422 lists every problem (file, path, message)."""
    require_admin(who)
    server = request.app.state.server
    with _refusals_audited(request, who, "project.create", body.name):
        server.projects.create(body.name, body.yaml, local_git=who.user.admin)
    _remember(request, body.name)
    server.audit.record(who.name, "project.create", body.name, project=body.name)
    return _project_out(request, body.name, "admin")


@router.get("/projects/{project}", response_model=ProjectOut)
def get_project(request: Request, who: CallerDep, project: ProjectName) -> ProjectOut:
    _viewable(request, who, project)
    return _project_out(request, project, _role_name(request, who, project))


@router.delete("/projects/{project}", status_code=204)
def delete_project(request: Request, who: CallerDep, project: ProjectName) -> None:
    require_admin(who)
    _viewable(request, who, project)
    server = request.app.state.server
    server.projects.delete(project)
    server.audit.record(who.name, "project.delete", project, project=project)


@router.post("/projects/{project}/sync", response_model=ProjectOut)
def sync_project(request: Request, who: CallerDep, project: ProjectName, body: GitSyncIn) -> ProjectOut:
    """Replace the project's files by a Git repository's tree at ref (creates the project)."""
    server = request.app.state.server
    if server.projects.exists(project):
        _viewable(request, who, project)
        require_role(server, who, project, "admin")
    else:
        require_admin(who)
    with _refusals_audited(request, who, "project.sync", project):
        check_source(body.url, admin=who.user.admin, allowed=server.settings.git_allow)
        cache = server.settings.data_dir / "git-cache"
        server.projects.sync(project, body.url, body.ref, cache_dir=cache, local_git=who.user.admin)
    shown = without_credentials(body.url)
    _remember(request, project, shown, body.ref)  # a token in the URL is a secret: never kept
    server.audit.record(who.name, "project.sync", project, project=project, url=shown, ref=body.ref)
    return _project_out(request, project, _role_name(request, who, project))


@router.get("/projects/{project}/entities", response_model=list[EntityOut])
def list_entities(
    request: Request,
    who: CallerDep,
    project: ProjectName,
    kind: Annotated[str | None, Query(max_length=64)] = None,
) -> list[EntityOut]:
    _viewable(request, who, project)
    return [_entity(i) for i in request.app.state.server.projects.entities(project, kind)]


@router.put("/projects/{project}/entities", response_model=list[EntityOut])
def put_entities(request: Request, who: CallerDep, project: ProjectName, body: YamlIn) -> list[EntityOut]:
    """Add or replace entities from YAML documents; 422 lists every problem of the result."""
    _viewable(request, who, project)
    server = request.app.state.server
    require_role(server, who, project, "admin")
    with _refusals_audited(request, who, "entity.put", project):
        infos = server.projects.put(project, body.yaml, local_git=who.user.admin)
    for info in infos:
        server.audit.record(
            who.name, "entity.put", f"{info.kind}/{info.identifier}", project=project, scope=info.scope
        )
    return [_entity(i) for i in infos]


@router.get("/projects/{project}/entities/{kind}/{identifier}", response_model=EntityDocumentOut)
def get_entity(
    request: Request,
    who: CallerDep,
    project: ProjectName,
    kind: Kind,
    identifier: Identifier,
    scope: Scope = None,
) -> EntityDocumentOut:
    _viewable(request, who, project)
    info, document = request.app.state.server.projects.entity(project, kind, identifier, scope)
    return EntityDocumentOut(document=document, **info.__dict__)


@router.put("/projects/{project}/entities/{kind}/{identifier}", response_model=EntityOut)
def edit_entity(
    request: Request,
    who: CallerDep,
    project: ProjectName,
    kind: Kind,
    identifier: Identifier,
    body: YamlIn,
) -> EntityOut:
    """Replace one entity by the YAML document given (same kind and identifier)."""
    from .projects import parse_documents

    _viewable(request, who, project)
    server = request.app.state.server
    require_role(server, who, project, "admin")
    with _refusals_audited(request, who, "entity.put", f"{project}/{kind}/{identifier}"):
        documents = parse_documents(body.yaml)
        if len(documents) != 1 or documents[0].kind != kind or documents[0].identifier != identifier:
            raise HTTPException(422, f"expected one {kind} document with identifier {identifier}")
        info = server.projects.put(project, body.yaml, local_git=who.user.admin)[0]
    server.audit.record(who.name, "entity.put", f"{kind}/{identifier}", project=project, scope=info.scope)
    return _entity(info)


@router.delete("/projects/{project}/entities/{kind}/{identifier}", status_code=204)
def delete_entity(
    request: Request,
    who: CallerDep,
    project: ProjectName,
    kind: Kind,
    identifier: Identifier,
    scope: Scope = None,
) -> None:
    _viewable(request, who, project)
    server = request.app.state.server
    require_role(server, who, project, "admin")
    server.projects.remove(project, kind, identifier, scope)
    server.audit.record(who.name, "entity.delete", f"{kind}/{identifier}", project=project, scope=scope)


@router.get("/projects/{project}/secrets", response_model=list[EntityOut])
def list_secrets(request: Request, who: CallerDep, project: ProjectName) -> list[EntityOut]:
    """The project's secrets (names only; values are never returned)."""
    _viewable(request, who, project)
    return [_entity(i) for i in request.app.state.server.projects.entities(project, "secret")]


@router.put("/projects/{project}/secrets/{identifier}", response_model=EntityOut)
def put_secret(
    request: Request, who: CallerDep, project: ProjectName, identifier: Identifier, body: SecretIn
) -> EntityOut:
    """Create or replace a secret; its value is encrypted with the server's key at once."""
    _viewable(request, who, project)
    server = request.app.state.server
    require_role(server, who, project, "admin")
    with _refusals_audited(request, who, "secret.put", f"{project}/secret/{identifier}"):
        info = server.projects.put_secret(project, identifier, body.value, display=body.name)
    server.audit.record(who.name, "secret.put", f"secret/{identifier}", project=project)
    return _entity(info)
