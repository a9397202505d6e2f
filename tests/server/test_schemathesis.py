"""Property-based calls of every operation in /openapi.json (schemathesis) with an admin token:
whatever is sent, the server answers without a server error (5xx)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error

from corral.server import ServerSettings, create_app, open_server

from .helpers import ADMIN_TOKEN, ENVIRONMENTS, FAST, GATED, HELLO

MAX_EXAMPLES = 20


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    folder: Path = tmp_path_factory.mktemp("fuzzed")
    server = open_server(ServerSettings(data_dir=folder, admin_token=ADMIN_TOKEN, executor_options=FAST))
    server.projects.create("demo", "---\n".join([ENVIRONMENTS, HELLO, GATED]))
    app = create_app(server=server)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    yield schema
    for execution_id in server.runner.running():
        server.runner.abort(execution_id, by="test")
    server.close()


def test_no_server_errors(api_schema: schemathesis.BaseSchema) -> None:
    """Every operation but Git sync (it fetches from whatever URL is generated: nothing may leave
    this machine). Driven through schemathesis' Python API rather than its pytest plugin, which
    breaks with new pytest releases."""
    checked = 0
    for result in api_schema.exclude(path_regex=r"/sync$").get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def call(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, checks=[not_a_server_error]
            )

        call()
        checked += 1
    assert checked >= 20, "the OpenAPI document lists the server's operations"
