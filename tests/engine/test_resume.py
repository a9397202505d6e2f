"""Resume after a crash: the journal is replayed, finished steps are not run again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from corral.config import load_project
from corral.engine import Interpreter, RunInfo, build_plan, create_execution, resume, run_pipeline
from corral.engine.embedded import EmbeddedExecutor, ExecutionBusy
from corral.engine.messages import StepUpdate, event_from_json
from corral.store import Store

from .helpers import (
    Probe,
    fast,
    finished_steps,
    group,
    parallel,
    pipeline,
    probe_step,
    shell,
    stage,
    step,
    strategy,
    wait_until,
    write_project,
)


def test_resume_after_sigkill_runs_only_the_unfinished_step(tmp_path: Path, store: Store) -> None:
    log, started, go, pid = (tmp_path / name for name in ("log", "started", "go", "pid"))
    doc = pipeline(
        "p",
        [
            stage(
                "one",
                [
                    shell("s1", f"echo s1 >> {log}"),
                    shell(
                        "s2",
                        f"echo s2-start >> {log}; echo $$ > {pid}; touch {started}; [ -f {go} ] || sleep 30; echo s2-end >> {log}",
                    ),
                    shell("s3", f"echo s3 >> {log}"),
                ],
            )
        ],
    )
    project = write_project(tmp_path / "project", doc)
    runner = Path(__file__).parent / "crash_runner.py"
    process = subprocess.Popen(
        [sys.executable, str(runner), str(project), "p", store.url], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        execution_id = process.stdout.readline().strip()
        wait_until(started.exists, timeout=30)
    finally:
        process.kill()  # SIGKILL: no cleanup of any kind
        process.wait()
    os.killpg(int(pid.read_text()), signal.SIGKILL)  # the script the dead process left running
    assert finished_steps(store, execution_id) == ["one/s1#1"]
    assert store.execution(execution_id).status == "Running"  # type: ignore[union-attr]

    go.touch()
    execution = resume(execution_id, store=store, options=fast())
    assert execution.status == "Success"
    assert log.read_text().split() == ["s1", "s2-start", "s2-start", "s2-end", "s3"]
    assert finished_steps(store, execution_id) == ["one/s1#1", "one/s2#1", "one/s3#1"]
    assert [s.status for s in execution.steps] == ["Success"] * 3


def test_a_rerun_step_gets_its_last_checkpoint(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [stage("s", [probe_step("a"), step("w", "Wait", {"duration": "1h"}), probe_step("b")])],
    )
    project = write_project(tmp_path, doc)
    record = create_execution(project, "p", store=store)
    # what a process that died in the middle of step a, after a Wait began elsewhere, leaves behind
    store.append_event(record.id, "checkpoint", {"data": {"created": "arn:x"}}, step_key="s/a")
    store.append_event(record.id, "checkpoint", {"data": {"until": time.time() - 1}}, step_key="s/w")
    execution = resume(record.id, store=store, options=fast())
    assert execution.status == "Success"
    assert probe.calls[0].previous_checkpoint == {"created": "arn:x"}
    assert probe.calls[1].previous_checkpoint is None
    assert probe.calls[1].prior(type="Probe").checkpoint == {"created": "arn:x"}  # type: ignore[union-attr]


def test_rollback_steps_see_what_earlier_steps_checkpointed(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    probe_step("deploy", checkpoint={"previousTaskDefinition": "td:1"}),
                    probe_step("x", fail=True),
                ],
                [probe_step("undo")],
            )
        ],
    )
    run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    undo = probe.calls[-1]
    found = undo.prior(identifier="deploy")
    assert found is not None and found.checkpoint == {"previousTaskDefinition": "td:1"}


def test_an_execution_owned_by_a_live_process_is_not_resumed(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    project = write_project(tmp_path, pipeline("p", [stage("s", [probe_step("a")])]))
    record = create_execution(project, "p", store=store)
    assert store.claim(record.id, "elsewhere:1:abc", lease=60) is None
    with pytest.raises(ExecutionBusy, match="elsewhere:1:abc"):
        EmbeddedExecutor(store, load_project(project), fast()).run(record.id)
    assert resume(record.id, store=store, options=fast(force=True)).status == "Success"


def test_journal_replay_is_deterministic(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    parallel(
                        group(
                            "g1",
                            [
                                probe_step(
                                    "a",
                                    failTimes=1,
                                    failureStrategies=strategy("Retry", retryCount=1, retryIntervals=["1ms"]),
                                )
                            ],
                            [probe_step("ra")],
                        ),
                        group("g2", [probe_step("b")], [probe_step("rb")]),
                    ),
                    probe_step("c", fail=True),
                ],
                [probe_step("r")],
            )
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    record = store.execution(execution.id)
    assert record is not None
    events = [
        event_from_json(e.kind, e.payload)
        for e in store.journal(execution.id, kinds=None)
        if e.kind != "checkpoint"
    ]

    def replay() -> tuple[list, list, str]:  # type: ignore[type-arg]
        plan = build_plan(record.snapshot["pipeline"])
        interpreter = Interpreter(plan, RunInfo(record.id, record.sequence_id, record.snapshot["startTs"]))
        issued = [c.id for c in interpreter.start()]
        for event in events:
            issued += [c.id for c in interpreter.feed(event)]
        assert interpreter.finished and interpreter.pending() == []
        return issued, interpreter.take_updates(), interpreter.status

    first, second = replay(), replay()
    assert first == second
    issued, updates, status = first
    assert status == execution.status == "Failed"
    answered = [getattr(e, "command_id", None) for e in events]
    assert sorted(issued) == sorted(answered)  # every command issued was answered in the journal
    final = {u.key: u.status for u in updates if isinstance(u, StepUpdate)}
    assert final == {s.key: s.status for s in execution.steps}


def test_an_abort_journaled_before_the_crash_still_holds(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline("p", [stage("s", [probe_step("slow", block=30)], [probe_step("undo")])])
    record = create_execution(write_project(tmp_path, doc), "p", store=store)
    # the dead process had started the step and journaled the abort, but not the step's end
    store.append_event(record.id, "AbortRequested", {"by": "erin", "reason": "requested"})
    execution = resume(record.id, store=store, options=fast())
    assert execution.status == "Aborted"
    assert finished_steps(store, record.id) == ["s/slow#1", "s/rollback/undo#1"]
    assert execution.step("slow").status == "Aborted"


def test_a_rerun_step_that_fails_before_it_runs_keeps_its_rollback_data(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    """The dead process checkpointed the step's rollback data (and may have made its change);
    on resume the step cannot even start (its secret is gone): the rollback still gets it."""
    secret = (
        "secret:\n  name: Token\n  identifier: token\n  type: SecretText\n"
        "  spec:\n    secretManagerIdentifier: file\n    valueType: Reference\n    value: token.txt\n"
    )
    deploy = probe_step("deploy", token='<+secrets.getValue("token")>')
    doc = pipeline("p", [stage("s", [deploy], [probe_step("undo")])])
    project = write_project(tmp_path, doc, extra={"secret.yaml": secret, "token.txt": "s3cr3t-value\n"})
    record = create_execution(project, "p", store=store)
    store.append_event(
        record.id, "checkpoint", {"data": {"previousTaskDefinition": "td:1"}}, step_key="s/deploy"
    )
    (tmp_path / "token.txt").unlink()
    execution = resume(record.id, store=store, options=fast())
    assert execution.step("deploy").status == "Failed"
    assert [run.identifier for run in probe.calls] == ["undo"]  # deploy never ran again
    found = probe.calls[0].prior(identifier="deploy")
    assert found is not None and found.checkpoint == {"previousTaskDefinition": "td:1"}
