"""Running the sandbox: the WSGI application and an HTTP server in a thread.

    with Sandbox(speed=20) as sandbox:
        ecs = sandbox.client("ecs")
        ...

`corral sandbox` runs the same thing in the foreground.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
from collections.abc import Callable, Iterable
from email.utils import formatdate
from pathlib import Path
from types import TracebackType
from typing import Any

import yaml
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .admin import AdminApp
from .core import shape_check
from .core.calls import CallLog
from .core.faults import Faults
from .core.internal_clients import InternalClients
from .core.throttling import Throttle
from .core.timing_jitter import TimingJitter
from .core.world import World
from .gateway import Gateway

log = logging.getLogger(__name__)

SAVE_EVERY_SECONDS = 5.0


class SandboxApp:
    """The WSGI application: admin API under /_sandbox/, AWS APIs everywhere else."""

    def __init__(
        self,
        *,
        speed: float = 1.0,
        throttling: bool = True,
        state_file: Path | None = None,
        config_file: Path | None = None,
        check_shapes: bool | None = None,
        timing_seed: int | None = None,
    ) -> None:
        self.state_file = state_file
        # every answer of the emulated services checked against botocore's output shapes
        # (core/shape_check.py); for the test suite, off unless asked for
        self.check_shapes = shape_check.enabled_by_environment() if check_shapes is None else check_shapes
        self.endpoint_url: str | None = None  # set by Sandbox once it listens
        _configure_moto()
        self.world = self._load_world(speed)
        if timing_seed is not None:
            self.world.jitter = TimingJitter(timing_seed)
        self.calls = CallLog()
        self.faults = Faults()
        self.throttle = Throttle(enabled=throttling)
        self.gateway = Gateway(self)
        self.internal_clients = InternalClients(self.gateway)
        self.world.internal = self.internal_clients
        self.admin = AdminApp(self)
        self._dirty = False
        if config_file is not None:
            self.apply_config(config_file)

    def _load_world(self, speed: float) -> World:
        if self.state_file is not None and self.state_file.exists():
            with self.state_file.open("rb") as handle:
                world: World = pickle.load(handle)
            world.clock.speed = speed
            return world
        return World(speed=speed)

    def apply_config(self, path: Path) -> None:
        """A sandbox config file: `images:` and `functions:` (behaviours) and `faults:` lists."""
        data = yaml.safe_load(path.read_text()) or {}
        unknown = set(data) - {"images", "functions", "faults"}
        if unknown:
            raise ValueError(
                f"{path}: unknown keys {', '.join(sorted(unknown))}; expected images, functions, faults"
            )
        self.world.images.set(data.get("images") or [])
        self.world.functions.set(data.get("functions") or [])
        for spec in data.get("faults") or []:
            self.faults.add(spec)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_sandbox/"):
            return self.admin(environ, start_response)
        return self.gateway(environ, start_response)

    def set_endpoint(self, url: str) -> None:
        """Where this app is served: Lambda functions the sandbox runs send their AWS calls there."""
        self.endpoint_url = url
        self.world.endpoint_url = url

    def mark_dirty(self) -> None:
        self._dirty = True

    def save(self) -> None:
        if self.state_file is None:
            return
        with self.world.lock:
            data = pickle.dumps(self.world)
        tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        tmp.write_bytes(data)
        os.replace(tmp, self.state_file)
        self._dirty = False

    def save_if_dirty(self) -> None:
        if self._dirty:
            self.save()

    def reset(self) -> None:
        """Forget all state: emulated services, moto's services, call log, faults, behaviours."""
        with self.world.lock:
            speed = self.world.clock.speed
            self.world.timers.stop()
            jitter = self.world.jitter.fresh() if self.world.jitter is not None else None
            self.world = World(speed=speed, jitter=jitter)
            self.world.internal = self.internal_clients
            self.world.endpoint_url = self.endpoint_url
            self.world.timers.start()
        self.calls.clear()
        self.faults.remove()
        self.throttle.reset()
        from moto.moto_api._internal.models import moto_api_backend

        moto_api_backend.reset()


def _configure_moto() -> None:
    """AWS managed policies exist in every account ("AWS managed policies", IAM User Guide):
    moto loads them only when asked, and ECS templates attach them (the task execution role's
    AmazonECSTaskExecutionRolePolicy). Set before the first IAM call creates moto's IAM backend."""
    from moto.core.config import default_user_config

    default_user_config.setdefault("iam", {})["load_aws_managed_policies"] = True


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s %s", self.command, self.path, code)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The `Date` of every answer (RFC 9110, 6.6.1: when the answer was made) on the sandbox's
        clock, the clock of its timestamps, as AWS's Date is on the clock of AWS's timestamps."""
        app = getattr(self.server, "app", None)
        if timestamp is None and isinstance(app, SandboxApp):
            timestamp = app.world.clock.now()
        return formatdate(timestamp, usegmt=True)


class Sandbox:
    """The sandbox on a local port, in a background thread (context manager)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        speed: float = 1.0,
        throttling: bool = True,
        state_file: str | Path | None = None,
        config_file: str | Path | None = None,
        check_shapes: bool | None = None,
        timing_seed: int | None = None,
    ) -> None:
        self.host = host
        self.app = SandboxApp(
            speed=speed,
            throttling=throttling,
            state_file=Path(state_file) if state_file else None,
            config_file=Path(config_file) if config_file else None,
            check_shapes=check_shapes,
            timing_seed=timing_seed,
        )
        self._server: BaseWSGIServer = make_server(
            host, port, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.port = self._server.server_port
        # a server on every interface is reached locally on the loopback address
        local = "127.0.0.1" if host in ("0.0.0.0", "", "::") else host
        self.app.set_endpoint(f"http://{local}:{self.port}")
        self._thread: threading.Thread | None = None
        self._saver: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def endpoint_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def world(self) -> World:
        return self.app.world

    def start(self) -> Sandbox:
        self.app.world.timers.start()
        self._thread = threading.Thread(target=self._serve, name="sandbox-http", daemon=True)
        self._thread.start()
        if self.app.state_file is not None:
            self._saver = threading.Thread(target=self._save_loop, name="sandbox-save", daemon=True)
            self._saver.start()
        return self

    def _serve(self) -> None:
        # a short poll interval makes stop() quick; the loop itself only waits in select()
        self._server.serve_forever(poll_interval=0.05)

    def _save_loop(self) -> None:
        while not self._stop.wait(SAVE_EVERY_SECONDS):
            self.app.save_if_dirty()

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self.app.world.timers.stop()
        self.app.save()

    def serve_until(self, stopping: threading.Event) -> None:
        """Foreground mode for `corral sandbox`: serve until the event is set (signal handlers set it)."""
        self.start()
        try:
            stopping.wait()
        finally:
            self.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def client(self, service_name: str, region_name: str = "us-east-1", **kwargs: Any) -> Any:
        """A boto3 client for this sandbox with dummy credentials.

        Host prefixes are not injected (botocore would send Cloud Map's DiscoverInstances to
        `data-127.0.0.1`, which does not resolve).
        """
        import boto3
        from botocore.config import Config

        config = Config(inject_host_prefix=False)
        kwargs["config"] = config.merge(kwargs["config"]) if kwargs.get("config") else config

        # boto3-stubs overloads client() for literal service names only; any botocore name works
        return boto3.client(  # type: ignore[call-overload]
            service_name,
            region_name=region_name,
            endpoint_url=self.endpoint_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            **kwargs,
        )

    @property
    def admin(self) -> Any:
        from .client import SandboxAdmin

        return SandboxAdmin(self.endpoint_url)
