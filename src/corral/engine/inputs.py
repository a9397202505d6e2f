"""Runtime inputs of a pipeline run: `<+input>` fields filled before anything starts.

Values come from, later ones winning:
    input sets      `inputSet:` entities of the pipeline, by identifier, in the order given
    an inputs file  YAML: a flat mapping (`path: value`) or a pipeline fragment like an input set
    --input         `path=value` pairs (a dict here)
A key names an input by its full path (`pipeline.stages[0].stage.spec.execution.steps[0].step.spec.url`)
or by a dotted tail that names exactly one input (`step.spec.url`, `url`). Keys that name no
pipeline input are kept for the stages' services (their own `<+input>` fields); one that
names nothing anywhere is an error. Every missing required input is reported at once, as a
ConfigError naming the file and path of the field, before the execution exists.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from corral.config.entities.common import is_runtime_input, strip_scope
from corral.config.entities.pipeline import Pipeline
from corral.config.input_listing import InputLine, input_line, variable_kind
from corral.config.list_items import matching_index
from corral.config.problems import problems_from_validation, split_path
from corral.config.project import Project
from corral.config.runtime_inputs import InputTable
from corral.config.stage_inputs import (
    infrastructure_identifier,
    infrastructure_list,
    is_fragment_input,
    with_choices,
)
from corral.config.templates import unwrap_template_inputs as _as_resolved
from corral.config.variable_types import type_problem, variable_types
from corral.config.yaml_source import load_text
from corral.errors import ConfigError, ExpressionError, Problem, format_path
from corral.expressions import ExpressionContext, Mode, render
from corral.expressions.inputs import check_input_value

from .literal_inputs import has_expression_text, protect


@dataclass
class PipelineInputs:
    """The pipeline document with its inputs filled in, and what was given for what."""

    pipeline: Pipeline
    raw: dict[str, Any]  # the `pipeline:` mapping, inputs filled in
    values: dict[str, Any] = field(default_factory=dict)  # input path -> value
    service_inputs: dict[str, Any] = field(default_factory=dict)  # keys for the stages' services
    runtime_paths: list[str] = field(default_factory=list)  # inputs given at run time, not by files
    pending: list[InputLine] = field(default_factory=list)  # inputs nothing gave a value (defaults apply)


def pipeline_inputs(
    project: Project,
    pipeline_id: str,
    *,
    inputs: Mapping[str, Any] | None = None,
    inputs_file: Path | str | None = None,
    input_sets: Sequence[str] = (),
    project_inputs: Mapping[str, Any] | None = None,
    satisfiable: bool = False,
) -> PipelineInputs:
    """project_inputs: values written in project files (a trigger's `inputs`), whose
    expressions are evaluated; `inputs` are given at run time and are data. satisfiable
    (`corral plan`): an input without a value is no problem; it stays `<+input>` (or takes its
    first allowed value) and is listed in `pending`."""
    pipeline = project.pipelines.get(pipeline_id)
    if pipeline is None:
        known = ", ".join(sorted(project.pipelines)) or "none"
        raise ConfigError(
            [Problem("--pipeline", pipeline_id, f"pipeline not found; the project has {known}")]
        )
    raw = pipeline.raw["pipeline"]
    problems: list[Problem] = []
    given: dict[str, Any] = {}
    for set_id in input_sets:
        input_set = project.input_sets.get((pipeline_id, set_id))
        if input_set is None:
            known = ", ".join(sorted(s for p, s in project.input_sets if p == pipeline_id)) or "none"
            problems.append(
                Problem(
                    "--input-set",
                    set_id,
                    f"no input set of pipeline '{pipeline_id}' with this identifier; it has {known}",
                )
            )
            continue
        given.update(
            _overlay(
                raw,
                _as_resolved(input_set.raw["inputSet"]["pipeline"]),
                ("pipeline",),
                input_set.where(),
                problems,
            )
        )
    if inputs_file is not None:
        given.update(_from_file(raw, Path(inputs_file), problems))
    given.update(project_inputs or {})
    given.update(inputs or {})
    raw = _stage_inputs_given(copy.deepcopy(raw), given, set(inputs or {}))
    problems += _deploy_to_all(project, raw, pipeline)

    table = InputTable()
    table.add(
        {"pipeline": raw}, prefix="", where=pipeline.file, locate=lambda p: pipeline.where(split_path(p))
    )
    # serviceInputs: <+input> and the like ask for the entity's own inputs; refs offer choices
    table.specs = {
        spec.path: spec for spec in with_choices(project, {"pipeline": raw}, list(table.specs.values()))
    }
    names = _variable_inputs(raw)
    given = {names.get(key, key): value for key, value in given.items()}
    runtime = {names.get(key, key) for key in inputs or {}}
    mine = {key: value for key, value in given.items() if table.match(key) is not None}
    table.assign(mine, satisfiable=satisfiable)
    for path in sorted({p for key in mine if (p := table.match(key)) is not None}):
        try:  # also the choices with_choices added (no expression holds them)
            check_input_value(table.specs[path], infrastructure_identifier(table.values[path]))
        except ExpressionError as error:
            message = error.detail.removeprefix(path + ": ")
            problems.append(Problem(table.where.get(path, pipeline.file), path, message))
    for path, value in table.values.items():
        if path.endswith(".spec.environment.infrastructureDefinitions"):
            table.values[path] = infrastructure_list(value)
    problems += table.problems
    if problems:
        raise ConfigError(problems)
    given_paths = {p for key in mine if (p := table.match(key)) is not None}
    pending = [
        input_line(spec, table.where.get(path, pipeline.file), kind=kind, name=name)
        for path, spec in table.specs.items()
        if path not in given_paths
        for name, kind in [(variable_kind({"pipeline": raw}, path) or (None, "String"))]
    ]
    literal = {p for key in mine if key in runtime and (p := table.match(key)) is not None}
    problems += _typed_values(project, raw, table, literal)
    problems += [
        Problem("--input", key, EXPRESSION_FOR_SERVICE)
        for key, value in given.items()
        if key not in mine and key in runtime and has_expression_text(value)
    ]
    if problems:
        raise ConfigError(problems)
    try:
        filled = render(
            {"pipeline": raw}, ExpressionContext(inputs=table.values, keep=frozenset()), mode=Mode.KEEP
        )
    except ExpressionError as error:
        path, _, message = error.detail.partition(": ")
        where = table.where.get(path, pipeline.file)
        raise ConfigError([Problem(where, path, message or error.detail)]) from None
    try:
        checked = Pipeline.model_validate(filled["pipeline"])
    except ValidationError as error:
        raise ConfigError(
            problems_from_validation(
                error, filled["pipeline"], root="pipeline", locate=lambda p: pipeline.where(p), model=Pipeline
            )
        ) from None
    checked.located(pipeline.file, pipeline.line, filled, pipeline.line_of)
    for path in literal:  # run-time values stay text: no later rendering evaluates them
        _set(filled, split_path(path), protect(table.values[path]))
    others = {key: value for key, value in given.items() if key not in mine}
    # the run marks these values again (expressions/taint.py): never shell code in a script
    return PipelineInputs(checked, filled["pipeline"], dict(table.values), others, sorted(literal), pending)


def _stage_inputs_given(raw: dict[str, Any], given: dict[str, Any], runtime: set[str]) -> dict[str, Any]:
    """raw with the serviceInputs, environmentInputs, ... an input set (or inputs file) gives
    for a stage written in (taken out of given): they fill the entity's inputs as if the
    pipeline had them. Values given at run time stay data."""
    fragments = {
        key: given.pop(key)
        for key in list(given)
        if key.startswith("pipeline.") and is_fragment_input(key) and isinstance(given[key], dict)
    }
    document = {"pipeline": raw}
    for key, value in fragments.items():
        try:
            _set(document, split_path(key), protect(value) if key in runtime else value)
        except (KeyError, IndexError, TypeError):
            given[key] = value  # names nothing: reported as an unknown input
    return document["pipeline"]


def _deploy_to_all(project: Project, raw: dict[str, Any], pipeline: Pipeline) -> list[Problem]:
    """`deployToAll: true` without infrastructures: the environment's only infrastructure is
    written in; with several, a stage deploys to one (Corral has no multi-infrastructure stage)."""
    problems = []
    for index, item in enumerate(raw.get("stages") or []):
        body = item.get("stage") if isinstance(item, dict) else None
        environment = ((body or {}).get("spec") or {}).get("environment")
        if not isinstance(environment, dict) or environment.get("deployToAll") is not True:
            continue
        env_ref = environment.get("environmentRef")
        if (
            not isinstance(env_ref, str)
            or "<+" in env_ref
            or isinstance(environment.get("infrastructureDefinitions"), list)
        ):
            continue
        infras = sorted(i.identifier for i in project.infrastructures_of(strip_scope(env_ref)))
        if len(infras) == 1:
            environment["infrastructureDefinitions"] = [{"identifier": infras[0]}]
            continue
        path = f"pipeline.stages[{index}].stage.spec.environment.deployToAll"
        problems.append(
            Problem(
                pipeline.where(split_path(path)),
                path,
                f"environment '{env_ref}' has {len(infras)} infrastructures ({', '.join(infras) or 'none'}); "
                "a Corral stage deploys to one: name it in infrastructureDefinitions, one stage per infrastructure",
            )
        )
    return problems


EXPRESSION_FOR_SERVICE = (
    "a value given at run time for a service, environment, infrastructure or manifest input is data: "
    "it cannot hold <+...> or ${...}; put expressions in an input set or the entity itself"
)


def _set(document: Any, parts: Sequence[str | int], value: Any) -> None:
    for part in parts[:-1]:
        document = document[part]
    document[parts[-1]] = value


def _typed_values(
    project: Project, raw: Mapping[str, Any], table: InputTable, literal: set[str]
) -> list[Problem]:
    """A problem for every variable whose value does not fit its declared type. Values from
    input sets that are expressions are checked when they are evaluated, not here."""
    problems = []
    for path, (name, kind) in variable_types(raw).items():
        if path not in table.values or (path not in literal and has_expression_text(table.values[path])):
            continue  # also plan's stand-in `<+input>`: any value of the type may come
        expected = type_problem(project, kind, table.values[path])
        if expected is not None:
            message = f"variable '{name}' is of type {kind}: expected {expected}, got {table.values[path]!r}"
            problems.append(Problem(table.where.get(path, "--input"), path, message))
    return problems


def _variable_inputs(raw: Mapping[str, Any]) -> dict[str, str]:
    """Names that mean a variable's runtime input: `NAME`, `variables.NAME`, `pipeline.variables.NAME`,
    and for a stage variable `STAGE.variables.NAME` (a bare name prefers the pipeline's)."""
    names: dict[str, str] = {}
    for index, stage in enumerate(raw.get("stages") or []):
        body = stage.get("stage") if isinstance(stage, dict) else None
        if not isinstance(body, dict):
            continue
        for position, variable in enumerate(body.get("variables") or []):
            if isinstance(variable, dict) and is_runtime_input(variable.get("value")):
                path = f"pipeline.stages[{index}].stage.variables[{position}].value"
                names[f"{body.get('identifier')}.variables.{variable.get('name')}"] = path
                names.setdefault(str(variable.get("name")), path)
    for position, variable in enumerate(raw.get("variables") or []):
        if isinstance(variable, dict) and is_runtime_input(variable.get("value")):
            path = f"pipeline.variables[{position}].value"
            name = str(variable.get("name"))
            names.update({name: path, f"variables.{name}": path, f"pipeline.variables.{name}": path})
    return names


def _from_file(raw: Mapping[str, Any], path: Path, problems: list[Problem]) -> dict[str, Any]:
    try:
        data = load_text(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        problems.append(Problem(str(path), "", f"cannot read the inputs file: {error}"))
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        problems.append(
            Problem(
                str(path),
                "",
                "expected a mapping of input paths to values, or a pipeline: / inputSet: document",
            )
        )
        return {}
    if "inputSet" in data and isinstance(data["inputSet"], dict):
        data = {"pipeline": data["inputSet"].get("pipeline") or {}}
    if set(data) == {"pipeline"} and isinstance(data["pipeline"], dict):
        return _overlay(raw, _as_resolved(data["pipeline"]), ("pipeline",), str(path), problems)
    return {str(k): v for k, v in data.items()}


def _overlay(
    base: Any, overlay: Any, path: tuple[str | int, ...], where: str, problems: list[Problem]
) -> dict[str, Any]:
    """{input path: value} for every runtime input of base that overlay sets (an input set)."""
    found: dict[str, Any] = {}
    if isinstance(overlay, dict) and isinstance(base, dict):
        for key, value in overlay.items():
            if key == "identifier" and path == ("pipeline",):
                continue
            if key not in base:
                problems.append(
                    Problem(
                        where,
                        format_path((*path, key)),
                        "not in the pipeline: an input set only fills <+input> fields",
                    )
                )
                continue
            found.update(_overlay(base[key], value, (*path, key), where, problems))
    elif isinstance(overlay, list) and isinstance(base, list):
        for position, item in enumerate(overlay):
            index = matching_index(base, item, position)
            if index is None:
                problems.append(
                    Problem(where, format_path((*path, position)), "matches nothing in the pipeline")
                )
                continue
            found.update(_overlay(base[index], item, (*path, index), where, problems))
    elif is_runtime_input(base):
        found[format_path(path)] = overlay
    elif overlay != base and not isinstance(overlay, dict | list):
        problems.append(
            Problem(
                where, format_path(path), f"not a runtime input of the pipeline (its value there is {base!r})"
            )
        )
    return found
