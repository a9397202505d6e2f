"""`corral server --temporal` ends executions without a traceback in its log, shuts down
cleanly while executions run, and they go on when it is back."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from tests.server.helpers import ADMIN_TOKEN, Api, pipeline, shell

from .conftest import StartDelegate, wait_until
from .server_helpers import server_on_temporal

SOAK = {
    "step": {
        "name": "soak",
        "identifier": "soak",
        "type": "Wait",
        "timeout": "5m",
        "spec": {"duration": "4s"},
    }
}
RELEASE = pipeline("release", [shell("before", "echo before"), SOAK, shell("after", "echo after")]).replace(
    "  stages:", "  delegateSelectors: [prod]\n  stages:"
)


def _problems(caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> list[str]:
    """Tracebacks, errors and warnings the server process logged (Python's logging, and the
    Temporal core's own lines on stdout/stderr)."""
    found = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING or r.exc_info is not None
    ]
    out, err = capfd.readouterr()
    found += [
        line for line in (out + err).splitlines() if "Traceback" in line or "WARN" in line or "ERROR" in line
    ]
    return found


def test_executions_end_quietly_and_survive_a_server_restart(
    tmp_path: Path,
    temporal: str,
    delegates: StartDelegate,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    data_dir = tmp_path / "server"
    with server_on_temporal(data_dir, temporal) as url:
        admin = Api(url, ADMIN_TOKEN)
        admin.post("/projects", {"name": "shop", "yaml": RELEASE}, 201)
        delegates("d", "prod")
        quick = admin.post("/projects/shop/pipelines/release/executions", {}, 202).json()["id"]
        assert admin.wait(quick, timeout=60)["status"] == "Success"
        in_flight = admin.post("/projects/shop/pipelines/release/executions", {}, 202).json()["id"]

        def soaking() -> bool:
            steps = admin.get(f"/executions/{in_flight}")["steps"]
            return any(s["identifier"] == "soak" and s["status"] == "Running" for s in steps)

        wait_until(soaking, what="the wait to start")
    assert _problems(caplog, capfd) == []

    with server_on_temporal(data_dir, temporal) as url:
        admin = Api(url, ADMIN_TOKEN)
        execution = admin.wait(in_flight, timeout=60)
        assert execution["status"] == "Success"
        assert [(s["identifier"], s["status"]) for s in execution["steps"]] == [
            ("before", "Success"),
            ("soak", "Success"),
            ("after", "Success"),
        ]
    assert _problems(caplog, capfd) == []
