"""Review of issue 12, item 8 (nothing hangs a thread): a deployer's run-time value is checked
against the input's `.regex(...)`. That check used Python's `re` without a time limit, so a
value of 40 characters against a pattern that backtracks (`^([a-z0-9]+-?)+$`, a plausible
rule for a version or host name) held a server thread for hours; a few such requests stop the
server. The check is bounded like every other regular expression (REGEX_TIMEOUT) and answers at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.server.helpers import Live, live_server, pipeline, shell

BACKTRACKING = "^([a-z0-9]+-?)+$"
LABEL = pipeline("label", [shell("say", 'echo "label <+pipeline.variables.label>"')]).replace(
    "  stages:",
    f"  variables:\n  - name: label\n    type: String\n    value: <+input>.regex('{BACKTRACKING}')\n  stages:",
)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as running:
        yield running


def test_a_backtracking_input_regex_answers_at_once(live: Live) -> None:
    admin = live.client()
    admin.post("/projects", {"name": "alpha", "yaml": LABEL}, 201)
    deployer = admin.user("dep", project="alpha", role="deployer")
    deployer.http.timeout = httpx.Timeout(10)  # the bound: a hung check fails here

    refused = deployer.post(
        "/projects/alpha/pipelines/label/executions", {"inputs": {"label": "a" * 40 + "!"}}
    )
    assert refused.status_code == 422, refused.text
    # the bounded engine finds out at once; a pattern it cannot would stop at REGEX_TIMEOUT
    assert "pipeline.variables[0].value" in refused.text and "does not match the pattern" in refused.text

    # ordinary values are checked as before
    bad = deployer.post("/projects/alpha/pipelines/label/executions", {"inputs": {"label": "Not_OK"}})
    assert bad.status_code == 422 and "does not match the pattern" in bad.text, bad.text
    good = deployer.post("/projects/alpha/pipelines/label/executions", {"inputs": {"label": "web-1"}}, 202)
    assert deployer.wait(good.json()["id"])["status"] == "Success"
    assert admin.get("/executions") and len(admin.get("/executions")) == 1
