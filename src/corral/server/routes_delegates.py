"""Delegates: register (admins; the token is shown once), heartbeat and log lines of running
steps (the delegate's token), list."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials

from corral.store import Write

from .accounts import token_hash
from .auth import CallerDep, bearer, client_address, refuse_while_guessing, require_admin, unauthorized
from .delegates import Delegate
from .schemas import DelegateIn, DelegateLogsIn, DelegateOut, HeartbeatIn, NewDelegateOut

router = APIRouter(tags=["delegates"])
REMEMBERED_BATCHES = 20000  # log batches written lately, so one sent again is not written twice


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


def _delegate(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Delegate:
    """The delegate whose token the call carries (checked before the body is); wrong tokens count
    towards the client's failed sign-ins."""
    server = request.app.state.server
    if credentials is not None:
        refuse_while_guessing(request)
    delegate: Delegate | None = server.delegates.by_token(credentials.credentials) if credentials else None
    if delegate is None:
        if credentials is not None:
            server.sign_ins.failed(client_address(request), token_hash(credentials.credentials))
        raise unauthorized("a delegate token is required")
    return delegate


DelegateDep = Annotated[Delegate, Depends(_delegate)]


@router.post("/delegates/heartbeat", response_model=DelegateOut)
def heartbeat(
    request: Request,
    body: HeartbeatIn,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> DelegateOut:
    """Called by a delegate with its own token: marks it seen now."""
    delegates = request.app.state.server.delegates
    delegate = _delegate(request, credentials)
    delegates.heartbeat(delegate.id, version=body.version)
    found = delegates.by_name(delegate.name)
    assert found is not None
    return _out(found)


@router.post("/delegates/logs", status_code=202)
def delegate_logs(request: Request, delegate: DelegateDep, body: DelegateLogsIn) -> dict[str, int]:
    """A delegate's log lines of a step it runs, as the step writes them (its own token); they
    stream to readers at once. 404 for an unknown execution, 409 once it has ended."""
    store = request.app.state.server.store
    record = store.execution(body.execution_id)
    if record is None:
        raise HTTPException(404, f"no execution {body.execution_id}")
    if record.ended_at is not None:
        raise HTTPException(409, f"execution {body.execution_id} has ended")
    if not _batches(request).first_time(f"{body.execution_id}:{body.batch}"):
        return {"written": 0}
    store.write(body.execution_id, Write(logs=[line.model_dump() for line in body.lines]))
    return {"written": len(body.lines)}


class _Batches:
    """The ids of the log batches written lately (bounded)."""

    def __init__(self) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, batch: str) -> bool:
        with self._lock:
            if batch in self._seen:
                return False
            self._seen[batch] = None
            if len(self._seen) > REMEMBERED_BATCHES:
                self._seen.popitem(last=False)
            return True


_batches_lock = threading.Lock()


def _batches(request: Request) -> _Batches:
    with _batches_lock:
        batches = getattr(request.app.state, "delegate_log_batches", None)
        if batches is None:
            batches = request.app.state.delegate_log_batches = _Batches()
        return batches
