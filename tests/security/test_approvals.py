"""Approvals as Harness enforces them, replayed through the real server over HTTP: the executor
alone could approve a Production gate meant to need two other people, and a deployer without the
Production right approved and aborted Production executions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.helpers import Live, live_server

from .approvals_helpers import Team, denials, release_team, start_release


@pytest.fixture
def team(tmp_path: Path) -> Iterator[Team]:
    with live_server(tmp_path / "server") as live:
        yield release_team(Live.client(live))


def _approve(api: object, execution_id: str, expect: int, **body: object) -> dict[str, object]:
    response = api.post(f"/executions/{execution_id}/approval", {"approve": True, **body}, expect)  # type: ignore[attr-defined]
    return response.json()  # type: ignore[no-any-return]


def test_the_executor_alone_cannot_approve_a_gate_that_disallows_the_pipeline_executor(team: Team) -> None:
    execution_id = start_release(team)

    refused = _approve(team.ann, execution_id, 403)
    assert "ann started this execution" in str(refused["detail"])
    assert "disallowPipelineExecutor" in str(refused["detail"])
    execution = team.admin.get(f"/executions/{execution_id}")
    assert (execution["ended_at"], execution["approvals"][0]["status"]) == (None, "Waiting")
    assert execution["approvals"][0]["votes"] == []
    assert [d["detail"]["status"] for d in denials(team.admin, "ann")] == [403]


def test_minimum_count_two_needs_two_distinct_members_of_the_group(team: Team) -> None:
    execution_id = start_release(team)

    first = _approve(team.bob, execution_id, 202, comment="looks good")
    assert (first["status"], first["approvals"], first["minimum_count"]) == ("Waiting", 1, 2)
    again = _approve(team.bob, execution_id, 403)
    assert "bob has approved" in str(again["detail"]) and "1 more" in str(again["detail"])
    outsider = _approve(team.eve, execution_id, 403)
    assert "not in any of the approver groups" in str(outsider["detail"])
    waiting = team.admin.get(f"/executions/{execution_id}")
    assert waiting["approvals"][0]["status"] == "Waiting"
    assert [s["status"] for s in waiting["steps"] if s["identifier"] == "ship"] == []

    second = _approve(team.cat, execution_id, 202, comment="ship it")
    assert (second["status"], second["approvals"]) == ("Approved", 2)
    done = team.admin.wait(execution_id)
    assert done["status"] == "Success"
    approval = done["approvals"][0]
    assert (approval["status"], approval["decided_by"]) == ("Approved", "bob, cat")
    assert [(v["voter"], v["decision"], v["comment"]) for v in approval["votes"]] == [
        ("bob", "Approve", "looks good"),
        ("cat", "Approve", "ship it"),
    ]
    gate = next(s for s in done["steps"] if s["identifier"] == "gate")
    assert [a["user"] for a in gate["outputs"]["approvalActivities"]] == ["bob", "cat"]


def test_one_rejection_rejects_even_after_an_approval(team: Team) -> None:
    execution_id = start_release(team)
    _approve(team.bob, execution_id, 202)
    rejected = team.cat.post(f"/executions/{execution_id}/approval", {"approve": False, "comment": "no"}, 202)
    assert rejected.json()["status"] == "Rejected"
    done = team.admin.wait(execution_id)
    assert done["status"] == "Failed"
    assert [s["status"] for s in done["steps"] if s["identifier"] == "gate"] == ["ApprovalRejected"]


def test_a_non_member_cannot_reject_either(team: Team) -> None:
    execution_id = start_release(team)
    refused = team.eve.post(f"/executions/{execution_id}/approval", {"approve": False}, 403)
    assert "approver groups" in refused.json()["detail"]
    assert team.admin.get(f"/executions/{execution_id}")["approvals"][0]["status"] == "Waiting"


def test_a_deployer_without_the_production_right_cannot_approve_or_abort_production(team: Team) -> None:
    execution_id = start_release(team)

    approve = _approve(team.dan, execution_id, 403)
    assert "may not deploy to Production environments (prod)" in str(approve["detail"])
    abort = team.dan.post(f"/executions/{execution_id}/abort", {}, 403)
    assert "Production" in abort.json()["detail"]
    reject = team.dan.post(f"/executions/{execution_id}/approval", {"approve": False}, 403)
    assert "Production" in reject.json()["detail"]

    execution = team.admin.get(f"/executions/{execution_id}")
    assert execution["ended_at"] is None and execution["approvals"][0]["votes"] == []
    audited = denials(team.admin, "dan")
    assert sorted(d["target"] for d in audited) == sorted(
        [
            f"POST /api/v1/executions/{execution_id}/approval",
            f"POST /api/v1/executions/{execution_id}/approval",
            f"POST /api/v1/executions/{execution_id}/abort",
        ]
    )
    assert {d["detail"]["status"] for d in audited} == {403}
    # with the right, the abort is accepted
    assert team.bob.post(f"/executions/{execution_id}/abort", {}, 202).json() == {"aborted": True}
    assert team.admin.wait(execution_id)["status"] == "Aborted"


def test_undeclared_approver_inputs_are_refused_and_declared_ones_reach_the_next_step(team: Team) -> None:
    execution_id = start_release(team)

    refused = _approve(team.bob, execution_id, 422, inputs={"ticket": "T-1", "skipTests": "true"})
    assert "approver input 'skipTests' is not declared" in str(refused["detail"])
    assert "ticket" in str(refused["detail"])
    assert team.admin.get(f"/executions/{execution_id}")["approvals"][0]["votes"] == []

    _approve(team.bob, execution_id, 202, inputs={"ticket": "T-42"})
    _approve(team.cat, execution_id, 202)
    done = team.admin.wait(execution_id)
    assert done["status"] == "Success"
    logs = team.admin.get(f"/executions/{execution_id}/logs")
    assert any(line["message"] == "shipping for ticket T-42" for line in logs)
    gate = next(s for s in done["steps"] if s["identifier"] == "gate")
    assert gate["outputs"]["approverInputs"] == {"ticket": "T-42"}


def test_corral_approve_on_a_local_store_keeps_the_count_and_the_declared_inputs(tmp_path: Path) -> None:
    """`corral approve` (one person, the OS user, on a local store): a second approval by the same
    person does not count, an undeclared input is refused, and the gate stays closed."""
    import threading

    from click.testing import CliRunner

    from corral.cli.main import cli
    from corral.config.project import load_project
    from corral.engine import EmbeddedExecutor, abort, create_execution, get_execution
    from corral.engine import approve as approve_as
    from corral.store import Store
    from tests.engine.helpers import fast, pipeline, shell, stage, step, write_project

    gate = step(
        "gate",
        "HarnessApproval",
        {
            "approvers": {"minimumCount": 2},
            "approverInputs": [{"name": "ticket", "defaultValue": "none"}],
        },
        timeout="1h",
    )
    root = write_project(
        tmp_path / "project", pipeline("p", [stage("s", [gate, shell("ship", "echo shipped")])])
    )
    store = Store.for_project(root)
    record = create_execution(root, "p", store=store, triggered_by="cli")
    runner = threading.Thread(
        target=EmbeddedExecutor(store, load_project(root), fast()).run, args=(record.id,), daemon=True
    )
    runner.start()
    try:
        from tests.engine.helpers import wait_until

        wait_until(lambda: store.requests(record.id, waiting=True))
        cli_runner = CliRunner()
        args = ["approve", record.id, "--project", str(root)]
        undeclared = cli_runner.invoke(cli, [*args, "--input", "force=yes"])
        assert undeclared.exit_code == 1 and "approver input 'force' is not declared" in undeclared.output
        first = cli_runner.invoke(cli, [*args, "--input", "ticket=T-7"])
        assert first.exit_code == 0 and "1 of 2 approvals" in first.output, first.output
        again = cli_runner.invoke(cli, args)
        assert again.exit_code == 1 and "has approved s/gate already" in again.output
        assert [r.status for r in store.requests(record.id)] == ["Waiting"]

        approve_as(record.id, by="second-person", store=store)
        runner.join(30)
        execution = get_execution(record.id, store=store)
        assert execution.status == "Success"
        assert execution.step("gate").outputs["approverInputs"] == {"ticket": "T-7"}
    finally:
        if runner.is_alive():  # a failed check above: end the run
            abort(record.id, store=store)
            runner.join(30)
        store.close()
