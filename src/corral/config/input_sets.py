"""Input sets: the values for a pipeline's runtime inputs, checked against the pipeline.

An input set repeats the parts of its pipeline that hold `<+input>` fields, matching
stages, steps and step groups by identifier and variables by name. Corral checks that
every field it sets is a runtime input of the pipeline, that each value is allowed (and fits
its variable's type: String, Number, Secret), and
that together they leave no required input (one without a default) unset: an input set
is complete on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from corral.errors import ExpressionError, Problem, format_path
from corral.expressions import find_inputs
from corral.expressions.inputs import check_input_value

from .entities.common import is_runtime_input
from .entities.pipeline import InputSet, Pipeline
from .problems import problems_from_validation
from .references import ReferenceChecker, pipeline_references
from .stage_inputs import with_choices
from .templates import unwrap_template_inputs
from .variable_types import type_problem, variable_types

if TYPE_CHECKING:
    from .project import Project

Path = tuple[str | int, ...]
_WRAPPERS = ("stage", "step", "stepGroup")


def input_set_problems(project: Project) -> list[Problem]:
    problems: list[Problem] = []
    for input_set in project.input_sets.values():
        pipeline = project.pipelines.get(input_set.pipeline.identifier)
        if pipeline is not None:
            problems += check_input_set(project, pipeline, input_set)
    return problems


def check_input_set(project: Project, pipeline: Pipeline, input_set: InputSet) -> list[Problem]:
    merger = _Merger(input_set)
    # values under `template: templateInputs:` (Harness's input set of a templated pipeline) stand
    # where the template's fields do in the resolved pipeline
    written = unwrap_template_inputs(input_set.raw["inputSet"]["pipeline"])
    merged = merger.merge(pipeline.raw["pipeline"], written, ("pipeline",))
    try:
        document = {"pipeline": pipeline.raw["pipeline"]}
        # serviceInputs: <+input> and the like need no value here (the entities' inputs do)
        specs = with_choices(project, document, find_inputs(document))
    except ExpressionError:
        return merger.problems  # the pipeline's own problem is reported with the pipeline
    for spec in specs:
        if spec.path in merger.given:
            try:
                check_input_value(spec, merger.given[spec.path])
            except ExpressionError as error:
                merger.report(spec.path, error.detail.removeprefix(spec.path + ": "))
        elif spec.required and not spec.execution_input:
            merger.report(
                spec.path,
                f"missing required input: pipeline '{pipeline.identifier}' gives it no default, "
                "so this input set must set it",
            )
    for path, (name, kind) in variable_types(pipeline.raw["pipeline"]).items():
        value = merger.given.get(path)
        if path not in merger.given or (isinstance(value, str) and "<+" in value):
            continue  # an expression is checked when it has a value, at run time
        expected = type_problem(project, kind, value)
        if expected is not None:
            merger.report(path, f"variable '{name}' is of type {kind}: expected {expected}, got {value!r}")
    if not merger.problems:
        merger.problems += _merged_references(project, input_set, merged)
    return merger.problems


class _Merger:
    def __init__(self, input_set: InputSet) -> None:
        self.input_set = input_set
        self.given: dict[str, Any] = {}
        self.problems: list[Problem] = []

    def report(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.input_set.where(), path, message))

    def merge(self, base: Any, overlay: Any, path: Path) -> Any:
        if isinstance(overlay, dict) and isinstance(base, dict):
            merged = dict(base)
            for key, value in overlay.items():
                if key == "identifier" and path == ("pipeline",):
                    continue
                if key not in base:
                    self.report(
                        format_path((*path, key)),
                        "not in the pipeline: an input set only fills <+input> fields",
                    )
                    continue
                merged[key] = self.merge(base[key], value, (*path, key))
            return merged
        if isinstance(overlay, list) and isinstance(base, list):
            merged_list = list(base)
            for position, item in enumerate(overlay):
                index = _find(base, item, position)
                if index is None:
                    self.report(
                        format_path((*path, position)), f"matches nothing in the pipeline{_described(item)}"
                    )
                    continue
                merged_list[index] = self.merge(base[index], item, (*path, index))
            return merged_list
        if is_runtime_input(base) and isinstance(overlay, dict | list):
            self.given[format_path(path)] = overlay  # checked against the field's type below
            return overlay
        if isinstance(overlay, dict | list) or (isinstance(overlay, str) and overlay == base):
            return base if overlay == base else self._fixed(base, overlay, path)
        if not is_runtime_input(base):
            return self._fixed(base, overlay, path)
        self.given[format_path(path)] = overlay
        return overlay

    def _fixed(self, base: Any, overlay: Any, path: Path) -> Any:
        if base != overlay:
            self.report(
                format_path(path), f"not a runtime input of the pipeline (its value there is {base!r})"
            )
        return base


def _identity(item: Any) -> tuple[str, Any] | None:
    if isinstance(item, dict):
        for wrapper in _WRAPPERS:
            inner = item.get(wrapper)
            if isinstance(inner, dict) and "identifier" in inner:
                return wrapper, inner["identifier"]
        if "parallel" in item and isinstance(item["parallel"], list) and item["parallel"]:
            return "parallel", _identity(item["parallel"][0])
        for key in ("identifier", "name"):
            if key in item:
                return key, item[key]
    return None


def _described(item: Any) -> str:
    identity = _identity(item)
    if identity is None:
        return ""
    kind, value = identity
    if kind == "parallel":
        return " (a parallel block)"
    return f": no {kind} '{value}' there"


def _find(base: list[Any], item: Any, position: int) -> int | None:
    wanted = _identity(item)
    if wanted is None:
        return position if position < len(base) else None
    if wanted[0] in ("identifier", "name"):
        # `- identifier: <+input>` in the pipeline is filled by the item at the same place
        exact = next((i for i, c in enumerate(base) if _identity(c) == wanted), None)
        if exact is not None:
            return exact
        at = _identity(base[position]) if position < len(base) else None
        return position if at is not None and is_runtime_input(at[1]) else None
    if wanted[0] == "parallel":
        for index, candidate in enumerate(base):
            inner = candidate.get("parallel") if isinstance(candidate, dict) else None
            if isinstance(inner, list) and any(_identity(x) == wanted[1] for x in inner):
                return index
        return None
    return next((i for i, candidate in enumerate(base) if _identity(candidate) == wanted), None)


def _merged_references(project: Project, input_set: InputSet, merged: dict[str, Any]) -> list[Problem]:
    """The pipeline with the input set's values must still reference what exists."""
    try:
        pipeline = Pipeline.model_validate(merged)
    except ValidationError as error:
        return problems_from_validation(
            error, merged, root="pipeline", locate=lambda _p: input_set.where(), model=Pipeline
        )
    pipeline.located(input_set.file, input_set.line, {"pipeline": merged}, lambda _p: input_set.line)
    checker = ReferenceChecker(project)
    pipeline_references(checker, pipeline)
    return checker.problems
