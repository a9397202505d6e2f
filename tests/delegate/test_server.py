"""The acceptance test: `corral server` running executions on Temporal, two delegates tagged
prod registered on the server, ten pipelines, one delegate killed with SIGKILL in the middle
of their waits: all ten end in Success, as the server's API reports them."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import uvicorn

from corral.delegate.temporal_runner import TemporalRunner
from corral.server import ServerSettings, create_app, open_server
from corral.store import Store
from tests.server.helpers import ADMIN_TOKEN, FAST, Api, free_port, pipeline, shell

from .conftest import HEARTBEAT_TIMEOUT, StartDelegate, wait_until

WAIT = {
    "step": {
        "name": "soak",
        "identifier": "soak",
        "type": "Wait",
        "timeout": "5m",
        "spec": {"duration": "15s"},
    }
}
RELEASE = pipeline(
    "release", [shell("before", "echo before <+pipeline.sequenceId>"), WAIT, shell("after", "echo after")]
).replace("  stages:", "  delegateSelectors: [prod]\n  stages:")


@contextmanager
def server_on_temporal(data_dir: Path, temporal: str) -> Iterator[str]:
    """A live Corral server whose runner is a TemporalRunner (it also runs the workflows)."""
    settings = ServerSettings(data_dir=data_dir, admin_token=ADMIN_TOKEN, executor_options=FAST)

    def on_temporal(store: Store) -> TemporalRunner:  # what `corral server --temporal` does
        runner = TemporalRunner(store, target=temporal, heartbeat_timeout=HEARTBEAT_TIMEOUT)
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


def test_ten_pipelines_through_the_server_survive_a_killed_delegate(
    tmp_path: Path, temporal: str, delegates: StartDelegate
) -> None:
    with server_on_temporal(tmp_path / "server", temporal) as url:
        admin = Api(url, ADMIN_TOKEN)
        admin.post("/projects", {"name": "shop", "yaml": RELEASE}, 201)
        tokens = {
            name: admin.post("/delegates", {"name": name, "tags": ["prod"]}, 201).json()["token"]
            for name in ("doomed", "survivor")
        }
        # the delegates take their tags from the server
        doomed = delegates("doomed", None, "--server", url, "--token", tokens["doomed"])
        ids = [
            admin.post("/projects/shop/pipelines/release/executions", {}, 202).json()["id"] for _ in range(10)
        ]

        def soaking(execution_id: str) -> bool:
            steps = admin.get(f"/executions/{execution_id}")["steps"]
            return any(s["identifier"] == "soak" and s["status"] == "Running" for s in steps)

        wait_until(lambda: all(soaking(i) for i in ids), what="the ten waits on the first delegate")
        delegates("survivor", None, "--server", url, "--token", tokens["survivor"])
        wait_until(lambda: "polling" in (tmp_path / "delegate-survivor.err").read_text(), what="the survivor")
        os.kill(doomed.pid, signal.SIGKILL)
        doomed.wait()

        for execution_id in ids:
            execution = admin.wait(execution_id, timeout=120)
            assert execution["status"] == "Success", execution
            assert [(s["identifier"], s["status"]) for s in execution["steps"]] == [
                ("before", "Success"),
                ("soak", "Success"),
                ("after", "Success"),
            ]
        seen = {d["name"]: d for d in admin.get("/delegates")}
        assert seen["survivor"]["tags"] == ["prod"]
        assert seen["survivor"]["last_seen_at"] is not None and seen["doomed"]["last_seen_at"] is not None
