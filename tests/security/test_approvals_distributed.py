"""The same approval rules when the pipeline runs as a Temporal workflow: the server's runner
records each vote through the engine's check before it signals the workflow, so a signal never
approves on one vote when two are needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral.delegate.temporal_runner import TemporalRunner
from corral.engine import create_execution
from corral.engine.approvals import ApprovalRefused
from corral.store import Store
from tests.delegate.conftest import StartDelegate, delegates, runner, store, temporal, wait_until  # noqa: F401
from tests.engine.helpers import pipeline, shell, stage, step, write_project

GATE = step(
    "gate",
    "HarnessApproval",
    {
        "approvalMessage": "Release?",
        "approvers": {"userGroups": ["release"], "minimumCount": 2, "disallowPipelineExecutor": True},
    },
)


def test_two_distinct_approvers_and_not_the_executor_on_temporal(
    tmp_path: Path,
    store: Store,  # noqa: F811
    runner: TemporalRunner,  # noqa: F811
    delegates: StartDelegate,  # noqa: F811
) -> None:
    root = write_project(
        tmp_path / "project", pipeline("gated", [stage("s", [GATE, shell("ship", "echo shipped")])])
    )
    delegates("d", "default")
    record = create_execution(root, "gated", store=store, triggered_by="ann")
    runner.start(record.id)
    wait_until(lambda: bool(store.requests(record.id, waiting=True)), what="the approval request")

    with pytest.raises(ApprovalRefused, match="ann started this execution"):
        runner.decide(record.id, approve=True, by="ann", groups=["release"])
    with pytest.raises(ApprovalRefused, match="approver groups"):
        runner.decide(record.id, approve=True, by="eve", groups=["dev"])
    assert runner.decide(record.id, approve=True, by="bob", groups=["release"]).status == "Waiting"
    with pytest.raises(ApprovalRefused, match="bob has approved"):
        runner.decide(record.id, approve=True, by="bob", groups=["release"])
    assert [r.status for r in store.requests(record.id)] == ["Waiting"]

    assert runner.decide(record.id, approve=True, by="cat", groups=["release"]).status == "Approved"
    assert runner.wait(record.id, 60) == "Success"
    request = store.requests(record.id)[0]
    assert (request.status, request.decided_by) == ("Approved", "bob, cat")
    assert [(v.voter, v.decision) for v in store.votes(record.id, request.command_id)] == [
        ("bob", "Approve"),
        ("cat", "Approve"),
    ]
