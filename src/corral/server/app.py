"""The ASGI application: `create_app(settings)` opens the store, brings the server's tables up
to date, makes the first admin and mounts the API (`/api/v1`), `/health` and the web UI.

Errors are JSON `{"detail": ...}`; a project that does not validate answers 422 with
`{"detail": ..., "problems": [{"file", "path", "message"}]}`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse

from corral.errors import ConfigError, CorralError
from corral.private_files import restrict
from corral.store import Store

from .accounts import Accounts
from .audit import AuditLog
from .auth_limits import FailedSignIns
from .database import migrate
from .delegates import Delegates
from .denials import audit_denials
from .headers import add_security_headers
from .limits import BodyLimit
from .projects import Conflict, NotFound, ProjectFiles
from .runner import EmbeddedRunner, Runner, left_behind
from .settings import ServerSettings
from .step_isolation import protect_data, with_step_processes
from .triggers import TriggerWatcher

UI_STATIC = Path(__file__).parent / "ui" / "static"


@dataclass
class Server:
    """What every route reaches through `request.app.state.server`."""

    settings: ServerSettings
    store: Store
    accounts: Accounts
    audit: AuditLog
    delegates: Delegates
    projects: ProjectFiles
    runner: Runner
    triggers: TriggerWatcher = field(init=False)  # made by open_server: it needs the server
    sign_ins: FailedSignIns = field(default_factory=FailedSignIns)

    def close(self) -> None:
        self.triggers.stop()
        self.runner.close()
        self.store.close()


def open_server(
    settings: ServerSettings,
    *,
    runner: Runner | None = None,
    runner_factory: Callable[[Store], Runner] | None = None,
) -> Server:
    """`runner_factory(store)` makes the runner once the store is open (distributed mode)."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    if settings.store_url is None:
        (settings.data_dir / ".corral").mkdir(parents=True, exist_ok=True)
    store = Store.open(settings.database_url)
    migrate(store.engine)
    _ensure_key(settings)
    protect_data(settings)
    server = Server(
        settings=settings,
        store=store,
        accounts=Accounts(store.engine),
        audit=AuditLog(store.engine),
        delegates=Delegates(store.engine),
        projects=ProjectFiles(
            settings.projects,
            key_file=settings.secrets_key_file,
            key_env=settings.key_env,
            data_keys=settings.data_keys_dir,
            managers=settings.allow_secret_managers,
        ),
        runner=runner
        or (
            runner_factory(store)
            if runner_factory
            else EmbeddedRunner(store, options=with_step_processes(settings))
        ),
    )
    server.triggers = TriggerWatcher(server)
    if settings.update_projects:
        server.projects.prepare()
    server.sign_ins = FailedSignIns(limit=settings.auth_failure_limit, window=settings.auth_failure_window)
    if settings.admin_token:
        bootstrap_admin(server, settings.admin_name, settings.admin_token)
    if settings.resume_left_behind:
        lease = getattr(settings.executor_options, "lease", 60.0)
        for execution_id in left_behind(store, lease=lease):
            server.runner.start(execution_id)
    return server


def bootstrap_admin(server: Server, name: str, token: str) -> None:
    """Make `name` an admin who can sign in with `token` (kept hashed), once."""
    from sqlalchemy import insert, select

    from .accounts import token_hash
    from .tables import tokens

    if server.accounts.user(name) is None:
        server.accounts.add_user(name, admin=True)
        server.audit.record("server", "user.create", name, admin=True, bootstrap=True)
    with server.store.engine.begin() as conn:
        known = conn.execute(select(tokens.c.id).where(tokens.c.hash == token_hash(token))).first()
        if known is None:
            import time
            import uuid

            conn.execute(
                insert(tokens).values(
                    id=uuid.uuid4().hex,
                    user_name=name,
                    hash=token_hash(token),
                    description="bootstrap admin token",
                    created_at=time.time(),
                )
            )


def _ensure_key(settings: ServerSettings) -> None:
    if settings.environ.get(settings.key_env):
        return
    from cryptography.fernet import Fernet

    path = settings.secrets_key_file
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(Fernet.generate_key() + b"\n")
    restrict(path)  # a key file copied in with a wider mode is narrowed to 0600


def create_app(settings: ServerSettings | None = None, *, server: Server | None = None) -> FastAPI:
    from . import (
        routes_access,
        routes_delegates,
        routes_executions,
        routes_projects,
        routes_status,
        routes_triggers,
    )
    from .pictures import routes as pictures_routes

    if server is None:
        assert settings is not None
        server = open_server(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        server.triggers.start()
        yield
        server.triggers.stop()
        server.runner.close()

    app = FastAPI(
        title="Corral",
        version="1",
        description="Continuous delivery for Amazon ECS: projects, pipelines, executions, delegates.",
        lifespan=lifespan,
    )
    app.state.server = server
    app.add_middleware(BodyLimit, max_bytes=server.settings.max_request_bytes)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        """Answers without a token: the server is up and its database answers."""
        server.store.executions(limit=1)
        return {"status": "ok"}

    for module in (
        routes_access,
        routes_projects,
        routes_executions,
        routes_delegates,
        routes_triggers,
        routes_status,
    ):
        app.include_router(module.router, prefix="/api/v1")
    app.include_router(pictures_routes.router, prefix="/api/v1")  # the UI's graph, timeline, traffic, charts
    _errors(app)
    audit_denials(app)
    add_security_headers(app)
    _mount_ui(app)
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(ConfigError)
    def config_error(request: Request, error: ConfigError) -> JSONResponse:
        problems = [{"file": p.file, "path": p.path, "message": p.message} for p in error.problems]
        return JSONResponse({"detail": str(error), "problems": problems}, status_code=422)

    @app.exception_handler(NotFound)
    def not_found(request: Request, error: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(Conflict)
    def conflict(request: Request, error: Conflict) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(CorralError)
    def corral_error(request: Request, error: CorralError) -> JSONResponse:
        return JSONResponse({"detail": str(error)}, status_code=409)


def _mount_ui(app: FastAPI) -> None:
    """The web UI (src/corral/server/ui/): its own routes when the module exists, its static
    files at /ui, and / sending a browser there."""
    import importlib.util

    try:
        found = importlib.util.find_spec("corral.server.ui.routes") is not None
    except ModuleNotFoundError:
        found = False
    if found:
        from corral.server.ui import routes as ui_routes

        app.include_router(ui_routes.router)
    if UI_STATIC.is_dir():
        from fastapi.staticfiles import StaticFiles

        app.mount("/ui", StaticFiles(directory=UI_STATIC, html=True), name="ui")

        @app.get("/", include_in_schema=False)
        def index() -> RedirectResponse:
            return RedirectResponse("/ui/")
