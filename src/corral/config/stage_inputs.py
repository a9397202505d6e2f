"""Stage inputs: what a Deployment stage gives the run-time inputs of its service, environment
and infrastructure, in the shapes Harness's pipeline editor writes:

    service:
      serviceRef: web                      # or <+input>: asked for, the project's services offered
      serviceInputs:                       # the service's <+input> fields, in the service's own shape
        serviceDefinition:
          type: ECS
          spec:
            artifacts:
              primary:
                sources:
                  - identifier: nginx
                    type: DockerRegistry
                    spec:
                      tag: "1.25"          # fixed here: the run does not ask for it
    environment:
      environmentRef: prod                 # or <+input>
      environmentInputs:                   # the environment's: {identifier, type, variables, overrides}
        variables: [{name: replicas, type: String, value: "3"}]
      serviceOverrideInputs:               # the environment's serviceOverrides of this service
        variables: [{name: color, type: String, value: blue}]
      infrastructureDefinitions:           # or <+input>: one identifier, the environment's offered
        - identifier: ecs_prod
          inputs: {identifier: ecs_prod, type: ECS, spec: {cluster: prod}}

A fixed value fills the entity's `<+input>` at the same place (list items are matched by
`identifier` or `name`); `<+input>` there (the whole mapping or one field) means "ask for the
inputs the chosen entity declares", which a run does anyway: it is no input of the pipeline.
A fixed value where the entity has no `<+input>` is a problem (Harness accepts only inputs
there). `useFromStage` takes the service and its serviceInputs of the stage it names.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from corral.errors import Problem, format_path
from corral.expressions import InputSpec

from .entities.common import is_runtime_input, strip_scope
from .problems import split_path
from .project import Project

# the fields of a stage whose `<+input>` means the chosen entity's own inputs
_FRAGMENT = re.compile(
    r"\.spec\.(service\.serviceInputs|environment\.environmentInputs|environment\.serviceOverrideInputs"
    r"|environment\.infrastructureDefinitions\[\d+\]\.inputs)(?=$|[.\[])"
)
_SERVICE_REF = re.compile(r"\.spec\.service\.serviceRef$")
_ENVIRONMENT_REF = re.compile(r"\.spec\.environment\.environmentRef$")
_INFRAS = re.compile(r"\.spec\.environment\.infrastructureDefinitions$")
# TargetRef.inputs keys -> the stage field they come from
FIELDS = {
    "service": "service.serviceInputs",
    "environment": "environment.environmentInputs",
    "serviceOverrides": "environment.serviceOverrideInputs",
    "infrastructure": "environment.infrastructureDefinitions[0].inputs",
}
# a list item left `<+input>` in a stage input (no expression: the stage renders its inputs)
_ASK = {"askedAtRun": True}
_HEADER = ("identifier", "type", "name", "environmentRef", "serviceRef", "deploymentType")


def is_fragment_input(path: str) -> bool:
    """True for an `<+input>` in serviceInputs, environmentInputs, serviceOverrideInputs or an
    infrastructure's `inputs` (or inside one): the entity's own inputs are asked instead."""
    return _FRAGMENT.search(path) is not None


def with_choices(project: Project, document: Mapping[str, Any], specs: list[InputSpec]) -> list[InputSpec]:
    """The pipeline's own run-time inputs: stage-input fragments left out, and `serviceRef`,
    `environmentRef` and `infrastructureDefinitions` given the project's identifiers as choices."""
    out = []
    for spec in specs:
        if is_fragment_input(spec.path):
            continue
        if spec.allowed_values is None:
            choices = _choices(project, document, spec.path)
            if choices:
                spec.allowed_values = choices
        out.append(spec)
    return out


def _choices(project: Project, document: Mapping[str, Any], path: str) -> list[str] | None:
    if _SERVICE_REF.search(path):
        return sorted(project.services)
    if _ENVIRONMENT_REF.search(path):
        return sorted(project.environments)
    if _INFRAS.search(path):
        env = _value_at(document, (*split_path(path)[:-1], "environmentRef"))
        if isinstance(env, str) and not env.startswith("<+"):
            return sorted(i.identifier for i in project.infrastructures_of(strip_scope(env)))
        return sorted({infra for _, infra in project.infrastructures})
    return None


def infrastructure_identifier(value: Any) -> Any:
    """Harness's own value for `infrastructureDefinitions: <+input>` (`[{identifier: x}]`, as its
    input sets write it) as the identifier the choices name; anything else as it is."""
    if isinstance(value, list) and len(value) == 1 and isinstance(value[0], Mapping):
        identifier = value[0].get("identifier")
        if isinstance(identifier, str):
            return identifier
    return value


def infrastructure_list(value: Any) -> Any:
    """A value given for `infrastructureDefinitions: <+input>`: an identifier becomes the list
    Harness writes (`[{identifier: x}]`)."""
    if isinstance(value, str) and value and "<+" not in value:
        return [{"identifier": value}]
    return value


def stage_fragments(spec: Mapping[str, Any], path: str, earlier: Mapping[str, Any]) -> dict[str, Any]:
    """The fixed stage inputs of a stage `spec` at YAML `path`: {kind: {"at": path, "value": {...}}}.
    earlier: the fragments of the stages before, by identifier (for useFromStage)."""
    found: dict[str, Any] = {}
    service = given if isinstance(given := spec.get("service"), Mapping) else {}
    environment = given if isinstance(given := spec.get("environment"), Mapping) else {}
    use_from = service.get("useFromStage") if isinstance(service, Mapping) else None
    if isinstance(use_from, Mapping) and not service.get("serviceRef"):
        source = earlier.get(str(use_from.get("stage")), {})
        if "service" in source:
            found["service"] = source["service"]
    values = {
        "service": service.get("serviceInputs"),
        "environment": environment.get("environmentInputs"),
        "serviceOverrides": environment.get("serviceOverrideInputs"),
    }
    infras = environment.get("infrastructureDefinitions")
    if isinstance(infras, list) and infras and isinstance(infras[0], Mapping):
        values["infrastructure"] = infras[0].get("inputs")
    for kind, value in values.items():
        if isinstance(value, Mapping):
            found[kind] = {"at": f"{path}.spec.{FIELDS[kind]}", "value": _fixed_only(value)}
    return found


