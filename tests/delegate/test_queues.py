"""Which task queue a step goes to, and which queues a delegate polls."""

from __future__ import annotations

import pytest
import yaml

from corral.delegate.queues import normalize_tags, queue_for, queues_for_delegate, step_queues
from corral.engine.plan import build_plan
from tests.engine.helpers import group, pipeline, shell, stage


def test_a_step_without_selectors_goes_to_the_default_queue() -> None:
    assert queue_for([]) == "corral-steps-default"
    assert queue_for(["prod"]) == "corral-steps-prod"
    assert queue_for(["Prod", "gpu", "prod"]) == "corral-steps-gpu+prod"


def test_a_delegate_polls_every_combination_of_its_tags() -> None:
    assert queues_for_delegate(["prod"]) == ["corral-steps-prod"]
    assert queues_for_delegate(["prod", "gpu", "default"]) == [
        "corral-steps-gpu",
        "corral-steps-prod",
        "corral-steps-gpu+prod",
        "corral-steps-default",
    ]


def test_bad_tags_are_named() -> None:
    with pytest.raises(ValueError, match="'a b'"):
        normalize_tags(["a b"])


def test_the_nearest_selectors_win() -> None:
    raw = yaml.safe_load(
        pipeline(
            "p",
            [
                stage(
                    "build",
                    [
                        shell("plain", "true"),
                        shell("own", "true", spec={"delegateSelectors": ["gpu"]}),
                        group("g", [shell("in_group", "true")], delegateSelectors=["prod"]),
                    ],
                    delegateSelectors=["stage-tag"],
                ),
                stage("other", [shell("inherits", "true")]),
            ],
            delegateSelectors=["pipeline-tag"],
        )
    )["pipeline"]
    queues = step_queues(build_plan(raw), raw)
    assert {key.rsplit("/", 1)[-1]: queue for key, queue in queues.items()} == {
        "plain": "corral-steps-stage-tag",
        "own": "corral-steps-gpu",
        "in_group": "corral-steps-prod",
        "inherits": "corral-steps-pipeline-tag",
    }
