"""Approve, reject, abort and follow logs from another process while `corral run` runs."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from .helpers import corral, corral_process, last_execution, shell_project, spawn


def _waiting(cwd: Path, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        execution = last_execution(cwd)
        if execution is not None and (
            execution["status"] == status or _step_status(cwd, execution["id"], status)
        ):
            return execution
        time.sleep(0.05)
    raise AssertionError(f"no execution reached {status}")


def _step_status(cwd: Path, execution_id: str, status: str) -> bool:
    from corral.store import Store

    store = Store.for_project(cwd)
    try:
        return any(s.status == status for s in store.steps(execution_id))
    finally:
        store.close()


def test_approve_from_another_process(tmp_path: Path) -> None:
    shell_project(tmp_path)
    run = spawn("run", "gated", cwd=tmp_path)
    execution = _waiting(tmp_path, "ApprovalWaiting")
    approved = corral_process("approve", execution["id"], "--comment", "looks good", cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr
    out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert "Approved by" in out and "looks good" in out
    assert "  [release/ship] shipped" in out.splitlines()


def test_reject_exits_1_and_abort_exits_3(tmp_path: Path) -> None:
    shell_project(tmp_path)
    run = spawn("run", "gated", "--json", cwd=tmp_path)
    execution = _waiting(tmp_path, "ApprovalWaiting")
    assert corral("approve", execution["id"], "--reject", "--comment", "no", cwd=tmp_path).exit_code == 0
    out, _ = run.communicate(timeout=60)
    assert run.returncode == 1
    rejected = json.loads(out)
    assert rejected["status"] == "Failed"
    assert [s["status"] for s in rejected["steps"] if s["identifier"] == "gate"] == ["ApprovalRejected"]

    run = spawn("run", "slow", cwd=tmp_path)
    execution = _waiting(tmp_path, "Running")
    aborted = corral_process("abort", execution["id"], cwd=tmp_path)
    assert aborted.returncode == 0 and "abort requested" in aborted.stdout
    out, _ = run.communicate(timeout=60)
    assert run.returncode == 3
    assert "pipeline Aborted" in out
    again = corral("abort", execution["id"], cwd=tmp_path)
    assert again.exit_code == 1 and "already ended: Aborted" in again.output


def test_approve_when_nothing_waits_is_an_error(tmp_path: Path) -> None:
    shell_project(tmp_path)
    corral("run", "ok", cwd=tmp_path)
    execution = last_execution(tmp_path)
    assert execution is not None
    result = corral("approve", execution["id"], cwd=tmp_path)
    assert result.exit_code == 2 and "waiting for approval" in result.output


def test_logs_follow_prints_lines_as_they_come_until_the_end(tmp_path: Path) -> None:
    shell_project(tmp_path)
    run = spawn("run", "gated", cwd=tmp_path)
    execution = _waiting(tmp_path, "ApprovalWaiting")
    follow = spawn("logs", execution["id"], "--follow", "--json", cwd=tmp_path)
    time.sleep(0.5)  # let the follower print what is there, then make more
    corral("approve", execution["id"], cwd=tmp_path)
    out, err = follow.communicate(timeout=60)
    run.communicate(timeout=60)
    assert follow.returncode == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    messages = [line.get("message") for line in lines]
    assert "Waiting for approval: Ship it?" in messages
    assert "shipped" in messages  # written after the follower started
    assert lines[-1] == {"execution": execution["id"], "status": "Success", "error": None}
