"""Pipeline variable types (String, Number, Secret), as a value given for a variable's
<+input> must fit them: a Number is a number or a numeric string, a Secret the identifier of a
secret of the project, a String any text (a string, number or boolean, not a list or map)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .entities.common import IDENTIFIER_RE, is_runtime_input, strip_scope

if TYPE_CHECKING:
    from .project import Project


def type_problem(project: Project, kind: str, value: Any) -> str | None:
    """What a value of this variable type must be, when value is not one; else None."""
    if kind == "Number":
        return None if _is_number(value) else "a number"
    if kind == "Secret":
        if isinstance(value, str) and IDENTIFIER_RE.match(strip_scope(value)) and project.secret(value):
            return None
        known = ", ".join(sorted(project.secrets)) or "none"
        return f"the identifier of a secret of the project (it has {known})"
    if isinstance(value, dict | list) or value is None:
        return "text (a string, number or boolean)"
    return None


def _is_number(value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return False
    try:
        float(value)
    except ValueError:
        return False
    return True


def variable_types(raw: Mapping[str, Any]) -> dict[str, tuple[str, str]]:
    """{input path: (variable name, type)} for the pipeline's and stages' runtime-input variables."""
    found: dict[str, tuple[str, str]] = {}
    scopes: list[tuple[str, Any]] = [("pipeline.variables", raw.get("variables"))]
    for index, stage in enumerate(raw.get("stages") or []):
        body = stage.get("stage") if isinstance(stage, dict) else None
        if isinstance(body, dict):
            scopes.append((f"pipeline.stages[{index}].stage.variables", body.get("variables")))
    for prefix, variables in scopes:
        for position, variable in enumerate(variables or []):
            if isinstance(variable, dict) and is_runtime_input(variable.get("value")):
                kind = str(variable.get("type") or "String")
                found[f"{prefix}[{position}].value"] = (str(variable.get("name")), kind)
    return found
