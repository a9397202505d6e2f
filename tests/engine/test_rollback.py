"""Rollback in reverse order of what ran; a person's abort and a timeout both roll back."""

from __future__ import annotations

import threading
from pathlib import Path

from corral.config import load_project
from corral.engine import abort, create_execution, get_execution, run_pipeline
from corral.engine.embedded import EmbeddedExecutor
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
    write_project,
)


def phases(fail_in: str | None) -> str:
    def phase(name: str) -> dict:  # type: ignore[type-arg]
        return group(
            name,
            [probe_step(f"{name}_deploy", fail=(fail_in == name))],
            [probe_step(f"{name}_rollback")],
        )

    return pipeline(
        "p",
        [stage("deploy", [phase("p1"), phase("p2"), phase("p3")], [probe_step("stage_rollback")])],
    )


def test_two_phases_roll_back_as_r2_r1(tmp_path: Path, store: Store, probe: Probe) -> None:
    execution = run_pipeline(write_project(tmp_path, phases("p2")), "p", store=store, options=fast())
    assert execution.status == "Failed"
    # P1 -> P2 (fails) -> R2 -> R1 -> the stage's own rollback; P3 never started, so no R3
    assert finished_steps(store, execution.id) == [
        "deploy/p1/p1_deploy#1",
        "deploy/p2/p2_deploy#1",
        "deploy/p2/rollback/p2_rollback#1",
        "deploy/p1/rollback/p1_rollback#1",
        "deploy/rollback/stage_rollback#1",
    ]
    rollback = [s for s in execution.steps if s.phase == "rollback" and s.type == "Probe"]
    assert all(s.status == "Success" for s in rollback)


def test_nothing_to_roll_back_when_all_succeed(tmp_path: Path, store: Store, probe: Probe) -> None:
    execution = run_pipeline(write_project(tmp_path, phases(None)), "p", store=store, options=fast())
    assert execution.status == "Success"
    assert not any("rollback" in key for key in finished_steps(store, execution.id))


def test_parallel_groups_roll_back_together(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    parallel(
                        group("a", [probe_step("a1")], [probe_step("ra", barrier="rb")]),
                        group("b", [probe_step("b1")], [probe_step("rb", barrier="rb")]),
                    ),
                    probe_step("boom", fail=True),
                ],
            )
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Failed"
    assert set(finished_steps(store, execution.id)[-2:]) == {"s/a/rollback/ra#1", "s/b/rollback/rb#1"}


def test_a_failing_rollback_step_does_not_stop_the_others(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [stage("s", [probe_step("a", fail=True)], [probe_step("r1", fail=True), probe_step("r2")])],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert finished_steps(store, execution.id) == ["s/a#1", "s/rollback/r1#1", "s/rollback/r2#1"]
    assert execution.step("r1").status == "Failed"
    assert execution.step("r2").status == "Success"


def test_abort_mid_step_rolls_back(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [probe_step("a"), probe_step("slow", block=30), probe_step("never")],
                [probe_step("undo")],
            ),
            stage("later", [probe_step("x")], when={"pipelineStatus": "All"}),
        ],
    )
    project = write_project(tmp_path, doc)
    record = create_execution(project, "p", store=store)
    thread = threading.Thread(
        target=EmbeddedExecutor(store, load_project(project), fast()).run, args=(record.id,)
    )
    thread.start()
    assert probe.started_event("slow").wait(10)
    assert abort(record.id, store=store, by="bob")
    thread.join(10)
    execution = get_execution(record.id, store=store)
    assert execution.status == "Aborted"
    assert finished_steps(store, execution.id) == ["s/a#1", "s/slow#1", "s/rollback/undo#1"]
    assert execution.step("slow").status == "Aborted"
    assert execution.step("undo").status == "Success"
    assert (execution.stage("s").status, execution.stage("s").rolled_back) == ("Aborted", True)
    assert [s.identifier for s in execution.stages] == ["s"]  # nothing after an abort
    assert not abort(record.id, store=store)  # already ended


def test_abort_of_a_shell_script_kills_it(tmp_path: Path, store: Store, probe: Probe) -> None:
    marker = tmp_path / "started"
    doc = pipeline(
        "p", [stage("s", [shell("sleepy", f"touch {marker}; sleep 30; echo never")], [probe_step("undo")])]
    )
    project = write_project(tmp_path, doc)
    record = create_execution(project, "p", store=store)
    thread = threading.Thread(
        target=EmbeddedExecutor(store, load_project(project), fast()).run, args=(record.id,)
    )
    thread.start()
    from .helpers import wait_until

    wait_until(marker.exists)
    abort(record.id, store=store)
    thread.join(10)
    execution = get_execution(record.id, store=store)
    assert execution.status == "Aborted"
    assert execution.step("sleepy").status == "Aborted"
    assert execution.step("undo").status == "Success"


def test_step_timeout_expires_the_step_and_rolls_back(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [probe_step("slow", block=30, timeout="200ms"), shell("sh", "sleep 30", timeout="200ms")],
                [probe_step("undo")],
            )
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Failed"
    slow = execution.step("slow")
    assert (slow.status, slow.failure_type, slow.error) == ("Expired", "Timeout", "The step timed out.")
    assert execution.step("undo").status == "Success"


def test_timeout_failure_type_picks_its_strategy(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    shell(
                        "sh",
                        "sleep 30",
                        timeout="200ms",
                        failureStrategies=[
                            {"onFailure": {"errors": ["Timeout"], "action": {"type": "Ignore"}}},
                            {"onFailure": {"errors": ["AllErrors"], "action": {"type": "Abort"}}},
                        ],
                    ),
                    probe_step("next"),
                ],
            )
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Success"
    assert execution.step("sh").status == "IgnoreFailed"
    assert execution.step("next").status == "Success"
