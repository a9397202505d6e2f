"""An EcsBlueGreenTrafficShift step's spec: Harness's `ecsTrafficShiftWrapper` (Inherit, Standalone)
and Corral's earlier fields, checked without AWS; what the step runs with."""

from __future__ import annotations

from typing import Any

import pytest

from corral.config.traffic_shift_spec import read_traffic_shift, traffic_shift_problems

TG1 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/prod/0000000000000001"
TG2 = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/stage/0000000000000002"


def standalone(*config: Any, **fields: Any) -> dict[str, Any]:
    body = {
        "loadBalancer": "alb",
        "listener": "arn:l",
        "listenerRuleArn": "arn:r",
        "forwardConfig": list(config),
    }
    return {"ecsTrafficShiftWrapper": {"type": "Standalone", "spec": {**body, **fields}}}


def inherit(weight: Any) -> dict[str, Any]:
    return {"ecsTrafficShiftWrapper": {"type": "Inherit", "spec": {"weightPercentage": weight}}}


def test_harness_inherit_reads_as_one_weight() -> None:
    assert traffic_shift_problems(inherit(70)) == []
    shift = read_traffic_shift(inherit("70"))  # a rendered expression is text
    assert (shift.mode, shift.weights) == ("Inherit", [70])


def test_harness_standalone_reads_the_forward_config_in_order() -> None:
    spec = standalone({"targetGroupArn": TG2, "weight": 70}, {"targetGroupArn": TG1, "weight": "30"})
    assert traffic_shift_problems(spec) == []
    shift = read_traffic_shift(spec)
    assert shift.mode == "Standalone" and shift.forward_config == [(TG2, 70), (TG1, 30)]
    assert (shift.load_balancer, shift.listener, shift.listener_rule_arn) == ("alb", "arn:l", "arn:r")


def test_corrals_earlier_fields_still_read() -> None:
    assert read_traffic_shift({"weightPercentage": 50}).weights == [50]
    shift = read_traffic_shift(
        {"weights": [25, 50, 100], "pauseSeconds": 30, "doNotDownsizeOldService": True}
    )
    assert (shift.mode, shift.weights, shift.pause_seconds) == ("Inherit", [25, 50, 100], 30.0)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        (
            inherit(101),
            [
                (
                    "spec.ecsTrafficShiftWrapper.spec.weightPercentage",
                    "expected a whole percentage 0-100, got 101",
                )
            ],
        ),
        (
            inherit(-1),
            [
                (
                    "spec.ecsTrafficShiftWrapper.spec.weightPercentage",
                    "expected a whole percentage 0-100, got -1",
                )
            ],
        ),
        (
            inherit(12.5),
            [
                (
                    "spec.ecsTrafficShiftWrapper.spec.weightPercentage",
                    "expected a whole percentage 0-100, got 12.5",
                )
            ],
        ),
        (
            inherit(None),
            [
                (
                    "spec.ecsTrafficShiftWrapper.spec.weightPercentage",
                    "is required: the new service's share, 0-100",
                )
            ],
        ),
        ({"weights": [50, 200]}, [("spec.weights[1]", "expected a whole percentage 0-100, got 200")]),
        ({}, [("spec.ecsTrafficShiftWrapper", "is required (type: Inherit or Standalone)")]),
        (
            {"ecsTrafficShiftWrapper": {"type": "Inherited", "spec": {}}},
            [("spec.ecsTrafficShiftWrapper.type", "expected Inherit or Standalone, got 'Inherited'")],
        ),
        (
            {**inherit(50), "weights": [100]},
            [
                (
                    "spec.weights",
                    "give the weight in ecsTrafficShiftWrapper, not beside it (Corral's earlier form)",
                )
            ],
        ),
        (
            standalone({"targetGroupArn": TG1, "weight": 50}, {"targetGroupArn": TG1, "weight": 50}),
            [
                (
                    "spec.ecsTrafficShiftWrapper.spec.forwardConfig[1].targetGroupArn",
                    f"{TG1} is already in forwardConfig",
                )
            ],
        ),
        (
            standalone({"weight": 50}, {"targetGroupArn": TG2, "weight": 500}),
            [
                ("spec.ecsTrafficShiftWrapper.spec.forwardConfig[0].targetGroupArn", "is required"),
                (
                    "spec.ecsTrafficShiftWrapper.spec.forwardConfig[1].weight",
                    "expected a whole percentage 0-100, got 500",
                ),
            ],
        ),
        (
            standalone(*({"targetGroupArn": f"{TG1}{i}", "weight": 10} for i in range(6))),
            [("spec.ecsTrafficShiftWrapper.spec.forwardConfig", "at most 5 target groups (ELBv2), got 6")],
        ),
        (
            standalone(listener=""),
            [
                ("spec.ecsTrafficShiftWrapper.spec.listener", "is required"),
                (
                    "spec.ecsTrafficShiftWrapper.spec.forwardConfig",
                    "expected a list of {targetGroupArn, weight}, at least one",
                ),
            ],
        ),
    ],
)
def test_each_problem_names_its_path(spec: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert traffic_shift_problems(spec) == expected


def test_expressions_are_checked_once_rendered() -> None:
    spec = standalone(
        {"targetGroupArn": "<+stage.variables.stageTargetGroup>", "weight": "<+matrix.weight>"},
        {"targetGroupArn": TG1, "weight": "<+(100 - <+matrix.weight>)>"},
    )
    assert traffic_shift_problems(spec) == []
    assert traffic_shift_problems(spec, rendered=True) == [
        ("spec.ecsTrafficShiftWrapper.spec.forwardConfig[0].targetGroupArn",
         "the expression '<+stage.variables.stageTargetGroup>' did not resolve to a value"),
        ("spec.ecsTrafficShiftWrapper.spec.forwardConfig[0].weight",
         "the expression '<+matrix.weight>' did not resolve to a value"),
        ("spec.ecsTrafficShiftWrapper.spec.forwardConfig[1].weight",
         "the expression '<+(100 - <+matrix.weight>)>' did not resolve to a value"),
    ]  # fmt: skip
