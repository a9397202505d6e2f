"""The sandbox's one HTTP endpoint: routes each AWS request to its emulation or to moto.

A request's service and Region come from its SigV4 credential scope, as AWS itself routes
them. ECS, ELBv2, Application Auto Scaling, Cloud Map, CloudFormation and Lambda are Corral's
own emulations; everything else (EC2, S3, IAM, STS, ECR, CloudWatch, Logs, Secrets Manager, SSM,
EventBridge, SQS, ...) is answered by moto. Fault injection, throttling and the call log apply to all of them.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import logging
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Response

from .core import protocol, rest_json
from .core.errors import AwsError, InternalFailure, ThrottlingException
from .core.faults import Fault
from .core.internal_clients import VIA_KEY
from .core.world import DEFAULT_ACCOUNT, EMULATED_SERVICES
from .sts import trust

if TYPE_CHECKING:
    from .server import SandboxApp

log = logging.getLogger(__name__)

CREDENTIAL_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")

StartResponse = Callable[..., Any]


class DroppedConnection(Exception):
    """A fault drops this call: the client's socket is closed without an answer."""


CBOR_HEADERS = {"smithy-protocol": "rpc-v2-cbor"}


def wire_protocol(environ: dict[str, Any]) -> str:
    """Which wire protocol the client spoke: `cbor` (Smithy RPC v2), `json` or `query`.

    Read from the request, not from our botocore's model: clients with older or newer botocore
    releases speak different protocols to the same service.
    """
    if environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        return "cbor"
    if environ.get("HTTP_X_AMZ_TARGET"):
        return "json"
    return "query"


def credential_scope(environ: dict[str, Any]) -> tuple[str | None, str | None]:
    match = CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    return (match.group(2), match.group(1)) if match else (None, None)


