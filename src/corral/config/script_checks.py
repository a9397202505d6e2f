"""What `corral validate` can tell about ShellScript bodies before any run: where no run-time
value could ever go (the rules are in expressions/shell_quoting.py, which a run applies)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from corral.errors import ExpressionError, Problem, format_path
from corral.expressions.context import ExpressionContext, Mode
from corral.expressions.shell_quoting import SCRIPT_PATH, ShellQuotingError, render_script, script_of
from corral.expressions.taint import runtime_text

from .entities.common import is_runtime_input

if TYPE_CHECKING:
    from .project import Project

SCRIPT_STEPS = ("ShellScript", "ShellScriptProvision")  # their bodies take run-time values alike


def script_problems(project: Project) -> list[Problem]:
    """ShellScript bodies that refuse any run-time value: a run-time input as the whole script,
    or one standing where bash expects a command or right after a backslash."""
    problems: list[Problem] = []
    for pipeline in project.pipelines.values():
        raw = pipeline.raw.get("pipeline") or {}
        _scripts(raw, ("pipeline",), {"pipeline": {"variables": _inputs_of(raw)}}, problems, pipeline)
    return problems


def _inputs_of(body: Any) -> dict[str, Any]:
    """A run-time stand-in for each variable whose value is <+input>."""
    variables = body.get("variables") if isinstance(body, dict) else None
    return {
        str(v["name"]): runtime_text("0")
        for v in variables or []
        if isinstance(v, dict) and "name" in v and is_runtime_input(v.get("value"))
    }


def _scripts(
    node: Any,
    parts: tuple[str | int, ...],
    values: dict[str, Any],
    problems: list[Problem],
    pipeline: Any,
) -> None:
    if isinstance(node, list):
        for index, item in enumerate(node):
            _scripts(item, (*parts, index), values, problems, pipeline)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("stage"), dict):
        values = {**values, "stage": {"variables": _inputs_of(node["stage"])}}
    step = node.get("step")
    if isinstance(step, dict) and step.get("type") in SCRIPT_STEPS and isinstance(step.get("spec"), dict):
        where = (*parts, "step", "spec", *SCRIPT_PATH)
        problem = _script_problem(script_of(step["spec"]), values)
        if problem:
            problems.append(Problem(pipeline.where(where), format_path(where), problem))
    for key, item in node.items():
        if key != "step":
            _scripts(item, (*parts, key), values, problems, pipeline)


def _script_problem(script: Any, values: dict[str, Any]) -> str | None:
    if is_runtime_input(script):
        return (
            "the script's text cannot be a run-time input: run-time inputs are data; write the "
            "script in the pipeline and pass the value in a variable"
        )
    if not isinstance(script, str) or "<+" not in script:
        return None
    try:
        render_script(script, ExpressionContext(values=values, keep=frozenset()), path="", mode=Mode.KEEP)
    except ShellQuotingError as error:
        return error.detail
    except ExpressionError:
        return None  # about the expression itself (its syntax is checked elsewhere) or a stand-in
    return None
