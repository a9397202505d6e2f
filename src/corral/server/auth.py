"""Who is calling and what they may do: bearer tokens, roles per project, Production rights.
Every route but GET /health depends on `caller`. (An approval's own rules, its user groups and
counts, are the engine's: corral/engine/approvals.py.)"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from .accounts import ROLES, User, token_hash

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer crl_...`")


@dataclass(frozen=True)
class Caller:
    user: User

    @property
    def name(self) -> str:
        return self.user.name


def unauthorized(message: str = "a valid API token is required") -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def refuse_while_guessing(request: Request) -> None:
    """429 (with Retry-After) while the client is barred for too many failed sign-ins."""
    client = client_address(request)
    wait = request.app.state.server.sign_ins.retry_after(client)
    if wait is not None:
        raise HTTPException(
            429,
            f"too many failed sign-ins from {client}; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    server = request.app.state.server
    refuse_while_guessing(request)
    user = server.accounts.authenticate(credentials.credentials)
    if user is None:
        server.sign_ins.failed(client_address(request), token_hash(credentials.credentials))
        raise unauthorized("the token is unknown, revoked or expired")
    request.state.caller = user.name  # for the audit of a refusal further on (denials.py)
    return Caller(user)


CallerDep = Annotated[Caller, Depends(caller)]


def require_admin(who: Caller) -> None:
    if not who.user.admin:
        raise HTTPException(403, f"{who.name} is not an administrator")


def require_role(server: Any, who: Caller, project: str, minimum: str) -> None:
    """403 unless the caller has at least `minimum` (viewer, deployer, admin) on the project."""
    if who.user.admin:
        return
    role = server.accounts.role(who.name, project)
    if role is None or ROLES.index(role.role) < ROLES.index(minimum):
        have = f"has role {role.role}" if role else "has no role"
        raise HTTPException(403, f"{who.name} {have} on project {project}; {minimum} is needed")


def can_view(server: Any, who: Caller, project: str) -> bool:
    return who.user.admin or server.accounts.role(who.name, project) is not None


def require_production(server: Any, who: Caller, project: str, environments: Iterable[str]) -> None:
    """403 unless the caller may deploy to the Production environments named."""
    production = sorted(set(environments))
    if not production or who.user.admin:
        return
    role = server.accounts.role(who.name, project)
    if role is None or not role.production:
        raise HTTPException(
            403,
            f"{who.name} may not deploy to Production environments ({', '.join(production)}) "
            f"of project {project}",
        )
