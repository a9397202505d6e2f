"""Who is calling and what they may do: bearer tokens, roles per project, Production rights,
approver groups. Every route but GET /health depends on `caller`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from corral.config.entities.common import strip_scope

from .accounts import ROLES, User

bearer = HTTPBearer(auto_error=False, description="An API token: `Authorization: Bearer crl_...`")


@dataclass(frozen=True)
class Caller:
    user: User

    @property
    def name(self) -> str:
        return self.user.name


def unauthorized(message: str = "a valid API token is required") -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorized()
    user = request.app.state.server.accounts.authenticate(credentials.credentials)
    if user is None:
        raise unauthorized("the token is unknown, revoked or expired")
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


def require_approver(who: Caller, approvers: Any) -> None:
    """403 unless the caller belongs to one of the approval's user groups (when it names any)."""
    groups = approvers.get("userGroups") if isinstance(approvers, dict) else None
    if isinstance(groups, str):
        groups = [groups]
    if not groups:
        return
    wanted = {strip_scope(str(g)) for g in groups}
    if not wanted & {strip_scope(g) for g in who.user.groups}:
        raise HTTPException(
            403, f"{who.name} is not in any of the approver groups: {', '.join(sorted(wanted))}"
        )
