"""The runtime inputs a run will ask for, one line each, as `validate` and `plan` list them:

    pipelines/deploy.yaml:7: pipeline.variables[0].value (flavour): String, required, allowed values: a, b
    services/web.yaml:46: service.serviceDefinition.spec.artifacts.primary.sources[0].spec.tag: String, required
    services/web.yaml:15 (inline service_def): service_def.desiredCount: Integer, required

The type is a variable's declared type, else the type the field needs (found when the
manifest around it was validated with a stand-in), else String.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from corral.errors import ExpressionError, Problem
from corral.expressions import InputSpec, find_inputs
from corral.expressions.inputs import check_input_value

from .problems import split_path

if TYPE_CHECKING:
    from .project import Project


@dataclass(frozen=True)
class InputLine:
    where: str  # file:line (and the manifest) where the input is written
    path: str  # the path --input takes (or a unique tail of it)
    type: str
    expression: str
    default: Any = None
    allowed_values: tuple[str, ...] | None = None
    regex: str | None = None
    execution_input: bool = False
    name: str | None = None  # a variable's name (also a key --input takes)

    def text(self) -> str:
        shown = '""' if self.default == "" else self.default
        what = [self.type, "required" if self.default is None else f"default {shown}"]
        if self.allowed_values is not None:
            what.append(f"allowed values: {', '.join(self.allowed_values)}")
        if self.regex is not None:
            what.append(f"matching {self.regex}")
        if self.execution_input:
            what.append("asked for while the run is under way")
        named = f" ({self.name})" if self.name else ""
        return f"{self.where}: {self.path}{named}: {', '.join(what)}"


def input_line(spec: InputSpec, where: str, *, kind: str = "String", name: str | None = None) -> InputLine:
    return InputLine(
        where=where,
        path=spec.path,
        type=kind,
        expression=spec.expression,
        default=spec.default,
        allowed_values=tuple(spec.allowed_values) if spec.allowed_values is not None else None,
        regex=spec.regex,
        execution_input=spec.execution_input,
        name=name,
    )


def variable_kind(raw: Any, path: str) -> tuple[str, str] | None:
    """(name, type) when path is the `value` of a `{name, type, value}` variable in raw."""
    parts = split_path(path)
    if not parts or parts[-1] != "value":
        return None
    node = raw
    for part in parts[:-1]:
        if isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]  # an index into a list
        elif not (isinstance(node, dict) and isinstance(part, str) and part in node):
            return None
        else:
            node = node[part]
    if isinstance(node, dict) and "name" in node and "type" in node:
        return str(node["name"]), str(node["type"])
    return None


def pipeline_input_lines(project: Project) -> tuple[list[InputLine], list[Problem]]:
    """Every runtime input of every pipeline, and a problem for each default its own options refuse."""
    from .stage_inputs import with_choices

    lines: list[InputLine] = []
    problems: list[Problem] = []
    for pipeline in project.pipelines.values():
        document = {"pipeline": pipeline.raw["pipeline"]}
        try:
            # serviceInputs: <+input> and the like are the entities' inputs, listed with them
            specs = with_choices(project, document, find_inputs(document))
        except ExpressionError:
            continue  # reported with the pipeline's expressions
        for spec in specs:
            where = pipeline.where(split_path(spec.path))
            problems += default_problems(spec, where)
            variable = variable_kind(document, spec.path)
            kind, name = (variable[1], variable[0]) if variable else ("String", None)
            if variable is not None:
                problems += stand_in_type_problems(project, spec, where, name or "", kind)
            lines.append(input_line(spec, where, kind=kind, name=name))
    return lines, problems


def stand_in_type_problems(
    project: Project, spec: InputSpec, where: str, name: str, kind: str
) -> list[Problem]:
    """A variable's default and allowed values must be of its type (a Number's are numbers):
    each is a value a run may take."""
    from .variable_types import type_problem

    candidates = ([("default", spec.default)] if spec.default is not None else []) + [
        ("allowed value", value) for value in spec.allowed_values or []
    ]
    for what, value in candidates:
        expected = type_problem(project, kind, value)
        if expected is not None:
            message = (
                f"variable '{name}' is of type {kind}: its runtime input's {what} {value!r} is not {expected}"
            )
            return [Problem(where, spec.path, message)]
    return []


def default_problems(spec: InputSpec, where: str) -> list[Problem]:
    """A default that its own allowedValues or regex refuses can never be used."""
    if spec.default is None:
        return []
    try:
        check_input_value(spec, spec.default, what="default")
    except ExpressionError as error:
        return [Problem(where, spec.path, error.detail.removeprefix(spec.path + ": "))]
    return []


def entity_input_lines(
    specs: Mapping[str, InputSpec], where: Mapping[str, str], types: Mapping[str, str], raws: Iterable[Any]
) -> list[InputLine]:
    """Lines for the inputs a render found (services, environments, infrastructures, manifests)."""
    documents = list(raws)
    lines = []
    for path, spec in specs.items():
        variable = next((v for raw in documents if (v := variable_kind(raw, path)) is not None), None)
        kind = variable[1] if variable else types.get(path, "String")
        lines.append(input_line(spec, where.get(path, ""), kind=kind, name=variable[0] if variable else None))
    return lines


def unique_lines(lines: Iterable[InputLine]) -> list[InputLine]:
    """Each input once (a service renders on several infrastructures), in the order found."""
    seen: dict[tuple[str, str], InputLine] = {}
    for line in lines:
        seen.setdefault((line.where, line.path), line)
    return list(seen.values())