class Gateway:
    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        self._moto: Any = None
        self._modules = {name: importlib.import_module(path) for name, path in EMULATED_SERVICES.items()}
        # emulated services whose model speaks REST-JSON (Lambda): routed by method and path
        self._rest = {
            name
            for name, module in self._modules.items()
            if protocol.service_model(module.BOTOCORE_NAME).metadata.get("protocol") == "rest-json"
        }

    def _wire(self, environ: dict[str, Any], service: str | None) -> str:
        return "rest-json" if service in self._rest else wire_protocol(environ)

    # ------------------------------------------------------------------ WSGI

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        service, region = credential_scope(environ)
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        operation = self._operation_name(environ, service, body)
        started = time.perf_counter()
        outcome = "ok"
        via = environ.get(VIA_KEY, "")
        try:
            faults = self.app.faults.pick(service or "unknown", operation)
            if via:  # a call made inside the sandbox holds the world lock: it must not sleep
                faults = [f for f in faults if f.kind != "latency"]
            self._apply_faults(environ, [f for f in faults if f.kind != "drop_after"])
            if service in self._modules:
                response = self._emulated(environ, service, region or "us-east-1", operation, body)
            elif operation in trust.CHECKED and service in (None, "sts"):
                response = self._sts_response(environ, operation, body)
            else:
                response = self._moto_response(environ)
            if any(f.kind == "drop_after" for f in faults):
                raise DroppedConnection()  # the call took effect; its answer is lost
            if response.status_code >= 400:
                outcome = response.headers.get("x-corral-error", str(response.status_code))
        except DroppedConnection:
            # recorded before the socket closes: a client that sees the drop finds it in the log
            self._record(service, operation, region, "dropped", started, via)
            _shut(environ)
            start_response("500 Dropped", [])  # the socket is already shut: nothing reaches the client
            return []
        except _FaultResponse as fault:
            outcome = fault.error.code
            wire = self._wire(environ, service)
            model_name = self._modules[service].BOTOCORE_NAME if service in self._rest else ""
            response = self._error(fault.error, wire, str(uuid.uuid4()), model_name)
        self._record(service, operation, region, outcome, started, via)
        return response(environ, start_response)

    def _record(
        self,
        service: str | None,
        operation: str,
        region: str | None,
        outcome: str,
        started: float,
        via: str = "",
    ) -> None:
        self.app.calls.record(
            time=time.time(),
            sandbox_time=self.app.world.clock.now(),
            service=service or "unknown",
            operation=operation,
            region=region or "",
            outcome=outcome,
            duration_ms=round((time.perf_counter() - started) * 1000, 3),
            via=via,
        )

    # ------------------------------------------------------------------ emulated services

    def _emulated(
        self, environ: dict[str, Any], service: str, region: str, operation: str, body: bytes
    ) -> Response:
        module = self._modules[service]
        model_name: str = module.BOTOCORE_NAME
        wire = self._wire(environ, service)
        request_id = str(uuid.uuid4())
        try:
            operation, params = self._parse(wire, model_name, environ, body)
            if not self.app.throttle.allow(DEFAULT_ACCOUNT, region, model_name, operation):
                raise ThrottlingException()
            handler = module.OPERATIONS.get(operation)
            if handler is None:
                raise AwsError(f"The sandbox does not implement {operation}", code="UnsupportedOperation")
            world = self.app.world
            # a handler that waits (a Lambda function running) takes the lock itself, to touch state
            outside = operation in getattr(module, "OUTSIDE_LOCK", ())
            with world.lock:
                backend = world.region(DEFAULT_ACCOUNT, region).backend(service)
                result = {} if outside else handler(backend, params) or {}
            if outside:
                result = handler(backend, params) or {}
            self.app.mark_dirty()
            if wire == "rest-json":
                answer = rest_json.serialize_response(model_name, operation, result)
                headers = {"x-amzn-RequestId": request_id, **answer.headers}
                return Response(answer.body, answer.status, headers=headers, content_type=answer.content_type)
            if wire == "cbor":
                payload = protocol.serialize_cbor_response(model_name, operation, result)
                return Response(payload, 200, headers=CBOR_HEADERS, content_type="application/cbor")
            if wire == "json":
                payload = protocol.serialize_json_response(model_name, operation, result)
                return Response(payload, 200, content_type="application/x-amz-json-1.1")
            payload = protocol.serialize_query_response(model_name, operation, result, request_id)
            return Response(payload, 200, content_type="text/xml")
        except AwsError as error:
            return self._error(error, wire, request_id, model_name)
        except Exception:  # a sandbox bug answers 500, like AWS's InternalFailure, and is logged
            log.exception("sandbox failed on %s %s", service, operation)
            failure = InternalFailure("The sandbox failed to handle this request.")
            return self._error(failure, wire, request_id, model_name)

    @staticmethod
    def _parse(
        wire: str, model_name: str, environ: dict[str, Any], body: bytes
    ) -> tuple[str, dict[str, Any]]:
        if wire == "cbor":
            return protocol.parse_cbor_request(model_name, environ.get("PATH_INFO", ""), body)
        if wire == "rest-json":
            headers = {
                key[5:].replace("_", "-"): value for key, value in environ.items() if key.startswith("HTTP_")
            }
            return rest_json.parse_request(
                model_name,
                environ.get("REQUEST_METHOD", "GET"),
                environ.get("PATH_INFO", "/"),
                environ.get("QUERY_STRING", ""),
                headers,
                body,
            )
        if wire == "json":
            return protocol.parse_json_request(model_name, environ.get("HTTP_X_AMZ_TARGET", ""), body)
        return protocol.parse_query_request(model_name, body, environ.get("QUERY_STRING", ""))

    @staticmethod
    def _error(error: AwsError, wire: str, request_id: str, model_name: str = "") -> Response:
        headers = {"x-amzn-RequestId": request_id, "x-corral-error": error.code}
        if wire == "cbor":
            body = protocol.cbor_error_body(model_name, error)
            return Response(
                body, error.status, headers={**headers, **CBOR_HEADERS}, content_type="application/cbor"
            )
        if wire == "rest-json":
            headers["x-amzn-ErrorType"] = error.code
            body = rest_json.error_body(model_name, error)
            return Response(body, error.status, headers=headers, content_type="application/json")
        if wire == "json":
            headers["x-amzn-ErrorType"] = error.code
            body = protocol.json_error_body(error)
            return Response(body, error.status, headers=headers, content_type="application/x-amz-json-1.1")
        return Response(
            protocol.query_error_body(error, request_id),
            error.status,
            headers=headers,
            content_type="text/xml",
        )

    # ------------------------------------------------------------------ faults

    def _apply_faults(self, environ: dict[str, Any], faults: list[Fault]) -> None:
        for fault in faults:
            if fault.kind == "latency":
                time.sleep(fault.latency_ms / 1000)
            elif fault.kind == "drop":
                raise DroppedConnection()
            elif fault.kind == "throttle":
                raise _FaultResponse(ThrottlingException())
            elif fault.kind == "error":
                raise _FaultResponse(AwsError("Injected failure", code=fault.code, status=fault.status))

    # ------------------------------------------------------------------ moto

    def _moto_response(self, environ: dict[str, Any]) -> Response:
        if self._moto is None:
            from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

            self._moto = DomainDispatcherApplication(create_backend_app)
        return _call_wsgi(self._moto, environ)

    def _sts_response(self, environ: dict[str, Any], operation: str, body: bytes) -> Response:
        """AssumeRole*: moto answers once the role's trust policy allows the request."""
        try:
            trust.check(operation, body, environ.get("HTTP_AUTHORIZATION", ""))
        except AwsError as error:
            return self._error(error, "query", str(uuid.uuid4()))
        return self._moto_response(environ)

    @staticmethod
    def _operation_name(environ: dict[str, Any], service: str | None, body: bytes) -> str:
        target = environ.get("HTTP_X_AMZ_TARGET")
        if target:
            return target.rsplit(".", 1)[-1]
        if wire_protocol(environ) == "cbor":
            return environ.get("PATH_INFO", "").rstrip("/").rsplit("/", 1)[-1]
        match = re.search(rb"(?:^|&)Action=([A-Za-z0-9]+)", body) or re.search(
            r"(?:^|&)Action=([A-Za-z0-9]+)", environ.get("QUERY_STRING", "")
        )
        if match:
            name = match.group(1)
            return name.decode() if isinstance(name, bytes) else name
        method, path = environ.get("REQUEST_METHOD", "GET"), environ.get("PATH_INFO", "/")
        named = protocol.rest_operation(service or "", method, path, environ.get("QUERY_STRING", ""))
        return named or f"{method} {path}"


def _shut(environ: dict[str, Any]) -> None:
    """Close the client's connection without an answer."""
    sock = environ.get("werkzeug.socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


class _FaultResponse(Exception):
    def __init__(self, error: AwsError) -> None:
        self.error = error


def _call_wsgi(app: Any, environ: dict[str, Any]) -> Response:
    captured: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        captured["status"] = int(status.split(" ", 1)[0])
        captured["headers"] = headers
        return lambda chunk: None

    chunks = app(environ, start_response)
    try:
        payload = b"".join(chunks)
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    return Response(payload, captured["status"], headers=captured["headers"])
