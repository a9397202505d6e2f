"""`corral server --temporal` in the test process: a live server whose runner is a
TemporalRunner (it runs the workflows and control activities, as the command does)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from corral.delegate.temporal_runner import TemporalRunner
from corral.server import ServerSettings, create_app, open_server
from corral.server.delegates import Delegates
from corral.store import Store
from tests.server.helpers import ADMIN_TOKEN, FAST, free_port

from .conftest import HEARTBEAT_TIMEOUT


@contextmanager
def server_on_temporal(data_dir: Path, temporal: str) -> Iterator[str]:
    """A live Corral server whose runner is a TemporalRunner (it also runs the workflows)."""
    settings = ServerSettings(data_dir=data_dir, admin_token=ADMIN_TOKEN, executor_options=FAST)

    def on_temporal(store: Store) -> TemporalRunner:  # what `corral server --temporal` does
        registry = Delegates(store.engine)
        runner = TemporalRunner(
            store,
            target=temporal,
            heartbeat_timeout=HEARTBEAT_TIMEOUT,
            delegates=lambda: [vars(d) for d in registry.all()],
        )
        runner.serve()
        return runner

    server = open_server(settings, runner_factory=on_temporal)
    port = free_port()
    uv = uvicorn.Server(
        uvicorn.Config(create_app(server=server), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    while not uv.started:
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        uv.should_exit = True
        thread.join(10)
        server.close()
