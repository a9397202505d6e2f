"""Task queue names for delegate selectors.

A step runs on a delegate that has every tag the step selects (as in Harness), so a step
selecting `[prod, gpu]` goes to `corral-steps-gpu+prod`, and a delegate tagged `prod, gpu`
polls `corral-steps-prod`, `corral-steps-gpu` and `corral-steps-gpu+prod`. A step selecting
nothing goes to `corral-steps-default`, polled by delegates tagged `default`.

The selectors of a step are its own (`spec.delegateSelectors`, as Harness writes them), else those of the nearest enclosing
step group, else the stage's, else the pipeline's.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from typing import Any

from corral.engine.plan import PipelinePlan

PREFIX = "corral-steps-"
DEFAULT_TAG = "default"
CONTROL_QUEUE = "corral-control"
DEFAULT_QUEUE = PREFIX + DEFAULT_TAG
MAX_COMBINED_TAGS = 3  # a delegate polls every combination of up to this many of its tags

_TAG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def normalize_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags lower-cased, de-duplicated and sorted; ValueError naming a bad one."""
    cleaned = sorted({t.strip().lower() for t in tags if t.strip()})
    for tag in cleaned:
        if not _TAG.match(tag) or "+" in tag:
            raise ValueError(f"delegate tag {tag!r}: expected letters, digits, '-', '_' or '.'")
    return tuple(cleaned)


def queue_for(selectors: Iterable[str]) -> str:
    tags = normalize_tags(selectors)
    return PREFIX + ("+".join(tags) if tags else DEFAULT_TAG)


def selectors_of(queue: str) -> list[str]:
    """The tags a step on `queue` selects (none for the default queue)."""
    tags = queue.removeprefix(PREFIX)
    return [] if tags == DEFAULT_TAG else tags.split("+")


def queues_for_delegate(tags: Iterable[str]) -> list[str]:
    """The queues a delegate with these tags polls."""
    all_tags = normalize_tags(tags)
    own = [t for t in all_tags if t != DEFAULT_TAG]
    queues = []
    for size in range(1, min(len(own), MAX_COMBINED_TAGS) + 1):
        queues += [PREFIX + "+".join(combo) for combo in itertools.combinations(own, size)]
    if DEFAULT_TAG in all_tags:
        queues.append(PREFIX + DEFAULT_TAG)
    return queues


def step_queues(plan: PipelinePlan, raw: Mapping[str, Any]) -> dict[str, str]:
    """step key -> task queue, for every step of the plan (pure: runs inside the workflow)."""
    queues: dict[str, str] = {}
    for _, step in plan.steps():
        queues[step.key] = queue_for(selectors_at(raw, step.path))
    return queues


def selectors_at(raw: Mapping[str, Any], path: str) -> list[str]:
    """The nearest `delegateSelectors` on the way from the pipeline to the element at `path`
    (`pipeline.stages[0].stage.spec.execution.steps[1].step`)."""
    found: list[str] = _selectors(raw)
    node: Any = raw
    for part in path.split(".")[1:]:
        name, _, rest = part.partition("[")
        node = node.get(name) if isinstance(node, Mapping) else None
        for index in re.findall(r"(\d+)\]", "[" + rest if rest else ""):
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
        if node is None:
            break
        if name in ("stage", "stepGroup", "step"):
            own = _selectors(node) or (_selectors(node.get("spec")) if name == "step" else [])
            if own:
                found = own
    return found


def _selectors(node: Any) -> list[str]:
    if not isinstance(node, Mapping):
        return []
    value = node.get("delegateSelectors")
    if isinstance(value, str):
        value = [value]
    return [str(v) for v in value or [] if str(v).strip()]
