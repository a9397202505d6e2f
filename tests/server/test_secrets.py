"""A secret used by a connector and by a shell step never shows: not in logs (plain, base64 or
URL-encoded), API answers, outputs, the audit log, nor the database (SQLite file, PostgreSQL rows)."""

from __future__ import annotations

import base64
import hashlib
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest
import yaml
from sqlalchemy import MetaData, select

from corral.expressions.context import MASK, ExpressionContext

from .helpers import Api, Live, live_server, shell

SECRET = "s3cr3t/Value+with spaces&more=="


def forms(value: str) -> list[str]:
    raw = value.encode()
    return [value, base64.b64encode(raw).decode(), quote(value, safe=""), quote_plus(value)]


def test_the_masker_hides_plain_base64_and_url_encoded_forms() -> None:
    context = ExpressionContext(used_secrets={SECRET, "ab"})
    for form in forms(SECRET):
        assert context.mask(f"before {form} after") == f"before {MASK} after"
    assert context.mask(base64.b64encode(SECRET.encode()).decode().rstrip("=")) == MASK
    assert context.mask(base64.urlsafe_b64encode(SECRET.encode()).decode()) == MASK
    # a value under 4 characters is never masked (masking it would tell what it is): such
    # secrets are refused where they are read (tests/security/test_secret_masking.py)
    assert (
        context.mask("ab is short: cab and YWI= are left alone") == "ab is short: cab and YWI= are left alone"
    )


class _CloudWatch(http.server.BaseHTTPRequestHandler):
    """Stands in for CloudWatch: remembers who signed the request, answers 400."""

    seen: list[str] = []

    def do_POST(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(400)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def cloudwatch() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CloudWatch)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def _project(api: Api, endpoint: str) -> None:
    connector = {
        "connector": {
            "name": "AWS",
            "identifier": "aws",
            "type": "Aws",
            "spec": {
                "credential": {
                    "type": "ManualConfig",
                    "spec": {"accessKey": "AKIASERVERTEST", "secretKeyRef": "deploy_key"},
                    "region": "us-east-1",
                },
                "endpointUrl": endpoint,
            },
        }
    }
    script = (
        'echo "plain: $KEY"\n'
        'echo "base64: $(printf %s "$KEY" | base64 -w0)"\n'
        'echo "url: $(python3 -c \'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))\' "$KEY")"\n'
        'echo "sha: $(printf %s "$KEY" | sha256sum | cut -c1-64)"\n'
        "OUT=$KEY\n"
    )
    verify = {
        "step": {
            "name": "verify",
            "identifier": "verify",
            "type": "Verify",
            "timeout": "1m",
            "spec": {
                "duration": "100ms",
                "interval": "50ms",
                "consecutiveErrorLimit": 1,
                "checks": [
                    {
                        "name": "errors",
                        "type": "CloudWatch",
                        "spec": {
                            "connectorRef": "aws",
                            "region": "us-east-1",
                            "metricDataQueries": [{"Id": "e", "Expression": "SUM([])"}],
                            "successCondition": "result < 5",
                        },
                    }
                ],
            },
            "failureStrategies": [{"onFailure": {"errors": ["AllErrors"], "action": {"type": "Ignore"}}}],
        }
    }
    steps = [
        shell(
            "leak",
            script,
            environmentVariables=[
                {"name": "KEY", "type": "Secret", "value": '<+secrets.getValue("deploy_key")>'}
            ],
            outputVariables=[{"name": "out", "type": "String", "value": "OUT"}],
        ),
        verify,
    ]
    stage = {
        "stage": {
            "name": "Run",
            "identifier": "run",
            "type": "Custom",
            "spec": {"execution": {"steps": steps}},
        }
    }
    pipeline = {"pipeline": {"name": "leaky", "identifier": "leaky", "stages": [stage]}}
    api.post("/projects", {"name": "vault"}, 201)
    api.put("/projects/vault/secrets/deploy_key", {"value": SECRET}, 200)
    api.put("/projects/vault/entities", {"yaml": yaml.safe_dump_all([connector, pipeline])}, 200)


def run_leaky_pipeline(live: Live) -> str:
    """Runs the pipeline; returns everything the API answered about it."""
    api = live.client()
    _CloudWatch.seen.clear()
    with cloudwatch() as endpoint:
        _project(api, endpoint)
        execution_id = api.post("/projects/vault/pipelines/leaky/executions", {}, 202).json()["id"]
        events = api.events(execution_id)
    execution = api.get(f"/executions/{execution_id}")
    logs = api.get(f"/executions/{execution_id}/logs")
    messages = [line["message"] for line in logs]
    assert f"sha: {hashlib.sha256(SECRET.encode()).hexdigest()}" in messages  # the step had the value
    assert {"plain: " + MASK, "base64: " + MASK, "url: " + MASK} <= set(messages)
    assert execution["steps"][0]["outputs"] == {"out": MASK}
    assert execution["steps"][1]["status"] == "IgnoreFailed"
    assert _CloudWatch.seen and all("Credential=AKIASERVERTEST/" in a for a in _CloudWatch.seen)
    answers = [
        str(events),
        str(execution),
        str(logs),
        str(api.get("/audit")),
        str(api.get("/projects/vault/entities/secret/deploy_key")),
        str(api.get("/projects/vault/secrets")),
        str(api.get("/executions")),
    ]
    return "\n".join(answers)


def assert_hidden(text: str | bytes) -> None:
    for form in forms(SECRET):
        needle = form.encode() if isinstance(text, bytes) else form
        assert needle not in text, form


def test_a_secret_never_shows_on_sqlite(live: Live) -> None:
    assert_hidden(run_leaky_pipeline(live))
    state = live.server.settings.data_dir / ".corral"
    files = [p for p in state.iterdir() if p.name.startswith("corral.db")]
    assert files
    for path in files:
        assert_hidden(path.read_bytes())
    for path in live.server.settings.projects.rglob("*.yaml"):
        assert_hidden(path.read_bytes())


@pytest.mark.slow
def test_a_secret_never_shows_on_postgresql(tmp_path: Path, postgres_url: str) -> None:
    with live_server(tmp_path / "server", store_url=postgres_url) as live:
        assert_hidden(run_leaky_pipeline(live))
        engine = live.server.store.engine
        tables = MetaData()
        tables.reflect(engine)
        assert {"executions", "log_lines", "server_audit_log", "server_tokens"} <= set(tables.tables)
        with engine.connect() as conn:
            for table in tables.sorted_tables:
                assert_hidden(str(conn.execute(select(table)).all()))
