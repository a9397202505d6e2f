"""Review of issue 12, item 1: what a project admin's ShellScript step leaves behind on the
machine does not survive the step (the next step given the same OS user, maybe another
project's, would find it): files in every folder any user may write to, and System V IPC
objects, which outlive the processes that made them."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.helpers import Live, live_server, pipeline, shell

from .isolation_helpers import step_messages

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the server isolates steps only as root")


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as running:
        yield running


def _segments() -> set[str]:
    """The ids of the machine's System V shared memory segments, message queues, semaphores."""
    found = set()
    for kind in ("shm", "msg", "sem"):
        lines = Path("/proc/sysvipc", kind).read_text().splitlines()[1:]
        found |= {f"{kind}:{line.split()[1]}" for line in lines if line.split()}
    return found


def test_nothing_a_step_leaves_in_shared_places_survives_it(live: Live) -> None:
    admin = live.client()
    admin.post("/projects", {"name": "beta"}, 201)
    mallory = admin.user("mallory", project="beta", role="admin")
    left = f"corral-review-{uuid.uuid4().hex}"
    writable = ["/tmp", "/var/tmp", "/dev/shm", "/run/lock"]
    script = "\n".join(
        [
            *(f"echo planted > {folder}/{left} && echo wrote {folder}" for folder in writable),
            "ipcmk -M 4096 >/dev/null && echo made shm",
            "ipcmk -Q >/dev/null && echo made queue",
            "ipcmk -S 1 >/dev/null && echo made semaphore",
        ]
    )
    mallory.put("/projects/beta/entities", {"yaml": pipeline("plant", [shell("plant", script)])}, 200)
    before = _segments()
    execution_id = mallory.post("/projects/beta/pipelines/plant/executions", {}, 202).json()["id"]
    assert mallory.wait(execution_id)["status"] == "Success"
    messages = step_messages(mallory, execution_id)
    assert [f"wrote {folder}" for folder in writable] == [m for m in messages if m.startswith("wrote")]
    assert {"made shm", "made queue", "made semaphore"} <= set(messages)

    assert [folder for folder in writable if Path(folder, left).exists()] == []
    assert _segments() - before == set()
