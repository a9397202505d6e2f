"""Delegates: register (admins; the token is shown once), heartbeat (the delegate's token), list."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from .accounts import token_hash
from .auth import CallerDep, bearer, client_address, refuse_while_guessing, require_admin, unauthorized
from .delegates import Delegate
from .schemas import DelegateIn, DelegateOut, HeartbeatIn, NewDelegateOut

router = APIRouter(tags=["delegates"])


def _out(delegate: Delegate) -> DelegateOut:
    return DelegateOut(**{**delegate.__dict__, "tags": list(delegate.tags)})


@router.get("/delegates", response_model=list[DelegateOut])
def list_delegates(request: Request, who: CallerDep) -> list[DelegateOut]:
    return [_out(d) for d in request.app.state.server.delegates.all()]


@router.post("/delegates", response_model=NewDelegateOut, status_code=201)
def register_delegate(request: Request, who: CallerDep, body: DelegateIn) -> NewDelegateOut:
    require_admin(who)
    server = request.app.state.server
    if server.delegates.by_name(body.name) is not None:
        raise HTTPException(409, f"delegate {body.name} exists already")
    token, delegate = server.delegates.register(body.name, body.tags)
    server.audit.record(who.name, "delegate.register", body.name, tags=body.tags)
    return NewDelegateOut(token=token, **_out(delegate).model_dump())


@router.post("/delegates/heartbeat", response_model=DelegateOut)
def heartbeat(
    request: Request,
    body: HeartbeatIn,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> DelegateOut:
    """Called by a delegate with its own token: marks it seen now."""
    server = request.app.state.server
    delegates = server.delegates
    if credentials is not None:
        refuse_while_guessing(request)
    delegate = delegates.by_token(credentials.credentials) if credentials is not None else None
    if delegate is None:
        if credentials is not None:
            server.sign_ins.failed(client_address(request), token_hash(credentials.credentials))
        raise unauthorized("a delegate token is required")
    delegates.heartbeat(delegate.id, version=body.version)
    found = delegates.by_name(delegate.name)
    assert found is not None
    return _out(found)
