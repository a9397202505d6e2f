"""Looping strategies (matrix, repeat, parallelism) on steps, step groups and stages.

Shapes follow Harness's "Use looping strategies" page (developer.harness.io, Platform >
Pipelines > Looping strategies): `strategy: {matrix: {AXIS: [..], exclude, maxConcurrency,
nodeName}}`, `strategy: {repeat: {times | items, maxConcurrency}}`, `strategy: {parallelism: N}`,
identifiers with the iteration's postfix (`step_0`), and `<+matrix.*>`, `<+stage.matrix.*>`,
`<+repeat.item>`, `<+strategy.iteration>`, `<+strategy.iterations>`, `<+strategy.identifierPostFix>`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from corral.engine import build_plan, run_pipeline
from corral.errors import ConfigError
from corral.store import Store

from .helpers import Probe, fast, finished_steps, group, pipeline, probe_step, stage, write_project


def looped(item: dict[str, Any], strategy: dict[str, Any]) -> dict[str, Any]:
    kind = next(iter(item))
    item[kind]["strategy"] = strategy
    return item


def test_a_matrix_step_runs_once_per_combination_less_excluded(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    matrix = {"service": ["web", "api"], "weight": [50, 100], "exclude": [{"service": "api", "weight": 50}]}
    step = probe_step(
        "shift",
        outputs={
            "service": "<+matrix.service>",
            "weight": "<+matrix.weight>",
            "iteration": "<+strategy.iteration>",
            "iterations": "<+strategy.iterations>",
            "postfix": "<+strategy.identifierPostFix>",
            "step_postfix": "<+step.identifierPostFix>",
        },
    )
    doc = pipeline("p", [stage("s", [looped(step, {"matrix": matrix})])])
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Success"
    seen = {s.identifier: s.outputs for s in execution.steps}
    assert set(seen) == {"shift_0_0", "shift_0_1", "shift_1_1"}  # api x 50 excluded
    assert seen["shift_0_1"] == {
        "service": "web",
        "weight": 100,
        "iteration": 1,
        "iterations": 3,
        "postfix": "_0_1",
        "step_postfix": "_0_1",
    }
    assert seen["shift_1_1"]["service"] == "api"


def test_iterations_are_addressed_by_their_identifier_with_postfix(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    doc = pipeline(
        "p",
        [
            stage(
                "s",
                [
                    looped(
                        probe_step("build", outputs={"jdk": "<+repeat.item>"}),
                        {"repeat": {"items": ["17", "21"]}},
                    ),
                    probe_step(
                        "report",
                        outputs={
                            "second": "<+execution.steps.build_1.output.jdk>",
                            "first": "<+steps.build_0.output.jdk>",
                        },
                    ),
                ],
            )
        ],
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Success"
    assert execution.step("report").outputs == {"second": "21", "first": "17"}


def test_max_concurrency_one_runs_iterations_in_turn_and_a_failure_stops_the_rest(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    step = probe_step("phase", fail="<+strategy.iteration == 1>")
    doc = pipeline(
        "p", [stage("s", [looped(step, {"repeat": {"times": 4, "maxConcurrency": 1}})], [probe_step("undo")])]
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Failed"
    # phase_0 then phase_1 (fails); phase_2 and phase_3 waited their turn and never started
    assert finished_steps(store, execution.id) == ["s/phase_0#1", "s/phase_1#1", "s/rollback/undo#1"]


def test_without_max_concurrency_the_other_iterations_finish(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    step = probe_step("check", fail="<+strategy.iteration == 0>", barrier="all")
    doc = pipeline("p", [stage("s", [looped(step, {"parallelism": 2})], [probe_step("undo")])])
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Failed"
    statuses = {s.identifier: s.status for s in execution.steps}
    assert statuses["check_0"] == "Failed"
    assert statuses["check_1"] == "Success"  # ran alongside (the barrier needs both) and finished
    assert statuses["undo"] == "Success"


def test_rollback_reverses_the_group_iterations_that_ran(tmp_path: Path, store: Store, probe: Probe) -> None:
    phase = group(
        "phase",
        [probe_step("deploy", fail="<+repeat.item == 'c'>")],
        [probe_step("undo", outputs={"item": "<+repeat.item>"})],
    )
    doc = pipeline(
        "p", [stage("s", [looped(phase, {"repeat": {"items": ["a", "b", "c", "d"], "maxConcurrency": 1}})])]
    )
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Failed"
    assert finished_steps(store, execution.id) == [
        "s/phase_0/deploy#1",
        "s/phase_1/deploy#1",
        "s/phase_2/deploy#1",
        "s/phase_2/rollback/undo#1",
        "s/phase_1/rollback/undo#1",
        "s/phase_0/rollback/undo#1",
    ]  # phase_3 never started, so nothing of it is undone


def test_a_looped_stage_runs_per_iteration_with_stage_matrix_values(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    looped_stage = stage(
        "deploy",
        [
            looped(
                probe_step(
                    "smoke",
                    outputs={
                        "region": "<+stage.matrix.region>",
                        "n": "<+matrix.n>",
                        "item": "<+repeat.item>",
                    },
                ),
                {"repeat": {"items": ["x"]}},
            )
        ],
    )
    looped_stage["stage"]["strategy"] = {
        "matrix": {"region": ["eu", "us"], "n": [1], "nodeName": "<+matrix.region>", "maxConcurrency": 1}
    }
    after = stage(
        "after",
        [
            probe_step(
                "read",
                outputs={"us": "<+pipeline.stages.deploy_us.spec.execution.steps.smoke_0.output.region>"},
            )
        ],
    )
    doc = pipeline("p", [looped_stage, after])
    execution = run_pipeline(write_project(tmp_path, doc), "p", store=store, options=fast())
    assert execution.status == "Success"
    assert [s.identifier for s in execution.stages] == ["deploy_eu", "deploy_us", "after"]
    smoke = [s for s in execution.steps if s.identifier == "smoke_0"]
    assert [s.outputs for s in smoke] == [
        {"region": "eu", "n": 1, "item": "x"},
        {"region": "us", "n": 1, "item": "x"},
    ]
    assert execution.step("read").outputs == {"us": "us"}


@pytest.mark.parametrize(
    ("strategy", "path", "message"),
    [
        ({"matrix": {"a": []}}, "strategy.matrix.a", "non-empty list"),
        (
            {"matrix": {"a": "<+steps.a.output.list>"}},
            "strategy.matrix.a",
            "known only while the pipeline runs",
        ),
        ({"matrix": {"a": [1], "exclude": [{"b": 1}]}}, "strategy.matrix.exclude[0].b", "not an axis"),
        ({"matrix": {"a": [1], "exclude": [{"a": 1}]}}, "strategy.matrix.exclude", "every combination"),
        ({"repeat": {"times": -1}}, "strategy.repeat.times", "at least 0"),
        ({"repeat": {"times": 2, "items": [1]}}, "strategy.repeat", "exactly one of times or items"),
        ({"repeat": {"items": [1], "partitionSize": 2}}, "strategy.repeat.partitionSize", "not supported"),
        ({"repeat": {"items": [1], "color": 2}}, "strategy.repeat.color", "unknown repeat field"),
        ({"parallelism": "many"}, "strategy.parallelism", "whole number"),
        (
            {"repeat": {"times": 2, "maxConcurrency": 1}, "maxConcurrency": 2},
            "strategy.maxConcurrency",
            "give one",
        ),
        ({"parallelism": 2, "maxParallel": 1}, "strategy.maxParallel", "unknown looping strategy field"),
        ({"matrix": {"a": [1]}, "repeat": {"times": 1}}, "strategy", "exactly one of"),
        ({"parallelism": 1000}, "strategy.parallelism", "at most 256"),
        (
            {"matrix": {"a": [1], "nodeName": "<+pipeline.name>"}},
            "strategy.matrix.nodeName",
            "nodeName may use",
        ),
    ],
)
def test_a_strategy_corral_cannot_expand_is_an_error_naming_the_field(
    strategy: dict[str, Any], path: str, message: str
) -> None:
    step = looped(probe_step("x"), strategy)
    raw = {"pipeline": {"identifier": "p", "stages": [stage("s", [step])]}}["pipeline"]
    with pytest.raises(ConfigError) as caught:
        build_plan(raw, file="pipelines.yaml")
    problems = caught.value.problems
    assert len(problems) == 1
    assert problems[0].file == "pipelines.yaml"
    assert problems[0].path == f"pipeline.stages[0].stage.spec.execution.steps[0].step.{path}"
    assert message in problems[0].message


def test_a_looped_stage_reports_a_bad_step_once() -> None:
    bad = stage("s", [probe_step("x", timeout="soon")])
    bad["stage"]["strategy"] = {"parallelism": 3}
    with pytest.raises(ConfigError) as caught:
        build_plan({"identifier": "p", "stages": [bad]}, file="p.yaml")
    assert len(caught.value.problems) == 1


def test_the_lists_may_be_run_time_inputs(tmp_path: Path, store: Store, probe: Probe) -> None:
    step = probe_step("copy", outputs={"item": "<+repeat.item>", "group": "<+stepGroup.identifierPostFix>"})
    loop = looped(
        group("region", [looped(step, {"repeat": {"items": "<+input>"}})]), {"repeat": {"times": "<+input>"}}
    )
    doc = pipeline("p", [stage("s", [loop])])
    here = "pipeline.stages[0].stage.spec.execution.steps[0].stepGroup"
    inputs = {
        f"{here}.strategy.repeat.times": "2",
        f"{here}.steps[0].step.strategy.repeat.items": ["a", "<+secrets.getValue('x')>"],
    }
    execution = run_pipeline(write_project(tmp_path, doc), "p", inputs=inputs, store=store, options=fast())
    assert execution.status == "Success", execution.error
    copies = [(s.key, s.outputs) for s in execution.steps if s.type == "Probe"]
    assert copies == [
        ("s/region_0/copy_0", {"item": "a", "group": "_0"}),
        ("s/region_0/copy_1", {"item": "<+secrets.getValue('x')>", "group": "_0"}),  # data, never evaluated
        ("s/region_1/copy_0", {"item": "a", "group": "_1"}),
        ("s/region_1/copy_1", {"item": "<+secrets.getValue('x')>", "group": "_1"}),
    ]


def test_expressions_over_what_the_start_knows_become_lists_in_the_snapshot(
    tmp_path: Path, store: Store, probe: Probe
) -> None:
    # Harness's "Get matrix values from expressions" example: a pipeline variable given at run
    # time, split into the matrix axis
    step = probe_step("approve", outputs={"ticket": "<+matrix.jiraTicket>", "who": "<+repeat.item>"})
    step["step"]["strategy"] = {"matrix": {"jiraTicket": "<+pipeline.variables.jiraTickets>.split(',')"}}
    inner = looped(
        group("each", [step]), {"repeat": {"items": ["<+pipeline.variables.owner>", "<+pipeline.name>"]}}
    )
    variables = [
        {"name": "jiraTickets", "type": "String", "value": "<+input>"},
        {"name": "owner", "type": "String", "value": "ops"},
    ]
    doc = pipeline("p", [stage("s", [inner])], variables=variables)
    execution = run_pipeline(
        write_project(tmp_path, doc), "p", inputs={"jiraTickets": "cd-1,cd-2"}, store=store, options=fast()
    )
    assert execution.status == "Success", execution.error
    assert [(s.key, s.outputs) for s in execution.steps if s.type == "Probe"] == [
        ("s/each_0/approve_0", {"ticket": "cd-1", "who": "ops"}),
        ("s/each_0/approve_1", {"ticket": "cd-2", "who": "ops"}),
        ("s/each_1/approve_0", {"ticket": "cd-1", "who": "p"}),
        ("s/each_1/approve_1", {"ticket": "cd-2", "who": "p"}),
    ]
    snapshot = store.execution(execution.id).snapshot["pipeline"]
    strategy = snapshot["stages"][0]["stage"]["spec"]["execution"]["steps"][0]["stepGroup"]["strategy"]
    assert strategy == {"repeat": {"items": ["ops", "p"]}}  # editing a variable later changes nothing


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ("<+stage.variables.hosts>", "known only while the pipeline runs"),
        ("<+execution.steps.a.output.list>", "known only while the pipeline runs"),
        ('<+secrets.getValue("hosts")>', "may not iterate over secrets"),
    ],
)
def test_a_strategy_reading_what_only_the_run_knows_is_refused(items: str, message: str) -> None:
    step = looped(probe_step("x"), {"repeat": {"items": items}})
    with pytest.raises(ConfigError) as caught:
        build_plan({"identifier": "p", "stages": [stage("s", [step])]}, file="p.yaml")
    [problem] = caught.value.problems
    assert problem.path.endswith("step.strategy.repeat.items") and message in problem.message
