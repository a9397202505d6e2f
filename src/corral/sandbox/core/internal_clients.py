"""boto3 clients whose requests the sandbox answers in-process, for services that call others.

CloudFormation creates its resources by calling the other services' APIs on the caller's
behalf, as on AWS. Sending those calls through the gateway (not to a backend directly) means
they land in the same backends a user's own calls reach, and that fault injection, throttling
and the call log apply to them: a fault on CreateLoadBalancer fails the stack's load balancer.

The requests never touch a socket: botocore's `before-send` event answers them by calling the
WSGI application here (the same mechanism moto's mock uses). These clients are not part of the
World's pickled state; the SandboxApp gives each World a fresh set.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

INTERNAL_ENDPOINT = "http://localhost"
# environ key naming the service that made an internal call (the call log shows it)
VIA_KEY = "corral.via"


class _Raw(io.BytesIO):
    """The raw body botocore reads: `stream()` for parsed answers, `read()` for streaming ones (S3)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.getvalue()


class InternalClients:
    """One boto3 client per (caller, service, Region), answered by `app` in-process."""

    def __init__(self, app: WsgiApp) -> None:
        self._app = app
        self._clients: dict[tuple[str, str, str], Any] = {}
        self._lock = threading.Lock()
        self._session: Any = None

    def client(self, via: str, service: str, region: str) -> Any:
        key = (via, service, region)
        with self._lock:
            found = self._clients.get(key)
            if found is None:
                found = self._clients[key] = self._create(via, service, region)
            return found

    def _create(self, via: str, service: str, region: str) -> Any:
        import botocore.session
        from botocore.config import Config

        if self._session is None:
            self._session = botocore.session.get_session()
        client = self._session.create_client(
            service,
            region_name=region,
            endpoint_url=INTERNAL_ENDPOINT,
            aws_access_key_id="sandbox-internal",
            aws_secret_access_key="sandbox-internal",
            # the caller decides what a throttle or an error means (CloudFormation retries
            # throttling itself and fails the resource otherwise), as one attempt per call
            config=Config(inject_host_prefix=False, retries={"total_max_attempts": 1}),
        )

        def send(request: Any, **_: Any) -> AWSResponse:
            return self._send(via, request)

        client.meta.events.register("before-send", send)
        return client

    def _send(self, via: str, request: Any) -> AWSResponse:
        from werkzeug.test import EnvironBuilder

        url = urlsplit(request.url)
        body = request.body or b""
        if hasattr(body, "read"):
            body = body.read()
        if isinstance(body, str):
            body = body.encode()
        headers = {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        environ = EnvironBuilder(
            path=url.path or "/",
            base_url=f"{url.scheme}://{url.netloc}",
            query_string=url.query,
            method=request.method,
            headers=headers,
            data=body,
        ).get_environ()
        environ[VIA_KEY] = via
        captured: dict[str, Any] = {}

        def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"] = int(status.split(" ", 1)[0])
            captured["headers"] = response_headers
            return lambda chunk: None

        chunks = self._app(environ, start_response)
        try:
            payload = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        # botocore's own HTTP session passes urllib3's header dict here; its stub asks for HTTPHeaders
        headers = dict(captured["headers"])
        return AWSResponse(request.url, captured["status"], headers, _Raw(payload))  # type: ignore[arg-type]
