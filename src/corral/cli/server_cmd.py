"""`corral server`: the HTTP API and web UI; `corral user`: users and tokens without the API."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from corral.server.settings import DEFAULT_TOKEN_LIFETIME_DAYS

if TYPE_CHECKING:
    from corral.server import ServerSettings

DATA_DIR = Path(".corral-server")


def _settings(
    data_dir: Path,
    store: str | None,
    projects: Path | None,
    admin_token: str | None = None,
    *,
    resume: bool = True,
    allow_local_steps: bool = False,
    secret_managers: tuple[str, ...] = (),
) -> ServerSettings:
    """resume: continue executions left behind by a server that stopped, and bring the projects'
    settings up to date (not for `corral user`)."""
    from corral.server import ServerSettings

    return ServerSettings(
        data_dir=data_dir,
        store_url=store,
        projects_dir=projects,
        admin_token=admin_token,
        resume_left_behind=resume,
        allow_local_steps=allow_local_steps,
        update_projects=resume,
        allow_secret_managers=secret_managers,
    )


def _admin_token(admin_token_file: Path | None) -> str | None:
    from corral.server.settings import ADMIN_TOKEN_ENV, admin_token_problem

    if admin_token_file is not None:
        if not admin_token_file.exists():  # make one, readable by its owner only
            from corral.server.accounts import new_token

            fd = os.open(admin_token_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as out:
                out.write(new_token() + "\n")
            click.echo(f"Wrote a new admin token to {admin_token_file}", err=True)
        token = admin_token_file.read_text(encoding="utf-8").strip()
        problem = admin_token_problem(token)
        if problem is not None:
            raise click.BadParameter(f"{admin_token_file}: {problem}", param_hint="--admin-token-file")
        # every process (a step's user too) can read the server's command line, so the path is
        # no secret: the file's mode is what keeps the token from them
        mode = admin_token_file.stat().st_mode & 0o777
        if mode & 0o007:
            raise click.BadParameter(
                f"{admin_token_file}: other users may read or change it (mode {mode:o}); chmod 600 it",
                param_hint="--admin-token-file",
            )
        return token
    from_env = os.environ.get(ADMIN_TOKEN_ENV) or None
    problem = admin_token_problem(from_env) if from_env else None
    if problem is not None:
        raise click.ClickException(f"{ADMIN_TOKEN_ENV}: {problem}")
    return from_env


_Command = TypeVar("_Command", bound=Callable[..., Any])
_common = [
    click.option(
        "--data-dir",
        type=click.Path(path_type=Path),
        default=DATA_DIR,
        show_default=True,
        help="Where the SQLite store, projects, Git cache and secrets key live.",
    ),
    click.option(
        "--store",
        "store_url",
        default=None,
        help="A database URL (postgresql+psycopg://...) instead of SQLite.",
    ),
    click.option(
        "--projects",
        type=click.Path(path_type=Path),
        default=None,
        help="The folder of projects (default: DATA_DIR/projects).",
    ),
]


def _with_common(function: _Command) -> _Command:
    for option in reversed(_common):
        function = option(function)
    return function


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@_with_common
@click.option(
    "--admin-token-file",
    type=click.Path(path_type=Path),
    default=None,
    help="The first admin's token (made when the file does not exist); or set CORRAL_ADMIN_TOKEN.",
)
@click.option(
    "--temporal",
    metavar="HOST:PORT",
    default=None,
    help="Distributed mode: run pipelines as Temporal workflows, their steps on `corral delegate` "
    "workers chosen by delegateSelectors (default: in this process).",
)
@click.option(
    "--namespace", default="default", show_default=True, help="Temporal namespace (with --temporal)."
)
@click.option(
    "--allow-local-steps",
    is_flag=True,
    help="UNSAFE for shared servers: when the server does not run as root (so cannot run ShellScript "
    "steps as a separate unprivileged OS user) and has no delegates, run them as the server's own "
    "user, where a script can read its database, keys and environment. Without it such steps are "
    "refused.",
)
@click.option(
    "--allow-secret-manager",
    "secret_managers",
    multiple=True,
    type=click.Choice(["file", "env"]),
    help="Let projects use this secret manager (repeatable). `file` and `env` read the server's own "
    "files and environment, so they are refused unless named here; unsafe on a shared server.",
)
@click.option(
    "--token-lifetime-days",
    type=click.FloatRange(min=0),
    default=DEFAULT_TOKEN_LIFETIME_DAYS,
    show_default=True,
    help="How long API tokens made without an expiry work (0: they never expire).",
)
@click.option(
    "--git-allow",
    "git_allow",
    multiple=True,
    metavar="PATTERN",
    help="Remote Git URLs a project may be synced from, shell-style (https://github.com/acme/*); "
    "repeatable. Default: any remote URL. Local paths and file:// are for global admins only.",
)
@click.option(
    "--trusted-proxy",
    "trusted_proxies",
    multiple=True,
    metavar="ADDRESS",
    help="The address (or network, 10.0.0.0/8) of a reverse proxy in front of the server, whose "
    "X-Forwarded-For names the client (sign-in limits and the audit log count that address); "
    "repeatable. Default: none, so no client can name another address for itself.",
)
def server(
    host: str,
    port: int,
    data_dir: Path,
    store_url: str | None,
    projects: Path | None,
    admin_token_file: Path | None,
    temporal: str | None,
    namespace: str,
    allow_local_steps: bool,
    secret_managers: tuple[str, ...],
    token_lifetime_days: float,
    git_allow: tuple[str, ...],
    trusted_proxies: tuple[str, ...],
) -> None:
    """Serve the REST API (/api/v1, OpenAPI at /openapi.json) and the web UI."""
    import uvicorn

    from corral.server import create_app, open_server

    settings = _settings(
        data_dir,
        store_url,
        projects,
        _admin_token(admin_token_file),
        allow_local_steps=allow_local_steps,
        secret_managers=secret_managers,
    )
    settings.token_lifetime_days = token_lifetime_days or None
    settings.git_allow = list(git_allow)
    factory = None
    if temporal:

        def factory(store: Any) -> Any:
            from corral.delegate.temporal_runner import TemporalRunner
            from corral.server.delegates import Delegates

            registry = Delegates(store.engine)  # named when a step finds no delegate
            runner = TemporalRunner(
                store,
                target=temporal,
                namespace=namespace,
                delegates=lambda: [vars(d) for d in registry.all()],
            )
            runner.serve()  # the pipeline workflows and control activities run in this process
            return runner

    app = create_app(server=open_server(settings, runner_factory=factory))
    if not app.state.server.accounts.has_admin():
        click.echo(
            "No admin yet: start with --admin-token-file FILE (or CORRAL_ADMIN_TOKEN) to make one.", err=True
        )
    # uvicorn believes X-Forwarded-For from 127.0.0.1 by default: any local process (a step's
    # user) could then give each request a new address and never reach the sign-in limit
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=bool(trusted_proxies),
        forwarded_allow_ips=list(trusted_proxies) or None,
    )


@click.group()
def user() -> None:
    """Users and their API tokens (on the server's database)."""


@user.command("add")
@click.argument("name")
@_with_common
@click.option("--group", "groups", multiple=True, help="A user group (approvals); repeatable.")
@click.option("--admin", is_flag=True, help="A global administrator.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    metavar="PROJECT=ROLE[+production]",
    help="viewer, deployer or admin on a project (* = every project); repeatable.",
)
def add_user(
    name: str,
    data_dir: Path,
    store_url: str | None,
    projects: Path | None,
    groups: tuple[str, ...],
    admin: bool,
    roles: tuple[str, ...],
) -> None:
    """Add a user (and print nothing secret: make a token with `corral user token`)."""
    from corral.server import open_server
    from corral.server.accounts import ALL_PROJECTS, ROLES

    wanted = []  # every --role is checked before anything is created
    for given in roles:
        project, sep, role = given.partition("=")
        role, _, extra = role.partition("+")
        if not sep or not project or role not in ROLES or extra not in ("", "production"):
            raise click.BadParameter(
                f"{given}: expected PROJECT=viewer|deployer|admin[+production]", param_hint="--role"
            )
        wanted.append((project, role, extra == "production"))
    server = open_server(_settings(data_dir, store_url, projects, resume=False))
    try:
        if server.accounts.user(name) is not None:
            raise click.ClickException(f"user {name} exists already")
        unknown = [p for p, _, _ in wanted if p != ALL_PROJECTS and not server.projects.exists(p)]
        if unknown:
            raise click.BadParameter(f"no project {unknown[0]!r} on this server", param_hint="--role")
        server.accounts.add_user(name, groups=list(groups), admin=admin)
        for project, role, production in wanted:
            server.accounts.set_role(name, project, role, production=production)
        server.audit.record("cli", "user.create", name, groups=list(groups), admin=admin, roles=list(roles))
        click.echo(f"Added user {name}")
    finally:
        server.close()


@user.command("token")
@click.argument("name")
@_with_common
@click.option("--description", default="", help="What the token is for.")
@click.option(
    "--expires-in-days",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="How long the token works (default: the server's token lifetime, 90 days).",
)
def create_token(
    name: str,
    data_dir: Path,
    store_url: str | None,
    projects: Path | None,
    description: str,
    expires_in_days: float | None,
) -> None:
    """Make an API token for a user and print it (only now: the server keeps a hash)."""
    from corral.server import open_server

    server = open_server(_settings(data_dir, store_url, projects, resume=False))
    try:
        if server.accounts.user(name) is None:
            raise click.ClickException(f"no user {name}")
        days = expires_in_days or server.settings.token_lifetime_days
        token, info = server.accounts.create_token(
            name, description=description, expires_in=days * 86400 if days else None
        )
        server.audit.record("cli", "token.create", info.id, user=name, description=description)
        click.echo(token)
    finally:
        server.close()
