"""Headers that keep the web UI from being framed, sniffed or made to run injected script.

The UI is plain ES modules and a stylesheet from /ui (no inline script or style), so its pages
get a Content-Security-Policy that allows only the server's own files. The interactive API
docs (/docs, /redoc) load their viewer from a CDN and an inline script, so they keep only the
framing and sniffing headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request
from starlette.responses import Response

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
EVERYWHERE = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
THIRD_PARTY_VIEWERS = ("/docs", "/redoc")


def add_security_headers(app: FastAPI) -> None:
    @app.middleware("http")
    async def security_headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for name, value in EVERYWHERE.items():
            response.headers.setdefault(name, value)
        if not request.url.path.startswith(THIRD_PARTY_VIEWERS):
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response
