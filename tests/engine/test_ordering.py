"""Stages and steps run in order, parallel branches at once, `when` decides what runs."""

from __future__ import annotations

from pathlib import Path

from corral.engine import run_pipeline
from corral.store import Store

from .helpers import Probe, fast, finished_steps, group, parallel, pipeline, probe_step, stage, write_project


def test_stages_and_steps_run_in_order(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "build", [probe_step("a"), group("g", [probe_step("b"), probe_step("c")]), probe_step("d")]
            ),
            stage("deploy", [probe_step("e")]),
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Success"
    assert probe.keys() == ["build/a#1", "build/g/b#1", "build/g/c#1", "build/d#1", "deploy/e#1"]
    assert finished_steps(store, execution.id) == probe.keys()
    assert [s.identifier for s in execution.stages] == ["build", "deploy"]
    assert all(s.status == "Success" for s in execution.stages)
    assert execution.step("g").type == "StepGroup" and execution.step("g").status == "Success"


def test_parallel_steps_run_at_the_same_time(tmp_path: Path, store: Store, probe: Probe) -> None:
    # each branch waits at a barrier for the other: run one after the other, they would never meet
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    parallel(probe_step("left", barrier="b"), group("g", [probe_step("right", barrier="b")])),
                    probe_step("after"),
                ],
            )
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Success"
    assert set(probe.keys()[:2]) == {"s/left#1", "s/g/right#1"}
    assert probe.keys()[2] == "s/after#1"


def test_parallel_stages(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            parallel(
                stage("one", [probe_step("a", barrier="x")]), stage("two", [probe_step("b", barrier="x")])
            ),
            stage("three", [probe_step("c")]),
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Success"
    assert probe.keys()[-1] == "three/c#1"


def test_when_conditions(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    probe_step(
                        "yes",
                        when={"stageStatus": "Success", "condition": '<+pipeline.variables.go> == "yes"'},
                    ),
                    probe_step("no", when={"condition": '<+pipeline.variables.go> == "no"'}),
                    probe_step("only_on_failure", when={"stageStatus": "Failure"}),
                    probe_step(
                        "ignored",
                        fail=True,
                        failureStrategies=[
                            {"onFailure": {"errors": ["AllErrors"], "action": {"type": "Ignore"}}}
                        ],
                    ),
                    probe_step("after_failure_default"),
                    probe_step("after_failure_on_failure", when={"stageStatus": "Failure"}),
                    probe_step("always", when={"stageStatus": "All"}),
                ],
            ),
            stage("next", [probe_step("x")]),
            stage("runs_on_failure", [probe_step("y")], when={"pipelineStatus": "Failure"}),
        ],
        variables=[{"name": "go", "type": "String", "value": "yes"}],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    statuses = {s.identifier: s.status for s in execution.steps}
    assert statuses == {
        "yes": "Success",
        "no": "Skipped",
        "only_on_failure": "Skipped",
        "ignored": "IgnoreFailed",
        "after_failure_default": "Success",
        "after_failure_on_failure": "Skipped",
        "always": "Success",
        "x": "Success",
    }
    # an ignored failure leaves the stage, and so the pipeline, successful
    assert {s.identifier: s.status for s in execution.stages} == {
        "s": "Success",
        "next": "Success",
        "runs_on_failure": "Skipped",
    }
    assert execution.status == "Success"


def test_stage_when_pipeline_status(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage("first", [probe_step("boom", fail=True)]),
            stage("second", [probe_step("x")]),
            stage("notify", [probe_step("y")], when={"pipelineStatus": "Failure"}),
            stage("cleanup", [probe_step("z")], when={"pipelineStatus": "All"}),
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Failed"
    assert {s.identifier: s.status for s in execution.stages} == {
        "first": "Failed",
        "second": "Skipped",
        "notify": "Success",
        "cleanup": "Success",
    }
    assert "boom failed on purpose" in (execution.error or "")


def test_failure_handlers_run_before_the_rollback(tmp_path: Path, store: Store, probe: Probe) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    probe_step("a", fail=True),
                    probe_step("b"),
                    probe_step("on_failure", when={"stageStatus": "Failure"}),
                    probe_step("always", when={"stageStatus": "All"}),
                ],
                [probe_step("undo")],
            )
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Failed"
    assert finished_steps(store, execution.id) == [
        "s/a#1",
        "s/on_failure#1",
        "s/always#1",
        "s/rollback/undo#1",
    ]
