"""What a step's `spec` may hold, by step type, checked before anything runs.

A step type registers its spec model with its implementation (engine/steps.py):

    class WaitSpec(StepSpec):
        duration: Duration = "0s"

    register("Wait", run_wait, spec=WaitSpec)

A spec model is a pydantic model with Harness's camelCase field names (aliases are made from
the snake_case names); unknown fields are refused. `check_steps` reads every step of a
pipeline plan against its type's model: required and unknown fields, types, durations, and
the expressions that must resolve when the run starts (`<+pipeline.variables.X>`,
`<+stage.variables.X>`, `<+pipeline.stages.S...>` must name something the pipeline has). A
value that is still an expression (a run-time input at validate, a step's output) is checked
when the step runs, not here. A step type without an implementation is an error.
`corral validate`, `corral plan` and the start of `corral run` call it.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterator, Mapping
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel

from corral.config.problems import problems_from_validation, split_path
from corral.errors import ExpressionError, Problem
from corral.expressions.scan import find_expressions

from .durations import parse_duration
from .literal_inputs import has_expression_text
from .plan import PipelinePlan, StageNode, StepNode, walk_steps

# `type:` names of Harness steps Corral has no implementation of (a hint, not a check)
HARNESS_ONLY = ("Barrier", "Queue", "Email", "JiraApproval", "ServiceNowApproval", "CustomApproval")


class SpecPart(BaseModel):
    """A mapping inside a spec: camelCase names, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)


class StepSpec(SpecPart):
    """Base of every step's spec model, with the fields Harness allows on every step."""

    delegate_selectors: list[str] | str | None = None
    command_options: list[Any] | None = None


def _duration(value: str | int | float) -> str | int | float:
    parse_duration(value)  # ValueError: "expected a duration such as 10m, ..."
    return value


Duration = Annotated[str | int | float, AfterValidator(_duration)]

Locate = Callable[[tuple[str | int, ...]], str]


def check_steps(
    plan: PipelinePlan,
    *,
    locate: Locate,
    specs: Mapping[str, type[StepSpec] | None],
    implemented: frozenset[str] | set[str],
) -> list[Problem]:
    """Every problem of every step of plan. locate: a YAML path's `file:line`."""
    variables = {str(v.get("name")) for v in plan.variables}
    stage_ids = {stage.identifier for stage in plan.all_stages}
    problems: list[Problem] = []
    for stage in plan.all_stages:
        stage_variables = {str(v.get("name")) for v in stage.variables}
        for step in _steps(stage):
            parts = split_path(step.path)
            if step.type not in implemented:
                problems.append(_no_implementation(step, locate(parts), implemented))
                continue
            model = specs.get(step.type)
            if model is not None:
                problems += _spec_problems(step, model, locate)
            problems += _reference_problems(step, locate, variables, stage_variables, stage_ids)
    return problems


def _steps(stage: StageNode) -> Iterator[StepNode]:
    return walk_steps(element for elements in stage.element_lists() for element in elements)


def _no_implementation(step: StepNode, where: str, implemented: frozenset[str] | set[str]) -> Problem:
    known = sorted(implemented)
    close = difflib.get_close_matches(step.type, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close and step.type not in HARNESS_ONLY else ""
    return Problem(
        where,
        f"{step.path}.type",
        f"step type {step.type} has no implementation in this build of Corral{hint} "
        f"(step types that run: {', '.join(known)})",
    )


def _spec_problems(step: StepNode, model: type[StepSpec], locate: Locate) -> list[Problem]:
    try:
        model.model_validate(dict(step.spec))
    except ValidationError as error:
        root = split_path(f"{step.path}.spec")
        problems = problems_from_validation(
            error, dict(step.spec), root="", locate=lambda p: locate((*root, *p)), model=model, keep=_now
        )
        return [
            Problem(p.file, f"{step.path}.spec.{p.path}" if p.path else f"{step.path}.spec", p.message)
            for p in problems
        ]
    return []


def _now(error: Mapping[str, Any]) -> bool:
    """False for an error about a value that is still an expression: judged when it resolves."""
    return not has_expression_text(error.get("input")) or error["type"] in ("missing", "extra_forbidden")


# roots whose names the pipeline itself declares, so a reference to a missing one can never resolve
def _reference_problems(
    step: StepNode, locate: Locate, variables: set[str], stage_variables: set[str], stage_ids: set[str]
) -> list[Problem]:
    problems = []
    try:
        found = find_expressions(dict(step.spec), path=f"{step.path}.spec")
    except ExpressionError:
        return []  # a syntax error: reported with the pipeline's expressions
    for path, expression in found:
        name = expression.strip().removeprefix("<+").removesuffix(">").strip()
        message = _unresolvable(name, variables, stage_variables, stage_ids)
        if message is not None:
            problems.append(Problem(locate(split_path(path)), path, f"{message} in '{expression}'"))
    return problems


def _unresolvable(
    name: str, variables: set[str], stage_variables: set[str], stage_ids: set[str]
) -> str | None:
    for prefix, known, what in (
        ("pipeline.variables.", variables, "pipeline variable"),
        ("stage.variables.", stage_variables, "variable of this stage"),
        ("pipeline.stages.", stage_ids, "stage"),
    ):
        if name.startswith(prefix):
            head = name[len(prefix) :].split(".", 1)[0].split("[", 1)[0]
            if head and head.isidentifier() and head not in known:
                listed = ", ".join(sorted(known)) or "none"
                return f"no {what} '{head}' (the pipeline has: {listed})"
    return None
