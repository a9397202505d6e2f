"""Review of issue 12: what an approver types (approverInputs, comment) is data, as run-time
inputs are. A deployer who may approve gives a value that a later ShellScript step refers to;
the value must be printed, never run as shell code nor read as an expression."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.helpers import Api, Live, live_server, pipeline, shell

from .isolation_helpers import step_messages

GATE = {
    "step": {
        "name": "gate",
        "identifier": "gate",
        "type": "HarnessApproval",
        "timeout": "1h",
        "spec": {
            "approvalMessage": "Ship?",
            "approvers": {"userGroups": ["ops"], "minimumCount": 1},
            "approverInputs": [{"name": "ticket", "defaultValue": "none"}],
        },
    }
}
SHIP = pipeline(
    "ship",
    [
        GATE,
        shell(
            "after",
            'echo "ticket <+execution.steps.gate.output.approverInputs.ticket>"\n'
            "echo 'comment <+execution.steps.gate.output.comment>'",
        ),
    ],
)
INJECTIONS = (
    ('x"; echo INJECTED-$((6*7)); echo "', "INJECTED-42"),
    ("$(echo INJECTED-$((6*7)))", "INJECTED-42"),
    ("<+6*7>INJECTED", "42INJECTED"),
)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as running:
        yield running


def _approver(live: Live) -> tuple[Api, Api]:
    admin = live.client()
    admin.post("/projects", {"name": "shop", "yaml": SHIP}, 201)
    runner = admin.user("ann", project="shop", role="deployer")
    approver = admin.user("bob", project="shop", role="deployer", groups=["ops"])
    return runner, approver


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs scripts only as root")
@pytest.mark.parametrize(("value", "ran"), INJECTIONS, ids=["double-quote", "substitution", "expression"])
def test_an_approver_input_is_printed_never_run(live: Live, value: str, ran: str) -> None:
    runner, approver = _approver(live)
    execution_id = runner.post("/projects/shop/pipelines/ship/executions", {}, 202).json()["id"]
    live.client().wait_approval(execution_id)
    approver.post(f"/executions/{execution_id}/approval", {"approve": True, "inputs": {"ticket": value}}, 202)
    execution = live.client().wait(execution_id)
    messages = step_messages(live.client(), execution_id)
    assert not any(ran in m for m in messages), messages
    assert execution["status"] == "Success", execution
    assert f"ticket {value}" in messages


@pytest.mark.skipif(os.geteuid() != 0, reason="the server runs scripts only as root")
def test_an_approval_comment_is_printed_never_run(live: Live) -> None:
    runner, approver = _approver(live)
    execution_id = runner.post("/projects/shop/pipelines/ship/executions", {}, 202).json()["id"]
    live.client().wait_approval(execution_id)
    comment = "ok'; echo INJECTED-$((6*7)); echo '"
    approver.post(f"/executions/{execution_id}/approval", {"approve": True, "comment": comment}, 202)
    live.client().wait(execution_id)
    messages = step_messages(live.client(), execution_id)
    assert not any("INJECTED-42" in m for m in messages), messages
    assert f"comment {comment}" in messages
