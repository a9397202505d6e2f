"""A registry whose bearer-token realm lives on another origin (a second port of 127.0.0.1),
logging what each side was sent, for the realm-credentials check."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    path: str
    authorization: str


@dataclass
class SplitRegistry:
    """`registry_url` answers 401 with a realm at `realm_url`; the realm gives tokens to anyone
    (`open_realm`) or only to a request carrying credentials."""

    open_realm: bool
    registry_url: str = ""
    realm_url: str = ""
    registry_seen: list[Seen] = field(default_factory=list)
    realm_seen: list[Seen] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)


def _server(handle: Any) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            status, headers, body = handle(self.path, self.headers.get("Authorization", ""))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    return server


@contextmanager
def split_registry(*, open_realm: bool) -> Iterator[SplitRegistry]:
    state = SplitRegistry(open_realm)

    def realm(path: str, authorization: str) -> tuple[int, dict[str, str], bytes]:
        state.realm_seen.append(Seen(path, authorization))
        if not state.open_realm and not authorization:
            return 401, {}, b'{"errors":[{"code":"UNAUTHORIZED","message":"credentials needed"}]}'
        token = secrets.token_hex(8)
        state.tokens.add(token)
        return 200, {}, json.dumps({"token": token, "expires_in": 300}).encode()

    def registry(path: str, authorization: str) -> tuple[int, dict[str, str], bytes]:
        state.registry_seen.append(Seen(path, authorization))
        if authorization.removeprefix("Bearer ") not in state.tokens:
            challenge = (
                f'Bearer realm="{state.realm_url}/token",service="split",scope="repository:team/web:pull"'
            )
            return 401, {"WWW-Authenticate": challenge}, b'{"errors":[{"code":"UNAUTHORIZED"}]}'
        return 200, {}, json.dumps({"name": "team/web", "tags": ["1.0", "1.1"]}).encode()

    servers = [_server(registry), _server(realm)]
    state.registry_url = f"http://127.0.0.1:{servers[0].server_address[1]}"
    state.realm_url = f"http://127.0.0.1:{servers[1].server_address[1]}"
    threads = [threading.Thread(target=s.serve_forever, args=(0.02,), daemon=True) for s in servers]
    for thread in threads:
        thread.start()
    try:
        yield state
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()
