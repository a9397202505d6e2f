"""The `restored on the other target group` verdict of ECS's own blue/green (scenarios.py): only
the two groups' roles in the rules ECS manages and in the registrations may differ."""

from __future__ import annotations

from typing import Any

from .demo_state import differences
from .scenarios import _on_the_other_target_group

BLUE = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/corral-blue/<id>"
GREEN = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/corral-green/<id>"


def state(production: str, desired: int = 2) -> dict[str, Any]:
    other = "corral-green" if production == "corral-blue" else "corral-blue"
    return {
        "aws": {
            "listeners": {
                "corral:80": {
                    "default": {"actions": [{"forward": {"corral-blue": 1}}]},
                    "10": {"actions": [{"forward": {production: 100, other: 0}}]},
                }
            },
            "targets": {production: {"web": {"healthy": 2}}},
            "services": {"web": {"desiredCount": desired}},
        }
    }


def test_the_same_state_on_the_other_group_compares_equal_but_not_a_default_rule_moved() -> None:
    mirrored = _on_the_other_target_group(state("corral-blue"), [BLUE, GREEN])
    assert differences(mirrored["aws"], state("corral-green")["aws"]) == []
    # the listener's default action is not ECS's to move: it stays on blue
    assert (
        mirrored["aws"]["listeners"]["corral:80"]["default"]
        == state("corral-blue")["aws"]["listeners"]["corral:80"]["default"]
    )


def test_anything_else_that_differs_still_shows() -> None:
    mirrored = _on_the_other_target_group(state("corral-blue"), [BLUE, GREEN])
    assert differences(mirrored["aws"], state("corral-green", desired=3)["aws"]) == [
        "services.web.desiredCount: 2 -> 3"
    ]
    # not moved at all: the rules and registrations differ from the mirrored state
    assert differences(mirrored["aws"], state("corral-blue")["aws"])
