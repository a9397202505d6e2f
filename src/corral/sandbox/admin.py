"""The admin API under `/_sandbox/`: call log, faults, image and function behaviours, clock, reset, ...

Documented in docs/sandbox.md; `corral.sandbox.client.SandboxAdmin` is its Python client.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Request, Response

from .core.errors import AwsError

if TYPE_CHECKING:
    from .server import SandboxApp

Handler = Callable[["SandboxApp", Request, dict[str, Any]], Any]


def _json(data: Any, status: int = 200) -> Response:
    return Response(json.dumps(data, default=str), status, content_type="application/json")


class AdminError(Exception):
    pass


def health(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    return {
        "status": "ok",
        "speed": app.world.clock.speed,
        "sandboxTime": app.world.clock.now(),
        "throttling": app.throttle.enabled,
        "pendingTimers": app.world.timers.pending(),
    }


def calls(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    if request.method == "DELETE":
        app.calls.clear()
        return {"cleared": True}
    since = int(request.args.get("since", 0))
    return {"calls": app.calls.since(since), "counts": app.calls.counts(), "last": app.calls.last_seq()}


def faults(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    if request.method == "POST":
        body = _body(request)
        specs = body if isinstance(body, list) else [body]
        return {"faults": [vars(app.faults.add(spec)) for spec in specs]}
    if request.method == "DELETE":
        app.faults.remove(args.get("fault_id"))
        return {"faults": app.faults.list()}
    return {"faults": app.faults.list()}


def images(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    return _behaviours(app.world.images, "images", request)


def functions(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    """Lambda function behaviours: what a function answers instead of running its code."""
    return _behaviours(app.world.functions, "functions", request)


def _behaviours(table: Any, key: str, request: Request) -> Any:
    """POST adds rules, PUT replaces them, DELETE clears them; every method answers the list."""
    if request.method in ("POST", "PUT"):
        body = _body(request)
        rules = body.get(key, body) if isinstance(body, dict) else body
        if isinstance(rules, dict):
            rules = [rules]
        (table.replace if request.method == "PUT" else table.set)(rules)
    elif request.method == "DELETE":
        table.clear()
    return {key: table.list()}


def invocations(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    """The Lambda invocations made (by Invoke and by ECS hooks), oldest first; `?function=NAME`."""
    name = request.args.get("function")
    out: list[dict[str, Any]] = []
    with app.world.lock:
        for region in app.world.all_regions():
            if "lambda" in region._backends:
                for invocation in region.lambda_.invocations:
                    if name is None or invocation.function_name == name:
                        out.append({"region": region.name, **invocation.to_dict()})
    return {"invocations": sorted(out, key=lambda row: row["sandboxTime"])}


def function_code(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    """A function's .zip, where GetFunction's Code.Location points (Lambda answers a presigned URL)."""
    region_name = request.args.get("region", "us-east-1")
    with app.world.lock:
        region = app.world.region(request.args.get("accountId", "123456789012"), region_name)
        code = region.lambda_.find(request.args["function"]).code
    return Response(code, 200, content_type="application/zip")


def clock(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    if request.method == "POST":
        seconds = float(_body(request).get("advance", 0))
        if seconds < 0:
            raise AdminError("the clock only moves forward")
        app.world.clock.advance(seconds)
        app.world.timers.poke()
        app.world.timers.run_due()
    return {"sandboxTime": app.world.clock.now(), "speed": app.world.clock.speed}


def timing(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    """The seed and ranges of the timing jitter (`--timing-seed`), or null when times are fixed."""
    jitter = app.world.jitter
    return {"jitter": jitter.describe() if jitter is not None else None}


def throttling(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    if request.method == "POST":
        app.throttle.enabled = bool(_body(request).get("enabled", True))
        app.throttle.reset()
    return {"enabled": app.throttle.enabled, "throttled": app.throttle.throttled}


def reset(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    app.reset()
    return {"reset": True}


def steady_states(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    out: list[dict[str, Any]] = []
    with app.world.lock:
        for region in app.world.all_regions():
            if "ecs" in region._backends:
                out.extend(region.ecs.steady_states())
    return {"services": out}


def scale(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    """Act as Application Auto Scaling would: set a scalable target's desired count."""
    body = _body(request)
    with app.world.lock:
        region = app.world.region(body.get("accountId", "123456789012"), body.get("region", "us-east-1"))
        return region.autoscaling.simulate_scaling(body["resourceId"], int(body["desiredCount"]))


def target_health(app: SandboxApp, request: Request, args: dict[str, Any]) -> Any:
    """What the load balancer's health check sees from a target registered through the API."""
    body = _body(request)
    with app.world.lock:
        region = app.world.region(body.get("accountId", "123456789012"), body.get("region", "us-east-1"))
        region.elbv2.set_target_probe(
            body["targetGroupArn"],
            body["targetId"],
            body.get("port"),
            ok=bool(body["healthy"]),
            status_code=int(body.get("statusCode", 200 if body["healthy"] else 503)),
        )
    return {"set": True}


ROUTES: list[tuple[str, list[str], Handler]] = [
    ("/_sandbox/health", ["GET"], health),
    ("/_sandbox/calls", ["GET", "DELETE"], calls),
    ("/_sandbox/faults", ["GET", "POST", "DELETE"], faults),
    ("/_sandbox/faults/<int:fault_id>", ["DELETE"], faults),
    ("/_sandbox/images", ["GET", "POST", "PUT", "DELETE"], images),
    ("/_sandbox/functions", ["GET", "POST", "PUT", "DELETE"], functions),
    ("/_sandbox/lambda/invocations", ["GET"], invocations),
    ("/_sandbox/lambda/code", ["GET"], function_code),
    ("/_sandbox/clock", ["GET", "POST"], clock),
    ("/_sandbox/throttling", ["GET", "POST"], throttling),
    ("/_sandbox/timing", ["GET"], timing),
    ("/_sandbox/reset", ["POST"], reset),
    ("/_sandbox/steady-states", ["GET"], steady_states),
    ("/_sandbox/autoscaling/scale", ["POST"], scale),
    ("/_sandbox/elbv2/target-health", ["POST"], target_health),
]
URLS = Map([Rule(path, endpoint=handler, methods=methods) for path, methods, handler in ROUTES])


def _body(request: Request) -> Any:
    try:
        return json.loads(request.get_data() or b"{}")
    except ValueError as exc:
        raise AdminError(f"request body is not JSON: {exc}") from exc


class AdminApp:
    def __init__(self, app: SandboxApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request = Request(environ)
        try:
            handler, args = URLS.bind_to_environ(environ).match()
            answer = handler(self.app, request, args)
            response = answer if isinstance(answer, Response) else _json(answer)
        except NotFound:
            response = _json({"error": f"no admin endpoint {request.method} {request.path}"}, 404)
        except HTTPException as exc:
            response = _json({"error": exc.description}, exc.code or 400)
        except AwsError as exc:
            response = _json({"error": f"{exc.code}: {exc.message}"}, 400)
        except KeyError as exc:
            response = _json({"error": f"missing field {exc}"}, 400)
        except (AdminError, ValueError, TypeError) as exc:
            response = _json({"error": str(exc)}, 400)
        return response(environ, start_response)
