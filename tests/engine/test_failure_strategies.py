"""Each failure action, retries with their counts and intervals, nearest strategy wins."""

from __future__ import annotations

import threading
from pathlib import Path

from corral.engine import create_execution, get_execution, intervene, run_pipeline
from corral.engine.embedded import EmbeddedExecutor
from corral.store import Store

from .helpers import (
    Probe,
    fast,
    finished_steps,
    group,
    pipeline,
    probe_step,
    stage,
    strategy,
    wait_until,
    write_project,
)


def run(tmp_path: Path, store: Store, stages: list, **extra):  # type: ignore[no-untyped-def]
    return run_pipeline(
        write_project(tmp_path, pipeline("p", stages, **extra)), "p", store=store, options=fast()
    )


def test_default_is_stage_rollback(tmp_path: Path, store: Store, probe: Probe) -> None:
    execution = run(
        tmp_path,
        store,
        [stage("s", [probe_step("a"), probe_step("b", fail=True), probe_step("c")], [probe_step("undo")])],
    )
    assert execution.status == "Failed"
    assert finished_steps(store, execution.id) == ["s/a#1", "s/b#1", "s/rollback/undo#1"]
    stage_record = execution.stage("s")
    assert stage_record.status == "Failed" and stage_record.rolled_back
    assert "b failed on purpose" in (stage_record.error or "")


