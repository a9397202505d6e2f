"""A HarnessApproval step's rules, as Harness reads them from the step's `spec`:

    approvers:
      userGroups: [ops, release]        # who may approve or reject (a member of any of them)
      minimumCount: 2                   # distinct approvals before the step is Approved
      disallowPipelineExecutor: true    # the person who started the execution may not approve
    approverInputs:                     # the only inputs an approver may give
      - name: reason
        defaultValue: none given

`approval_spec_problem` is what `validate` (and a project upload) reports about a spec;
`ApprovalRules.from_spec` is what the step enforces when a person decides. Fields that hold an
expression (`<+input>`, `<+pipeline.variables.x>`) are checked once rendered, when the step runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .entities.common import is_expression, strip_scope

DEFAULT_MINIMUM_COUNT = 1


@dataclass(frozen=True)
class ApprovalRules:
    user_groups: tuple[str, ...] = ()  # none named: any deployer of the project may decide
    minimum_count: int = DEFAULT_MINIMUM_COUNT
    disallow_pipeline_executor: bool = False
    inputs: dict[str, Any] = field(default_factory=dict)  # declared name -> default value

    @classmethod
    def from_spec(cls, approvers: Any, approver_inputs: Any) -> ApprovalRules:
        """The rules of a rendered spec (`approvers`, `approverInputs`); a ValueError names what is wrong."""
        problem = approvers_problem(approvers) or approver_inputs_problem(approver_inputs)
        if problem is not None:
            raise ValueError(f"{problem[0]}: {problem[1]}")
        approvers = approvers if isinstance(approvers, Mapping) else {}
        groups = approvers.get("userGroups") or ()
        if isinstance(groups, str):
            groups = [groups]
        return cls(
            user_groups=tuple(strip_scope(str(g)) for g in groups),
            minimum_count=int(approvers.get("minimumCount") or DEFAULT_MINIMUM_COUNT),
            disallow_pipeline_executor=approvers.get("disallowPipelineExecutor") in (True, "true"),
            inputs={str(item["name"]): item.get("defaultValue", "") for item in (approver_inputs or ())},
        )


def approval_spec_problem(spec: Mapping[str, Any]) -> tuple[str, str] | None:
    """(path inside the step, what was expected) of the first thing wrong in a HarnessApproval spec."""
    problem = approvers_problem(spec.get("approvers"))
    if problem is not None:
        return f"spec.{problem[0]}", problem[1]
    problem = approver_inputs_problem(spec.get("approverInputs"))
    if problem is not None:
        return f"spec.{problem[0]}", problem[1]
    return None


def approvers_problem(approvers: Any) -> tuple[str, str] | None:
    if approvers is None or is_expression(approvers):
        return None
    if not isinstance(approvers, Mapping):
        return "approvers", f"expected a mapping (userGroups, minimumCount, ...), got {_show(approvers)}"
    known = {"userGroups", "minimumCount", "disallowPipelineExecutor"}
    unknown = sorted(str(k) for k in approvers if k not in known)
    if unknown:
        return f"approvers.{unknown[0]}", f"unknown field; expected one of {', '.join(sorted(known))}"
    groups = approvers.get("userGroups")
    if groups is not None and not is_expression(groups):
        listed = [groups] if isinstance(groups, str) else groups
        if not isinstance(listed, list) or not all(isinstance(g, str) and g.strip() for g in listed):
            return "approvers.userGroups", f"expected a list of user group identifiers, got {_show(groups)}"
    count = approvers.get("minimumCount")
    if isinstance(count, str) and count.strip().isdigit():  # a rendered expression
        count = int(count)
    whole = isinstance(count, int) and not isinstance(count, bool) and count >= 1
    if count is not None and not is_expression(count) and not whole:
        return "approvers.minimumCount", f"expected a whole number of at least 1, got {_show(count)}"
    executor = approvers.get("disallowPipelineExecutor")
    if isinstance(executor, str) and executor in ("true", "false"):  # a rendered expression
        executor = executor == "true"
    if executor is not None and not is_expression(executor) and not isinstance(executor, bool):
        return "approvers.disallowPipelineExecutor", f"expected true or false, got {_show(executor)}"
    return None


def approver_inputs_problem(inputs: Any) -> tuple[str, str] | None:
    if inputs is None or is_expression(inputs):
        return None
    if not isinstance(inputs, list):
        return "approverInputs", f"expected a list of {{name, defaultValue}}, got {_show(inputs)}"
    seen: set[str] = set()
    for index, item in enumerate(inputs):
        where = f"approverInputs[{index}]"
        if not isinstance(item, Mapping):
            return where, f"expected a mapping with name and defaultValue, got {_show(item)}"
        unknown = sorted(str(k) for k in item if k not in ("name", "defaultValue"))
        if unknown:
            return f"{where}.{unknown[0]}", "unknown field; expected name or defaultValue"
        name = item.get("name")
        if name is None:
            return f"{where}.name", "required field is missing: every approver input has a name"
        if not isinstance(name, str) or not name.strip():
            return f"{where}.name", f"expected the input's name, got {_show(name)}"
        if name in seen:
            return f"{where}.name", f"approver input {name!r} is declared twice"
        seen.add(name)
    return None


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
