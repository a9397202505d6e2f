"""Users, API tokens, roles and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.security import HTTPAuthorizationCredentials

from .accounts import ALL_PROJECTS, TokenInfo, User
from .auth import CallerDep, bearer, require_admin
from .schemas import AuditOut, NewTokenOut, RoleIn, RoleOut, TokenIn, TokenOut, UserIn, UserOut, UserPatch

router = APIRouter(tags=["access"])
UserName = Annotated[str, Path(max_length=128)]


def _user_out(request: Request, user: User) -> UserOut:
    roles = request.app.state.server.accounts.roles(user.name)
    return UserOut(
        name=user.name,
        groups=list(user.groups),
        admin=user.admin,
        roles=[RoleOut(project=r.project, role=r.role, production=r.production) for r in roles],
    )


def _token_out(info: TokenInfo) -> TokenOut:
    return TokenOut(**info.__dict__)


@router.get("/me", response_model=UserOut)
def me(request: Request, who: CallerDep) -> UserOut:
    return _user_out(request, who.user)


@router.get("/users", response_model=list[UserOut])
def list_users(request: Request, who: CallerDep) -> list[UserOut]:
    require_admin(who)
    return [_user_out(request, u) for u in request.app.state.server.accounts.users()]


@router.post("/users", response_model=UserOut, status_code=201)
def create_user(request: Request, who: CallerDep, body: UserIn) -> UserOut:
    require_admin(who)
    server = request.app.state.server
    if server.accounts.user(body.name) is not None:
        raise HTTPException(409, f"user {body.name} exists already")
    user = server.accounts.add_user(body.name, groups=body.groups, admin=body.admin)
    server.audit.record(who.name, "user.create", body.name, groups=body.groups, admin=body.admin)
    return _user_out(request, user)


def _existing(request: Request, name: str) -> User:
    user: User | None = request.app.state.server.accounts.user(name)
    if user is None:
        raise HTTPException(404, f"no user {name!r}")
    return user


@router.get("/users/{name}", response_model=UserOut)
def get_user(request: Request, who: CallerDep, name: UserName) -> UserOut:
    if name != who.name:
        require_admin(who)
    return _user_out(request, _existing(request, name))


@router.patch("/users/{name}", response_model=UserOut)
def update_user(request: Request, who: CallerDep, name: UserName, body: UserPatch) -> UserOut:
    require_admin(who)
    _existing(request, name)
    server = request.app.state.server
    server.accounts.update_user(name, groups=body.groups, admin=body.admin)
    server.audit.record(who.name, "user.update", name, **body.model_dump(exclude_none=True))
    return _user_out(request, _existing(request, name))


@router.put("/users/{name}/roles/{project}", response_model=UserOut)
def set_role(
    request: Request,
    who: CallerDep,
    name: UserName,
    project: Annotated[str, Path(max_length=128, description="a project, or * for every project")],
    body: RoleIn,
) -> UserOut:
    require_admin(who)
    _existing(request, name)
    server = request.app.state.server
    if project != ALL_PROJECTS and not server.projects.exists(project):
        raise HTTPException(404, f"no project {project!r}")
    server.accounts.set_role(name, project, body.role, production=body.production)
    server.audit.record(
        who.name, "role.set", name, project=project, role=body.role, production=body.production
    )
    return _user_out(request, _existing(request, name))


@router.post("/users/{name}/tokens", response_model=NewTokenOut, status_code=201)
def create_token(request: Request, who: CallerDep, name: UserName, body: TokenIn) -> NewTokenOut:
    if name != who.name:
        require_admin(who)
    _existing(request, name)
    server = request.app.state.server
    days = body.expires_in_days or server.settings.token_lifetime_days
    expires = days * 86400 if days else None
    token, info = server.accounts.create_token(name, description=body.description, expires_in=expires)
    server.audit.record(who.name, "token.create", info.id, user=name, description=body.description)
    return NewTokenOut(token=token, **info.__dict__)


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(
    request: Request, who: CallerDep, user: Annotated[str | None, Query(max_length=128)] = None
) -> list[TokenOut]:
    """The caller's tokens; an admin may ask for another user's (or everyone's with user=*)."""
    accounts = request.app.state.server.accounts
    if user is not None and user != who.name:
        require_admin(who)
        return [_token_out(t) for t in accounts.tokens(None if user == "*" else user)]
    return [_token_out(t) for t in accounts.tokens(who.name)]


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(request: Request, who: CallerDep, token_id: Annotated[str, Path(max_length=64)]) -> None:
    server = request.app.state.server
    info = server.accounts.token(token_id)
    if info is None or (info.user != who.name and not who.user.admin):
        raise HTTPException(404, f"no token {token_id!r}")
    server.accounts.revoke_token(token_id)
    server.audit.record(who.name, "token.revoke", token_id, user=info.user)


@router.post("/signout", status_code=204)
def sign_out(
    request: Request,
    who: CallerDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> None:
    """Revoke the token this request carries (the web UI's Sign out): it authenticates nobody
    from now on."""
    server = request.app.state.server
    assert credentials is not None  # `who` was authenticated with it
    info = server.accounts.token_of(credentials.credentials)
    if info is not None:
        server.accounts.revoke_token(info.id)
        server.audit.record(who.name, "token.revoke", info.id, user=who.name, signout=True)


@router.get("/audit", response_model=list[AuditOut])
def audit_log(
    request: Request,
    who: CallerDep,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    action: Annotated[str | None, Query(max_length=64)] = None,
    project: Annotated[str | None, Query(max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[AuditOut]:
    """Every change and run, newest first (admins only)."""
    require_admin(who)
    entries = request.app.state.server.audit.entries(actor=actor, action=action, project=project, limit=limit)
    return [AuditOut(**e.__dict__) for e in entries]
