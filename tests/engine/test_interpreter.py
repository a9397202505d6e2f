"""The interpreter alone: commands out, events in, no store, no threads, no clock (as a Temporal
workflow would drive it)."""

from __future__ import annotations

from typing import Any

import pytest

import corral.engine as engine
import corral.store as store_package
from corral.engine import Interpreter, RunInfo, build_plan
from corral.engine import messages as m
from corral.errors import ConfigError


def plan(stages: list[Any], **extra: Any):  # type: ignore[no-untyped-def]
    return build_plan({"identifier": "p", "name": "P", "stages": stages, **extra})


def step(identifier: str, **extra: Any) -> dict[str, Any]:
    return {"step": {"identifier": identifier, "name": identifier, "type": "Probe", "spec": {}, **extra}}


def custom(
    identifier: str, steps: list[Any], rollback: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    execution = {"steps": steps, "rollbackSteps": rollback or []}
    return {
        "stage": {
            "identifier": identifier,
            "name": identifier,
            "type": "Custom",
            "spec": {"execution": execution},
            **extra,
        }
    }


def drive(interpreter: Interpreter, fail: set[str]) -> list[str]:
    """Answer every command at once: listed steps fail, timers fire; returns what was asked."""
    asked: list[str] = []
    pending = list(interpreter.start())
    while pending:
        command = pending.pop(0)
        asked.append(command.id)
        if isinstance(command, m.RunStep):
            status = "Failed" if command.step_key in fail else "Success"
            pending += interpreter.feed(m.StepFinished(command.id, status, error="no"))
        elif isinstance(command, m.Sleep):
            pending += interpreter.feed(m.TimerFired(command.id))
    assert interpreter.finished
    return asked


def test_pipeline_level_strategy_applies_when_nothing_nearer_matches() -> None:
    strategies = [
        {
            "onFailure": {
                "errors": ["AllErrors"],
                "action": {
                    "type": "Retry",
                    "spec": {
                        "retryCount": 2,
                        "retryIntervals": ["5s"],
                        "onRetryFailure": {"action": {"type": "Ignore"}},
                    },
                },
            }
        }
    ]
    interpreter = Interpreter(
        plan([custom("s", [step("a"), step("b")])], failureStrategies=strategies), RunInfo("e", 1, 0)
    )
    asked = drive(interpreter, fail={"s/a"})
    assert asked == ["s/a#1", "s/a/retry#1", "s/a#2", "s/a/retry#2", "s/a#3", "s/b#1"]
    assert interpreter.status == "Success"
    sleeps = [u for u in interpreter.take_updates() if isinstance(u, m.StepUpdate) and u.status == "Retrying"]
    assert len(sleeps) == 2


def test_commands_carry_rendered_specs_and_no_secrets() -> None:
    spec = {
        "url": "http://<+pipeline.name>/<+pipeline.sequenceId>",
        "token": '<+secrets.getValue("t")>',
        "check": "<+httpResponseCode> == 200",
    }
    interpreter = Interpreter(
        plan([custom("s", [step("a", spec=spec, timeout="1h30m")])]), RunInfo("e", 7, 0)
    )
    (command,) = interpreter.start()
    assert isinstance(command, m.RunStep)
    assert command.spec == {
        "url": "http://P/7",
        "token": '<+secrets.getValue("t")>',
        "check": "<+httpResponseCode> == 200",
    }
    assert command.timeout == 5400.0
    assert command.id == "s/a#1" and command.attempt == 1 and command.phase == "execution"


def test_abort_cancels_what_runs_and_rolls_back() -> None:
    interpreter = Interpreter(plan([custom("s", [step("a"), step("b")], [step("undo")])]), RunInfo("e", 1, 0))
    (first,) = interpreter.start()
    assert interpreter.feed(m.AbortRequested(by="me")) == [m.Cancel("s/a#1")]
    rollback = interpreter.feed(m.StepFinished(first.id, "Aborted"))
    assert [c.id for c in rollback] == ["s/rollback/undo#1"]
    assert interpreter.feed(m.AbortRequested(by="again")) == []  # a rollback is not cancelled
    assert interpreter.feed(m.StepFinished(rollback[0].id, "Success")) == []
    assert interpreter.finished and interpreter.status == "Aborted"


def test_a_late_or_unknown_event_is_ignored() -> None:
    interpreter = Interpreter(plan([custom("s", [step("a")])]), RunInfo("e", 1, 0))
    interpreter.start()
    assert interpreter.feed(m.StepFinished("nope#1", "Success")) == []
    assert [c.id for c in interpreter.pending()] == ["s/a#1"]


def test_events_round_trip_through_json() -> None:
    event = m.StepFinished("s/a#1", "Failed", {"x": [1]}, "boom", "Timeout", {"arn": "a"})
    assert m.event_from_json("StepFinished", m.to_json(event)) == event


def test_plan_errors_name_the_path() -> None:
    bad = custom(
        "s",
        [
            step("a", timeout="ten minutes"),
            step(
                "b", failureStrategies=[{"onFailure": {"errors": ["Sometimes"], "action": {"type": "Pray"}}}]
            ),
            step("c", when={"stageStatus": "Maybe"}),
        ],
    )
    with pytest.raises(ConfigError) as raised:
        plan([bad])
    assert {p.path for p in raised.value.problems} == {
        "pipeline.stages[0].stage.spec.execution.steps[0].step.timeout",
        "pipeline.stages[0].stage.spec.execution.steps[1].step.failureStrategies[0].onFailure.errors[0]",
        "pipeline.stages[0].stage.spec.execution.steps[1].step.failureStrategies[0].onFailure.action.type",
        "pipeline.stages[0].stage.spec.execution.steps[2].step.when.stageStatus",
    }


def test_durations() -> None:
    from corral.engine.durations import format_duration, parse_duration

    assert [parse_duration(t) for t in ("10m", "1h30m", "45s", "1d", "500ms", "2w", "90")] == [
        600,
        5400,
        45,
        86400,
        0.5,
        1209600,
        90,
    ]
    assert format_duration(5400) == "1h30m"
    with pytest.raises(ValueError, match="such as 10m"):
        parse_duration("10 minutes")


def test_public_surface() -> None:
    assert engine.__all__ == sorted(engine.__all__)
    assert set(engine.__all__) >= {
        "run_pipeline",
        "resume",
        "abort",
        "approve",
        "register",
        "StepRun",
        "StepOutcome",
    }
    assert store_package.__all__ == sorted(store_package.__all__)
    assert {"HarnessApproval", "Http", "ShellScript", "Verify", "Wait"} <= set(engine.registered_types())
