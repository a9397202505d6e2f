"""The shape of an execution's pipeline, for the UI's graph: the plan the interpreter walks
(`engine.plan.build_plan` on the execution's snapshot), as nested JSON whose step and group keys
are those of the execution's step records, so the UI can colour each node with its live state.

    {"name": ..., "stages": [[stage, ...], ...]}      # one list per column: parallel stages share one
    stage = {"key", "name", "type", "steps": [node], "rollback": [node]}
    node  = {"kind": "step", "key", "name", "type"}
          | {"kind": "group", "key", "name", "steps": [node], "rollback": [node]}
          | {"kind": "parallel", "key", "loop": bool, "branches": [node]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from corral.engine.plan import (
    Element,
    GroupNode,
    ParallelNode,
    ParallelStages,
    StageNode,
    build_plan,
)
from corral.engine.runtime_values import mark_runtime_inputs

Node = dict[str, Any]


def pipeline_graph(snapshot: Mapping[str, Any]) -> dict[str, Any]:
    """The graph of the pipeline an execution runs (its snapshot, inputs filled in)."""
    pipeline = mark_runtime_inputs(snapshot["pipeline"], snapshot.get("runtimeInputs") or ())
    plan = build_plan(pipeline, file=snapshot.get("file", ""))
    columns = [
        [_stage(s) for s in element.stages] if isinstance(element, ParallelStages) else [_stage(element)]
        for element in plan.stages
    ]
    return {"name": plan.name, "stages": columns}


def _stage(stage: StageNode) -> Node:
    return {
        "key": stage.key,
        "name": stage.name,
        "type": stage.type,
        # a provisioner runs first and is rolled back last: drawn where it runs
        "steps": _nodes((*stage.provisioner_steps, *stage.steps)),
        "rollback": _nodes((*stage.rollback_steps, *stage.provisioner_rollback_steps)),
    }


def _nodes(elements: Iterable[Element]) -> list[Node]:
    return [_node(element) for element in elements]


def _node(element: Element) -> Node:
    if isinstance(element, ParallelNode):
        return {
            "kind": "parallel",
            "key": element.key,
            "loop": element.loop,
            "branches": _nodes(element.branches),
        }
    if isinstance(element, GroupNode):
        return {
            "kind": "group",
            "key": element.key,
            "name": element.name,
            "steps": _nodes(element.steps),
            "rollback": _nodes(element.rollback_steps),
        }
    return {"kind": "step", "key": element.key, "name": element.name, "type": element.type}
