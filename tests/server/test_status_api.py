"""GET /projects/{p}/status and /projects/{p}/services/{s}/history on a real server holding the demo
project (its connector at the sandbox), after a rolling deployment through the API; `corral status
--server` prints the same; who may not see the project gets 404, no token 401."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corral.demo import pipeline_inputs, prepare_sandbox
from corral.sandbox import Sandbox
from tests.browser.conftest import FAST_POLLS, demo_repository
from tests.cli.helpers import corral

from .helpers import ADMIN_TOKEN, Api, Live, live_server


@pytest.fixture
def served(
    sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Live, dict[str, Any]]]:
    from corral.wiring.ecs_steps import set_poll_policy

    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    set_poll_policy(FAST_POLLS)
    prepared = prepare_sandbox(sandbox.endpoint_url)
    repo = demo_repository(tmp_path / "demo-repo", sandbox.endpoint_url)
    try:
        with live_server(tmp_path / "server") as live:
            live.client().post("/projects/demo/sync", {"url": str(repo), "ref": "main"}, 200)
            yield live, prepared
    finally:
        set_poll_policy(None)


def test_status_and_history_after_a_rolling_deployment(served: tuple[Live, dict[str, Any]]) -> None:
    live, prepared = served
    api = live.client()
    inputs = {**pipeline_inputs(prepared, "demo_rolling"), "tag": "2"}
    run = api.post("/projects/demo/pipelines/demo_rolling/executions", {"inputs": inputs}, 202).json()
    assert api.wait(run["id"], timeout=60)["status"] == "Success"

    answer = api.get("/projects/demo/status?service=demo_web")
    assert answer["project"] == "demo"
    (web,) = answer["services"]
    (service,) = web["live"]["services"]
    assert (service["name"], service["images"], service["counts"]["running"]) == (
        "demo-web",
        ["registry.demo.internal/demo/web:2"],
        2,
    )
    deployed = web["deployed"]
    assert (deployed["execution_id"], deployed["tag"], deployed["triggered_by"]) == (run["id"], "2", "admin")
    assert web["drift"] == [] and web["error"] is None
    assert {row["service"] for row in api.get("/projects/demo/status?env=sandbox")["services"]} >= {
        "demo_web",
        "demo_bg",
    }

    history = api.get("/projects/demo/services/demo_web/history")
    assert [(h["execution_id"], h["status"], h["image"]) for h in history] == [
        (run["id"], "Success", "registry.demo.internal/demo/web:2")
    ]
    assert api.get("/projects/demo/services/demo_bg/history") == []

    # the CLI asks the server and prints its answer
    cli = corral(
        "status",
        "--server",
        live.url,
        "--server-project",
        "demo",
        "--token",
        ADMIN_TOKEN,
        "--service",
        "demo_web",
        "--json",
    )
    assert cli.exit_code == 0, cli.output
    printed = json.loads(cli.output)
    assert printed["services"][0]["deployed"] == deployed
    server = ["--server", live.url, "--server-project", "demo", "--token", ADMIN_TOKEN]
    listed = corral("status", *server, "--service", "demo_web", "--history", "--json")
    assert json.loads(listed.output) == history
    table = corral("status", "--server", live.url, "--server-project", "demo", "--token", ADMIN_TOKEN)
    assert table.exit_code == 0, table.output
    assert any(
        line.split()[:2] == ["demo_web", "demo-web"] and "demo/web:2" in line
        for line in table.output.splitlines()
    )


def test_unknown_names_and_a_user_without_a_role_get_404(served: tuple[Live, dict[str, Any]]) -> None:
    live, _ = served
    api = live.client()
    assert "no service 'nope'" in api.call("GET", "/projects/demo/status?service=nope", 404).text
    assert "no environment 'prod'" in api.call("GET", "/projects/demo/status?env=prod", 404).text
    assert "no service 'nope'" in api.call("GET", "/projects/demo/services/nope/history", 404).text
    Api(live.url, None).call("GET", "/projects/demo/status", 401)
    outsider = api.user("mallory")
    outsider.call("GET", "/projects/demo/status", 404)
    outsider.call("GET", "/projects/demo/services/demo_web/history", 404)
    viewer = api.user("vera", project="demo", role="viewer")
    assert viewer.get("/projects/demo/status")["project"] == "demo"
    refused = corral(
        "status",
        "--server",
        live.url,
        "--server-project",
        "demo",
        "--token",
        "crl_wrong-token-000000000000000000000",
    )
    assert refused.exit_code != 0 and "the server answered 401" in refused.output