def test_pipeline_rollback_rolls_back_earlier_stages_in_reverse(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    execution = run(
        tmp_path,
        store,
        [
            stage("one", [probe_step("a")], [probe_step("undo_one")]),
            stage("two", [probe_step("b")], [probe_step("undo_two")]),
            stage(
                "three",
                [probe_step("c", fail=True)],
                [probe_step("undo_three")],
                failureStrategies=strategy("PipelineRollback"),
            ),
            stage("four", [probe_step("d")], when={"pipelineStatus": "All"}),
        ],
    )
    assert execution.status == "Failed"
    assert finished_steps(store, execution.id) == [
        "one/a#1",
        "two/b#1",
        "three/c#1",
        "three/rollback/undo_three#1",
        "two/rollback/undo_two#1",
        "one/rollback/undo_one#1",
    ]
    assert [s.identifier for s in execution.stages if s.status == "Failed"] == ["one", "two", "three"]


def test_abort_action_stops_without_rollback(tmp_path: Path, store: Store, probe: Probe) -> None:
    execution = run(
        tmp_path,
        store,
        [
            stage(
                "s", [probe_step("a", fail=True, failureStrategies=strategy("Abort"))], [probe_step("undo")]
            ),
            stage("next", [probe_step("b")], when={"pipelineStatus": "All"}),
        ],
    )
    assert execution.status == "Aborted"
    assert finished_steps(store, execution.id) == ["s/a#1"]
    assert execution.stage("s").status == "Aborted"


def test_ignore_and_mark_as_success(tmp_path: Path, store: Store, probe: Probe) -> None:
    execution = run(
        tmp_path,
        store,
        [
            stage(
                "s",
                [
                    probe_step("marked", fail=True, failureStrategies=strategy("MarkAsSuccess")),
                    probe_step("ignored", fail=True, failureStrategies=strategy("Ignore")),
                    probe_step("after"),
                ],
            )
        ],
    )
    assert execution.status == "Success"
    assert execution.step("ignored").status == "IgnoreFailed"
    assert execution.step("ignored").error == "ignored failed on purpose"
    assert execution.step("marked").status == "Success"
    assert execution.step("after").status == "Success"  # an ignored failure does not stop the stage


def test_retry_count_and_intervals(tmp_path: Path, store: Store, probe: Probe) -> None:
    execution = run(
        tmp_path,
        store,
        [
            stage(
                "s",
                [
                    probe_step(
                        "flaky",
                        failTimes=2,
                        failureStrategies=strategy("Retry", retryCount=3, retryIntervals=["10ms", "20ms"]),
                    ),
                    probe_step(
                        "broken",
                        fail=True,
                        failureStrategies=strategy(
                            "Retry",
                            retryCount=2,
                            retryIntervals=["10ms"],
                            onRetryFailure={"action": {"type": "Ignore"}},
                        ),
                    ),
                ],
            )
        ],
    )
    assert execution.status == "Success"
    assert probe.keys() == ["s/flaky#1", "s/flaky#2", "s/flaky#3", "s/broken#1", "s/broken#2", "s/broken#3"]
    flaky = execution.step("flaky")
    assert (flaky.status, flaky.attempt) == ("Success", 3)
    assert (execution.step("broken").status, execution.step("broken").attempt) == ("IgnoreFailed", 3)
    sleeps = [e.payload for e in store.journal(execution.id, kinds=["TimerFired"])]
    assert [e.command_id for e in store.journal(execution.id, kinds=["TimerFired"])] == [
        "s/flaky/retry#1",
        "s/flaky/retry#2",
        "s/broken/retry#1",
        "s/broken/retry#2",
    ]
    assert not any(p["cancelled"] for p in sleeps)


def test_retry_failure_defaults_to_stage_rollback(tmp_path: Path, store: Store, probe: Probe) -> None:
    execution = run(
        tmp_path,
        store,
        [
            stage(
                "s",
                [
                    probe_step(
                        "a",
                        fail=True,
                        failureStrategies=strategy("Retry", retryCount=1, retryIntervals=["1ms"]),
                    )
                ],
                [probe_step("undo")],
            )
        ],
    )
    assert execution.status == "Failed"
    assert finished_steps(store, execution.id) == ["s/a#1", "s/a#2", "s/rollback/undo#1"]


def test_nearest_strategy_wins_and_errors_are_matched(tmp_path: Path, store: Store, probe: Probe) -> None:
    execution = run(
        tmp_path,
        store,
        [
            stage(
                "s",
                [
                    # the step's own strategy names another error type: the group's applies
                    group(
                        "g",
                        [
                            probe_step(
                                "a",
                                fail=True,
                                failureType="Verification",
                                failureStrategies=strategy("Abort", ["Timeout"]),
                            )
                        ],
                        failureStrategies=strategy("Ignore", ["Verification"]),
                    ),
                    # nothing near matches: the stage's applies
                    probe_step("b", fail=True, failureStrategies=strategy("Abort", ["Timeout"])),
                    probe_step("c"),
                ],
                failureStrategies=strategy("MarkAsSuccess"),
            )
        ],
    )
    assert execution.status == "Success"
    assert execution.step("a").status == "IgnoreFailed"
    assert execution.step("b").status == "Success"
    assert execution.step("c").status == "Success"


def test_manual_intervention(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    probe_step(
                        "a", failTimes=1, failureStrategies=strategy("ManualIntervention", timeout="1h")
                    ),
                    probe_step(
                        "b",
                        fail=True,
                        failureStrategies=strategy(
                            "ManualIntervention", timeout="50ms", onTimeout={"action": {"type": "Ignore"}}
                        ),
                    ),
                ],
            )
        ],
    )
    project = write_project(tmp_path, doc)
    record = create_execution(project, "p", store=store)
    thread = threading.Thread(target=EmbeddedExecutor(store, _load(project), fast()).run, args=(record.id,))
    thread.start()
    wait_until(lambda: store.requests(record.id, waiting=True))
    assert get_execution(record.id, store=store).step("a").status == "InterventionWaiting"
    intervene(record.id, "Retry", store=store, by="alice")
    thread.join(10)
    execution = get_execution(record.id, store=store)
    assert execution.status == "Success"
    assert (execution.step("a").status, execution.step("a").attempt) == ("Success", 2)
    assert execution.step("b").status == "IgnoreFailed"  # nobody answered: onTimeout
    decided = {r.step_key: (r.status, r.decision, r.decided_by) for r in store.requests(record.id)}
    assert decided == {"s/a": ("Decided", "Retry", "alice"), "s/b": ("Expired", None, None)}


def _load(root: Path):  # type: ignore[no-untyped-def]
    from corral.config import load_project

    return load_project(root)
