"""Every refusal (401, 403) goes to the audit log: who (the user, or `anonymous` with the
client's address), what they asked for (method and path), and why. Failed sign-ins are bounded
by auth_limits.py, so a flood of them cannot flood the log."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from starlette.exceptions import HTTPException
from starlette.responses import Response

from .auth import client_address

DENIED = (401, 403)


def audit_denials(app: FastAPI) -> None:
    @app.exception_handler(HTTPException)
    async def refused(request: Request, error: HTTPException) -> Response:
        if error.status_code in DENIED:
            actor = getattr(request.state, "caller", None) or "anonymous"
            project = request.path_params.get("project")
            request.app.state.server.audit.record(
                actor,
                "access.denied",
                f"{request.method} {request.url.path}",
                project=project if isinstance(project, str) else None,
                status=error.status_code,
                reason=str(error.detail),
                client=client_address(request),
            )
        return await http_exception_handler(request, error)
