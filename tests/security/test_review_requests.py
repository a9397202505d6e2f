"""Review of issue 12, item 8 (bounded input): a request whose JSON holds a lone UTF-16
surrogate escape (`"\\ud800"`, valid JSON, not text) used to be accepted as a run's input; every
later view of the execution (the API, the list every viewer reads) then failed with 500. It is
refused with 422 before anything is stored, on every route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.helpers import HELLO, Api, Live, live_server

LONE = b'"\\ud800"'


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as running:
        yield running


def _post(api: Api, method: str, path: str, body: bytes) -> tuple[int, str]:
    answer = api.call(method, path, content=body, headers={"content-type": "application/json"})
    return answer.status_code, answer.text


def test_a_lone_surrogate_in_a_run_input_is_refused_and_the_executions_stay_readable(live: Live) -> None:
    admin = live.client()
    admin.post("/projects", {"name": "alpha", "yaml": HELLO}, 201)
    deployer = admin.user("dep", project="alpha", role="deployer")
    viewer = admin.user("view", project="alpha", role="viewer")
    status, text = _post(
        deployer, "POST", "/projects/alpha/pipelines/hello/executions", b'{"inputs": {"who": %s}}' % LONE
    )
    assert status == 422 and "lone UTF-16 surrogate" in text, text
    assert viewer.get("/executions") == []

    # a surrogate pair (an emoji written as escapes) is text, and runs
    pair = b'{"inputs": {"who": "\\ud83d\\ude00 \\\\ud800"}}'
    status, text = _post(deployer, "POST", "/projects/alpha/pipelines/hello/executions", pair)
    assert status == 202, text
    execution = viewer.wait(json.loads(text)["id"])
    assert execution["status"] == "Success"
    messages = [line["message"] for line in viewer.get(f"/executions/{execution['id']}/logs")]
    assert messages[0] == "hello \U0001f600 \\ud800"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("PUT", "/projects/alpha/entities", b'{"yaml": %s}' % LONE),
        ("PUT", "/projects/alpha/secrets/s1", b'{"value": %s}' % LONE),
        ("POST", "/projects", b'{"name": "beta", "yaml": %s}' % LONE),
        ("POST", "/users", b'{"name": "x", "groups": [%s]}' % LONE),
    ],
    ids=["entities", "secret", "project", "user"],
)
def test_a_lone_surrogate_is_refused_on_every_upload_route(
    live: Live, method: str, path: str, body: bytes
) -> None:
    admin = live.client()
    admin.post("/projects", {"name": "alpha"}, 201)
    status, text = _post(admin, method, path, body)
    assert status == 422 and "lone UTF-16 surrogate" in text, text
    assert admin.call("GET", "/projects").status_code == 200