def _fixed_only(value: Any) -> Any:
    """value without its `<+input>` leaves: those are asked for as the entity's own inputs."""
    if isinstance(value, Mapping):
        return {k: _fixed_only(v) for k, v in value.items() if not is_runtime_input(v)}
    if isinstance(value, list):  # an item keeps its place: later items match by position
        return [_ASK if is_runtime_input(item) else _fixed_only(item) for item in value]
    return value


def fixed_inputs(
    project: Project,
    fragments: Mapping[str, Any],
    service_id: str,
    env_id: str,
    infra_id: str,
    *,
    file: str = "",
) -> tuple[dict[str, Any], list[Problem]]:
    """{input path: value} for the entities' run-time inputs a stage fixes, as `--input` takes
    them (`service.serviceDefinition.spec.artifacts.primary.sources[0].spec.tag`); problems name
    the pipeline file and the fragment's path."""
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    bases: dict[str, tuple[tuple[str | int, ...], Any, str]] = {}
    if service_id in project.services:
        bases["service"] = (
            ("service",),
            project.services[service_id].raw["service"],
            f"service '{service_id}'",
        )
    if env_id in project.environments:
        env = project.environments[env_id].raw["environment"]
        bases["environment"] = (("environment",), env, f"environment '{env_id}'")
        overrides = env.get("serviceOverrides") if isinstance(env, Mapping) else None
        for index, item in enumerate(overrides if isinstance(overrides, list) else []):
            if isinstance(item, Mapping) and strip_scope(str(item.get("serviceRef", ""))) == service_id:
                where = ("environment", "serviceOverrides", index)
                bases["serviceOverrides"] = (
                    where,
                    item,
                    f"the service overrides of '{service_id}' in '{env_id}'",
                )
    infra = project.infrastructures.get((env_id, infra_id))
    if infra is not None:
        body = infra.raw["infrastructureDefinition"]
        bases["infrastructure"] = (("infrastructureDefinition",), body, f"infrastructure '{infra_id}'")
    for kind, fragment in fragments.items():
        at, value = str(fragment.get("at", "")), fragment.get("value")
        if value is None or value == {} or value == []:
            continue  # Harness's input sets write `serviceOverrideInputs: {}` where nothing is asked
        if kind not in bases:
            problems.append(
                Problem(file, at, f"nothing here takes inputs: no {_what(kind, service_id, env_id)}")
            )
            continue
        prefix, base, what = bases[kind]
        _overlay(base, value, prefix, at, what, values, problems, file)
    return values, problems


def _what(kind: str, service_id: str, env_id: str) -> str:
    if kind == "serviceOverrides":
        return f"serviceOverrides of '{service_id}' in environment '{env_id}' (inline in the environment)"
    return kind


def _overlay(
    base: Any,
    given: Any,
    path: tuple[str | int, ...],
    at: str,
    what: str,
    found: dict[str, Any],
    problems: list[Problem],
    file: str,
) -> None:
    if is_runtime_input(given) or given == _ASK:
        return  # asked for as the entity's own input
    if is_runtime_input(base):
        found[format_path(path)] = given
    elif isinstance(given, Mapping) and isinstance(base, Mapping):
        for key, value in given.items():
            if key not in base:
                if key in _HEADER:
                    continue
                problems.append(Problem(file, f"{at}.{key}", f"{what} has no field '{key}' here"))
                continue
            _overlay(base[key], value, (*path, key), f"{at}.{key}", what, found, problems, file)
    elif isinstance(given, list) and isinstance(base, list):
        for position, item in enumerate(given):
            index = _find(base, item, position)
            here = f"{at}[{position}]"
            if index is None:
                problems.append(Problem(file, here, f"matches nothing in {what}"))
                continue
            _overlay(base[index], item, (*path, index), here, what, found, problems, file)
    elif given != base and not (isinstance(given, str | int | float) and str(given) == str(base)):
        problems.append(
            Problem(
                file,
                at,
                f"not a run-time input of {what} (its value there is {base!r}): only <+input> fields take a value",
            )
        )


def _find(base: list[Any], item: Any, position: int) -> int | None:
    for key in ("identifier", "name"):
        if isinstance(item, Mapping) and key in item:
            return next(
                (i for i, c in enumerate(base) if isinstance(c, Mapping) and c.get(key) == item[key]), None
            )
    if isinstance(item, Mapping):  # `- manifest: {identifier: ...}` / `- source: ...` wrappers
        for wrapper, inner in item.items():
            if isinstance(inner, Mapping) and "identifier" in inner:
                return next(
                    (
                        i
                        for i, c in enumerate(base)
                        if isinstance(c, Mapping)
                        and isinstance(c.get(wrapper), Mapping)
                        and c[wrapper].get("identifier") == inner["identifier"]
                    ),
                    None,
                )
    return position if position < len(base) else None


def _value_at(document: Any, parts: tuple[str | int, ...]) -> Any:
    for part in parts:
        if isinstance(document, Mapping) and isinstance(part, str):
            document = document.get(part)
        elif isinstance(document, list) and isinstance(part, int) and part < len(document):
            document = document[part]
        else:
            return None
    return document
