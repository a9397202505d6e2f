"""Pipelines run on Temporal: the workflow in this process, steps on `corral delegate`
processes chosen by delegate selectors; state lands in the Corral store as for embedded runs."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from corral.delegate.temporal_runner import TemporalRunner
from corral.engine import abort, approve, create_execution, get_execution
from corral.store import Store
from tests.engine.helpers import pipeline, shell, stage, step, write_project

from .conftest import StartDelegate, wait_until


def _logs(store: Store, execution_id: str, step_key: str) -> str:
    return "\n".join(line.message for line in store.logs(execution_id, step_key=step_key))


def _status(store: Store, execution_id: str, step_key: str) -> str | None:
    return next((s.status for s in store.steps(execution_id) if s.key == step_key), None)


def test_a_pipeline_runs_on_two_prod_delegates(
    tmp_path: Path, store: Store, runner: TemporalRunner, delegates: StartDelegate
) -> None:
    root = write_project(
        tmp_path / "project",
        pipeline(
            "build",
            [
                stage(
                    "one",
                    [
                        shell("hello", "echo hello from $HOSTNAME"),
                        step("pause", "Wait", {"duration": "1s"}),
                        shell(
                            "version",
                            "VERSION=1.2.3",
                            spec={
                                "outputVariables": [{"name": "version", "type": "String", "value": "VERSION"}]
                            },
                        ),
                    ],
                ),
                stage(
                    "two",
                    [
                        shell(
                            "uses_output",
                            "echo got <+pipeline.stages.one.spec.execution.steps.version.output.outputVariables.version>",
                        )
                    ],
                ),
            ],
            delegateSelectors=["prod"],
        ),
    )
    # one of them cannot reach its Corral server: it says so and still runs steps
    delegates("a", "prod", "--server", "http://127.0.0.1:9", "--token", "t")
    delegates("b", "prod")
    record = create_execution(root, "build", store=store)
    runner.start(record.id)

    assert runner.wait(record.id, 120) == "Success"
    execution = get_execution(record.id, store=store)
    assert execution.status == "Success"
    assert execution.ended_at is not None
    assert [(s.identifier, s.status) for s in execution.steps] == [
        ("hello", "Success"),
        ("pause", "Success"),
        ("version", "Success"),
        ("uses_output", "Success"),
    ]
    assert [(s.identifier, s.status) for s in execution.stages] == [("one", "Success"), ("two", "Success")]
    assert "got 1.2.3" in _logs(store, record.id, "two/uses_output")
    assert "Running on delegate " in _logs(store, record.id, "one/hello")
    # the journal holds the events as for an embedded run
    assert {e.kind for e in store.journal(record.id)} >= {"StepFinished"}
    assert "cannot reach the Corral server" in (tmp_path / "delegate-a.err").read_text()


def test_a_step_selecting_gpu_waits_for_a_gpu_delegate(
    tmp_path: Path, store: Store, runner: TemporalRunner, delegates: StartDelegate
) -> None:
    root = write_project(
        tmp_path / "project",
        pipeline(
            "train",
            [
                stage(
                    "s",
                    [
                        shell("prepare", "echo preparing", spec={"delegateSelectors": ["prod"]}),
                        shell("train", "echo training", spec={"delegateSelectors": ["gpu"]}),
                    ],
                )
            ],
        ),
    )
    delegates("cpu-box", "prod")
    record = create_execution(root, "train", store=store)
    runner.start(record.id)
    wait_until(lambda: _status(store, record.id, "s/train") == "Running", what="the gpu step to be queued")
    assert _status(store, record.id, "s/prepare") == "Success"
    # nobody offers `gpu`: the step is queued, not run by the prod delegate
    assert get_execution(record.id, store=store).status == "Running"
    assert "training" not in _logs(store, record.id, "s/train")

    delegates("gpu-box", "gpu")
    assert runner.wait(record.id, 120) == "Success"
    assert "Running on delegate gpu-box" in _logs(store, record.id, "s/train")
    assert "Running on delegate cpu-box" in _logs(store, record.id, "s/prepare")


def test_an_abort_signal_stops_a_waiting_step(
    tmp_path: Path, store: Store, runner: TemporalRunner, delegates: StartDelegate
) -> None:
    root = write_project(
        tmp_path / "project",
        pipeline(
            "slow", [stage("s", [step("pause", "Wait", {"duration": "10m"}), shell("never", "echo no")])]
        ),
    )
    delegates("d", "default")
    record = create_execution(root, "slow", store=store)
    runner.start(record.id)
    wait_until(lambda: _status(store, record.id, "s/pause") == "Running", what="the wait to start")
    # as `corral abort` does: through the store, which the workflow watches
    assert abort(record.id, store=store, by="alice")
    assert runner.wait(record.id, 60) == "Aborted"
    assert _status(store, record.id, "s/pause") == "Aborted"
    assert _status(store, record.id, "s/never") is None


def test_an_approval_is_decided_by_a_signal(
    tmp_path: Path,
    store: Store,
    runner: TemporalRunner,
    delegates: StartDelegate,
    caplog: pytest.LogCaptureFixture,
) -> None:
    approval = step(
        "gate", "HarnessApproval", {"approvalMessage": "Ship it?", "approvers": {"userGroups": ["ops"]}}
    )
    root = write_project(
        tmp_path / "project", pipeline("gated", [stage("s", [approval, shell("ship", "echo shipped")])])
    )
    delegates("d", "default")
    record = create_execution(root, "gated", store=store)
    runner.start(record.id)
    wait_until(lambda: bool(store.requests(record.id, waiting=True)), what="the approval request")
    runner.approve(record.id, True, by="bob", comment="go")
    assert runner.wait(record.id, 60) == "Success"
    request = store.requests(record.id)[0]
    assert (request.status, request.decided_by, request.comment) == ("Approved", "bob", "go")
    assert "shipped" in _logs(store, record.id, "s/ship")
    # the workflow ends without an error left behind (the SDK would log it with a traceback)
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_an_approval_made_through_the_store_reaches_the_workflow(
    tmp_path: Path, store: Store, runner: TemporalRunner, delegates: StartDelegate
) -> None:
    approval = step("gate", "HarnessApproval", {"approvalMessage": "Ship it?"})
    root = write_project(
        tmp_path / "project", pipeline("gated", [stage("s", [approval, shell("ship", "echo shipped")])])
    )
    delegates("d", "default")
    record = create_execution(root, "gated", store=store)
    runner.start(record.id)
    wait_until(lambda: bool(store.requests(record.id, waiting=True)), what="the approval request")
    approve(record.id, False, by="carol", comment="not today", store=store)  # as `corral approve --reject`
    assert runner.wait(record.id, 60) == "Failed"
    assert _status(store, record.id, "s/gate") == "ApprovalRejected"
    assert _status(store, record.id, "s/ship") is None


def test_bad_tags_are_refused() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "corral.cli", "delegate", "--tags", "good,not good"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "--tags" in done.stderr and "'not good'" in done.stderr


def test_ten_pipelines_finish_when_a_delegate_is_killed_in_a_wait(
    tmp_path: Path, store: Store, runner: TemporalRunner, delegates: StartDelegate
) -> None:
    """The acceptance test: two delegates tagged prod, ten pipelines, one delegate killed
    with SIGKILL while it runs the pipelines' waits; the other finishes them from their
    checkpoints, and every pipeline ends in Success with every step run."""
    root = write_project(
        tmp_path / "project",
        pipeline(
            "release",
            [
                stage(
                    "deploy",
                    [
                        shell("before", "echo before <+pipeline.sequenceId>"),
                        step("soak", "Wait", {"duration": "15s"}),  # outlasts the survivor's start
                        shell("after", "echo after <+pipeline.sequenceId>"),
                    ],
                )
            ],
            delegateSelectors=["prod"],
        ),
    )
    doomed = delegates("doomed", "prod")
    records = [create_execution(root, "release", store=store) for _ in range(10)]
    for record in records:
        runner.start(record.id)
    # every wait has started on the only delegate, and has had time to heartbeat its checkpoint
    wait_until(
        lambda: all(_status(store, r.id, "deploy/soak") == "Running" for r in records), what="the ten waits"
    )
    delegates("survivor", "prod")
    wait_until(
        lambda: (tmp_path / "delegate-survivor.err").read_text().startswith("delegate survivor polling")
    )
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()

    for record in records:
        assert runner.wait(record.id, 120) == "Success"
    for record in records:
        execution = get_execution(record.id, store=store)
        assert execution.status == "Success"
        assert [(s.identifier, s.status) for s in execution.steps] == [
            ("before", "Success"),
            ("soak", "Success"),
            ("after", "Success"),
        ]
        soak = _logs(store, record.id, "deploy/soak")
        assert "Running on delegate survivor (attempt 2)" in soak
        assert f"after {record.sequence_id}" in _logs(store, record.id, "deploy/after")


def test_a_delegate_stopped_with_sigterm_hands_its_step_on(
    tmp_path: Path, store: Store, runner: TemporalRunner, delegates: StartDelegate
) -> None:
    root = write_project(
        tmp_path / "project", pipeline("soak", [stage("s", [step("soak", "Wait", {"duration": "10s"})])])
    )
    leaving = delegates("leaving", "default")
    # its SIGTERM handler is set before it polls (a slow start once took the signal before it)
    wait_until(
        lambda: "polling" in (tmp_path / "delegate-leaving.err").read_text(), what="the first delegate"
    )
    record = create_execution(root, "soak", store=store)
    runner.start(record.id)
    wait_until(lambda: _status(store, record.id, "s/soak") == "Running", what="the wait to start")
    delegates("staying", "default")
    wait_until(
        lambda: "polling" in (tmp_path / "delegate-staying.err").read_text(), what="the second delegate"
    )
    os.kill(leaving.pid, signal.SIGTERM)
    assert leaving.wait(30) == 0

    assert runner.wait(record.id, 60) == "Success"
    soak = _logs(store, record.id, "s/soak")
    assert "Attempt 1 ended: delegate lost (delegate leaving was shut down while running the step)" in soak
    assert "Running on delegate staying (attempt 2), from the last checkpoint" in soak
