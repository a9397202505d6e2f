"""A live server with chosen settings, and a small project whose secret must stay hidden
(tests/security/test_secret_scope.py and test_runtime_inputs.py)."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import yaml

from tests.server.helpers import Api, Live, live_server, shell

S1 = "hunter2-Orchard-s1"  # the secret a deployer tries to print
ATTACK = '<+secrets.getValue("s1").toUpperCase()>'


@contextmanager
def server_with(data_dir: Path, **settings: Any) -> Iterator[Live]:
    """tests.server.helpers.live_server, with ServerSettings fields given (allow_secret_managers)."""
    with live_server(data_dir, **settings) as running:
        yield running


def forms(value: str) -> list[str]:
    """The value as a log, an output or a database row could hold it."""
    derived = [value, value.upper(), value.lower(), value[::-1]]
    return [
        *derived,
        *(base64.b64encode(v.encode()).decode() for v in derived),
        *(quote(v, safe="") for v in derived),
        *(quote_plus(v) for v in derived),
    ]


def assert_hidden(text: str | bytes, value: str = S1) -> None:
    for form in forms(value):
        needle: str | bytes = form.encode() if isinstance(text, bytes) else form
        assert needle not in text, f"{form!r} found"


def pipeline_doc(identifier: str, steps: list[Any], variables: list[dict[str, Any]]) -> dict[str, Any]:
    stage = {
        "stage": {
            "name": "Run",
            "identifier": "run",
            "type": "Custom",
            "spec": {"execution": {"steps": steps}},
        }
    }
    return {
        "pipeline": {"name": identifier, "identifier": identifier, "variables": variables, "stages": [stage]}
    }


def uses_s1() -> dict[str, Any]:
    """A step that reads s1 where the pipeline means it to: s1 is in the run's scope."""
    return shell(
        "use",
        'echo "token has ${#TOKEN} characters"',
        environmentVariables=[{"name": "TOKEN", "type": "Secret", "value": '<+secrets.getValue("s1")>'}],
    )


def echo_step(identifier: str, value: str) -> dict[str, Any]:
    """Prints value (an expression) through an environment variable and keeps it as output `out`."""
    return shell(
        identifier,
        'echo "msg=$MSG"\nOUT="$MSG"\n',
        environmentVariables=[{"name": "MSG", "type": "String", "value": value}],
        outputVariables=[{"name": "out", "type": "String", "value": "OUT"}],
    )


def make_shop(api: Api, *pipelines: dict[str, Any]) -> None:
    """Project `shop` with secret s1 and the given pipelines."""
    api.post("/projects", {"name": "shop"}, 201)
    api.put("/projects/shop/secrets/s1", {"value": S1}, 200)
    api.put("/projects/shop/entities", {"yaml": yaml.safe_dump_all(list(pipelines), sort_keys=False)}, 200)


def everything_said(api: Api, live: Live, execution_id: str) -> str:
    """What the API, the database file and the project files hold after a run."""
    parts = [
        str(api.get(f"/executions/{execution_id}")),
        str(api.get(f"/executions/{execution_id}/logs")),
        str(api.events(execution_id)),
        str(api.get("/executions")),
        str(api.get("/audit")),
        str(api.get("/projects/shop/secrets")),
    ]
    state = live.server.settings.data_dir / ".corral"
    for path in state.iterdir():
        if path.name.startswith("corral.db"):
            parts.append(path.read_bytes().decode("latin-1"))
    for path in live.server.settings.projects.rglob("*"):
        if path.is_file():
            parts.append(path.read_bytes().decode("latin-1"))
    return "\n".join(parts)
