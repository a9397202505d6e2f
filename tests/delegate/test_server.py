"""The acceptance test: `corral server` running executions on Temporal, two delegates tagged
prod registered on the server, ten pipelines, one delegate killed with SIGKILL in the middle
of their waits: all ten end in Success, as the server's API reports them."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.server.helpers import ADMIN_TOKEN, Api, pipeline, shell

from .conftest import StartDelegate, wait_until
from .server_helpers import server_on_temporal

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
