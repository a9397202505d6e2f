"""Review of issue 12, items 3 and 4: a deployer's run-time value passed on through a step's
output variable (a step keeps the version it was given, a later step prints it: a common
pattern) lost its run-time mark in the journal, so the later step pasted it into its script
as shell code, and the executor's rendering evaluated `<+...>` in it. What a step produced is
data: a later step refers to it, never runs or evaluates it. Whatever a script prints (here
the text of a getValue call) is never read as an expression either."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.helpers import Live, live_server, pipeline, shell

from .isolation_helpers import step_messages

SECRET = "TopSecretRelay42"
RELAY = pipeline(
    "relay",
    [
        shell(
            "uses",
            'echo "deploying with $DB"',
            environmentVariables=[{"name": "DB", "type": "String", "value": '<+secrets.getValue("s1")>'}],
        ),
        shell(
            "keep",
            'OUT="$V"; ECHOED="<""+secrets.getValue(\\"s1\\")>"',
            environmentVariables=[{"name": "V", "type": "String", "value": "<+pipeline.variables.version>"}],
            outputVariables=[
                {"name": "out", "type": "String", "value": "OUT"},
                {"name": "echoed", "type": "String", "value": "ECHOED"},
            ],
        ),
        shell("show", 'echo "version <+execution.steps.keep.output.outputVariables.out>"'),
        shell("again", "echo '<+execution.steps.keep.output.outputVariables.echoed>' | rev"),
    ],
).replace("  stages:", "  variables:\n  - name: version\n    type: String\n    value: <+input>\n  stages:")
VALUES = (
    ('1.2"; echo INJECTED-$((6*7)); echo "', "INJECTED-42"),
    ("<+6*7>", "version 42"),
)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as running:
        yield running


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs scripts only as root")
@pytest.mark.parametrize(("value", "ran"), VALUES, ids=["shell", "expression"])
def test_a_value_passed_on_through_a_step_output_stays_data(live: Live, value: str, ran: str) -> None:
    admin = live.client()
    admin.post("/projects", {"name": "alpha", "yaml": RELAY}, 201)
    admin.put("/projects/alpha/secrets/s1", {"value": SECRET}, 200)
    deployer = admin.user("dep", project="alpha", role="deployer")
    run = deployer.post("/projects/alpha/pipelines/relay/executions", {"inputs": {"version": value}}, 202)
    execution = deployer.wait(run.json()["id"])
    messages = step_messages(deployer, run.json()["id"])
    assert execution["status"] == "Success", execution
    assert not any(ran in m for m in messages), messages
    assert f"version {value}" in messages
    # the text a script printed is not an expression either: the secret is not read
    assert '<+secrets.getValue("s1")>'[::-1] in messages
    assert not any(SECRET in m or SECRET[::-1] in m for m in messages), messages


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs scripts only as root")
def test_an_ordinary_value_passed_on_prints_as_before(live: Live) -> None:
    admin = live.client()
    admin.post("/projects", {"name": "alpha", "yaml": RELAY}, 201)
    admin.put("/projects/alpha/secrets/s1", {"value": SECRET}, 200)
    run = admin.post("/projects/alpha/pipelines/relay/executions", {"inputs": {"version": "1.4.2 beta"}}, 202)
    assert admin.wait(run.json()["id"])["status"] == "Success"
    assert "version 1.4.2 beta" in step_messages(admin, run.json()["id"])
