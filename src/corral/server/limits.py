"""Request body limits: a body over `ServerSettings.max_request_bytes` gets 413; a JSON body
nested deeper than MAX_DEPTH, or holding a lone UTF-16 surrogate escape, gets 422.

A declared `Content-Length` over the limit is answered before any of the body is read; a body
sent without one (chunked) is counted as it arrives and refused the moment it passes the
limit, so no route ever holds more than the limit in memory. A JSON body is read whole (it is
at most the limit) and its nesting measured before any route parses it: a run's inputs nested
a thousand deep would otherwise be stored and break every later answer that shows them.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate

from fastapi import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from corral.yaml_limits import MAX_DEPTH


class BodyTooLarge(HTTPException):
    """Raised inside `receive`; an HTTPException so FastAPI's body parsing passes it on."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    return f"request body too large: the limit is {limit:,} bytes"


class BodyLimit:
    """ASGI middleware: `app.add_middleware(BodyLimit, max_bytes=...)`."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await _refuse(send, self.max_bytes)
            return
        if _is_json(scope):
            body = await _whole_body(receive, self.max_bytes)
            if body is None:
                await _refuse(send, self.max_bytes)
                return
            depth = json_depth(body)
            if depth > MAX_DEPTH:
                message = f"request body nested {depth} levels deep; the limit is {MAX_DEPTH} (MAX_DEPTH)"
                await _answer(send, 422, message)
                return
            if not is_text(body):
                message = "request body holds a lone UTF-16 surrogate escape (such as \\ud800): not text"
                await _answer(send, 422, message)
                return
            receive = _replay(body, receive)
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except BodyTooLarge:
            if started:
                raise
            await _refuse(send, self.max_bytes)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            kind = value.split(b";", 1)[0].strip().lower()
            return bool(kind == b"application/json" or kind.endswith(b"+json"))
    return False


async def _whole_body(receive: Receive, limit: int) -> bytes | None:
    """The body, or None once it passes limit."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()  # http.disconnect, when the client goes
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replayed


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside strings apart)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if len(brackets) <= 2 * MAX_DEPTH:
        return len(brackets) // 2 if brackets else 0  # cannot be deeper than the limit
    return max(accumulate(_STEP[b] for b in brackets), default=0)


_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


def is_text(body: bytes) -> bool:
    """False when a string of the JSON body holds a lone surrogate (`"\\ud800"`): Python
    accepts it, but no answer that shows the value can be encoded again, so a run's inputs
    holding one would break every later view of the execution."""
    if not _SURROGATE_ESCAPE.search(body):
        return True
    try:
        json.dumps(json.loads(body), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    except ValueError:
        return True  # not JSON: the route says so
    return True


async def _refuse(send: Send, limit: int) -> None:
    await _answer(send, 413, too_large(limit))


async def _answer(send: Send, status: int, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
