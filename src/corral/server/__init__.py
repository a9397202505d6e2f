"""`corral server`: the HTTP API (FastAPI) over projects, executions, access and delegates.

    app = create_app(ServerSettings(data_dir=Path("/var/lib/corral"), admin_token="..."))

Modules:
    app.py            create_app / open_server: the store, the server's tables, routes, the UI mount
    settings.py       ServerSettings: data dir, store URL, projects dir, secrets key
    tables.py         the server's tables (migrations/: their own Alembic history); database.py
    accounts.py       users, API tokens (hashed at rest), roles per project
    auth.py           who is calling (bearer token) and what they may do
    audit.py          the audit log; delegates.py the registered delegates
    projects.py       projects as folders of YAML, validated before every change; Git sync
    runner.py         Runner protocol; EmbeddedRunner (background threads in this process)
    step_isolation.py how the embedded runner runs scripts (isolated as root, else refused unless
                      --allow-local-steps); the data folder kept from other OS users
    routes_*.py       the API, one module per area; schemas.py its bodies
    ui/               the web UI (static files at /ui, its routes when present)
"""

from corral.server.app import Server, create_app, open_server
from corral.server.runner import EmbeddedRunner, Runner
from corral.server.settings import ServerSettings

__all__ = ["EmbeddedRunner", "Runner", "Server", "ServerSettings", "create_app", "open_server"]
