"""What expressions see while a pipeline runs, built from the interpreter's state.

    <+pipeline.name|identifier|executionId|sequenceId|startTs>   <+pipeline.variables.x>
    <+stage.name|identifier|variables.x>                         <+step.identifier>
    <+execution.steps.ID.output.x>   <+execution.steps.GROUP.steps.ID.output.x>   <+steps.ID.output.x>
    <+pipeline.stages.ID.spec.execution.steps.ID.output.x>       <+pipeline.stages.ID.status>
    <+stage.spec.provisioner.steps.ID.output.x>   (a step of the stage's environment.provisioner)
    <+service.*> <+env.*> <+infra.*> <+artifact.*> <+serviceVariables.*>   (the stage's target)

Steps inside groups are also reachable by their identifier alone (identifiers are unique in a
stage). Secrets stay `<+secrets.getValue(...)>` here: only the executor, where the step runs,
fills them in, so no secret passes through the interpreter, its journal or its commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from corral.expressions import ExpressionContext, Mode, render
from corral.expressions.shell_quoting import RUNTIME_VALUES, render_script, script_of, with_script
from corral.expressions.taint import runtime_text

from .literal_inputs import protect

SHELL_SCRIPT = "ShellScript"
# steps whose script gets run-time values as environment variables, never as shell text
SCRIPT_STEPS = frozenset({SHELL_SCRIPT, "ShellScriptProvision"})
EXECUTION = "execution"  # the section of a stage a step belongs to (interpreter.py)
PROVISIONER = "provisioner"

# references the interpreter leaves for later: secrets (the executor), the Blue Green target
# group (the ECS step), the response of an Http step (the step's own assertion and outputs)
KEEP_FOR_LATER = frozenset(
    {"secrets", "targetGroupArn", "httpResponseCode", "httpResponseBody", "httpResponseHeaders"}
)


def render_for_step(value: Any, values: Mapping[str, Any], *, path: str = "") -> Any:
    """value with every expression the interpreter can answer replaced; ExpressionError otherwise."""
    return render(value, ExpressionContext(values=values, keep=KEEP_FOR_LATER), mode=Mode.FAIL, path=path)


def mark_runtime_inputs(pipeline: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """The `pipeline:` mapping of a snapshot with the values given at run time marked again
    (expressions/taint.py): the marks do not survive the store, the paths do."""
    from corral.config.problems import split_path

    marked: dict[str, Any] = dict(pipeline)
    for path in paths:
        parts = split_path(path)
        if parts[:1] == ("pipeline",) and len(parts) > 1:
            marked = _marked_at(marked, parts[1:])
    return marked


def mark_stage_inputs(values: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """A stage target's values (`env`, `serviceVariables`, `artifacts`) with those that came
    from an entity's run-time input marked (the target's `runtimeValues`, dotted paths): a
    ShellScript gets them as data, never as shell text, like the pipeline's own inputs."""
    from corral.config.problems import split_path

    marked: dict[str, Any] = dict(values)
    for path in paths:
        marked = _marked_at(marked, split_path(path))
    return marked


def _marked_at(node: Any, parts: tuple[str | int, ...]) -> Any:
    """A copy of node along parts, the value at the end marked as a run-time input."""
    if not parts:
        return runtime_text(node)
    key = parts[0]
    if isinstance(node, dict) and key in node:
        return {**node, key: _marked_at(node[key], parts[1:])}
    if isinstance(node, list) and isinstance(key, int) and 0 <= key < len(node):
        return [*node[:key], _marked_at(node[key], parts[1:]), *node[key + 1 :]]
    return node


def render_step_spec(
    step_type: str, spec: dict[str, Any], values: Mapping[str, Any], *, path: str = ""
) -> Any:
    """render_for_step, except that a ShellScript body gets run-time input values as
    references to environment variables, never as shell text (shell_quoting.py)."""
    script = script_of(spec)
    if step_type not in SCRIPT_STEPS or not isinstance(script, str):
        return render_for_step(spec, values, path=path)
    rendered = render_for_step(with_script(spec, ""), values, path=path)
    ctx = ExpressionContext(values=values, keep=KEEP_FOR_LATER)
    text, environment = render_script(script, ctx, path=f"{path}.source.spec.script")
    return {**with_script(rendered, text), RUNTIME_VALUES: environment}


def variable_values(
    variables: Iterable[Mapping[str, Any]], values: Mapping[str, Any], path: str
) -> dict[str, Any]:
    """`variables: [{name, type, value}]` as a mapping; Secret variables stay references."""
    out: dict[str, Any] = {}
    for index, variable in enumerate(variables):
        name = str(variable["name"])
        value = variable.get("value")
        kind = variable.get("type", "String")
        if kind == "Secret" and isinstance(value, str) and "<+" not in value:
            out[name] = f'<+secrets.getValue("{value}")>'
            continue
        value = render_for_step(value, {**values, "variables": out}, path=f"{path}[{index}].value")
        if kind == "Number" and isinstance(value, str):
            try:
                number = float(value)
                value = int(number) if number.is_integer() else number
            except ValueError:
                pass
        out[name] = value
    return out


def step_entry(step: Mapping[str, Any]) -> dict[str, Any]:
    outputs = dict(step.get("outputs") or {})
    # what a step produced is data, as a run-time input is: what a script printed (maybe a
    # deployer's value it passed on), an Http answer, an approver's inputs and comment. A later
    # step's script refers to it, never runs it as shell code, and no later rendering reads
    # `<+...>` in it (the marks do not survive the journal, so they are made again here)
    outputs = runtime_text(protect(outputs))
    output = {**outputs}
    output.setdefault("outputVariables", outputs)
    return {
        "identifier": step["identifier"],
        "name": step["name"],
        "type": step["type"],
        "status": step["status"],
        "output": output,
    }


def steps_tree(steps: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """{id: entry} for every step, and groups as {id: {..., steps: {...}}}; rollback steps included."""
    tree: dict[str, Any] = {}
    flat: dict[str, Any] = {}
    for step in steps:
        entry = step.get("entry")
        if entry is None:
            entry = step_entry(step)
            if isinstance(step, dict) and "entry" in step:
                step["entry"] = entry  # kept until the step changes
        node = tree
        for group in step["groups"]:
            holder = node.setdefault(group, {"identifier": group, "steps": {}})
            node = holder.setdefault("steps", {})
        node[step["identifier"]] = entry
        flat[step["identifier"]] = entry
    for identifier, entry in flat.items():
        tree.setdefault(identifier, entry)
    return tree


def stage_entry(stage: Mapping[str, Any]) -> dict[str, Any]:
    every = list(stage["steps"])
    steps = steps_tree(s for s in every if s.get("section", EXECUTION) == EXECUTION)
    provisioner = steps_tree(s for s in every if s.get("section") == PROVISIONER)
    return {
        "identifier": stage["identifier"],
        "name": stage["name"],
        "type": stage["type"],
        "description": stage.get("description", ""),
        "tags": stage.get("tags", {}),
        "status": stage["status"],
        "variables": stage["variables"],
        "spec": {"execution": {"steps": steps}, "provisioner": {"steps": provisioner}},
    }


def masked(value: Any, masker: Callable[[str], str]) -> Any:
    """value with every secret read so far replaced, in every string: outputs are journaled."""
    if isinstance(value, str):
        return masker(value)
    if isinstance(value, dict):
        return {k: masked(v, masker) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v, masker) for v in value]
    return value


# the fields of an executor's events that carry text a step or an exception produced
_TEXT_FIELDS = ("error", "comment", "outputs")


def masked_event(event: Any, masker: Callable[[str], str]) -> Any:
    """event with every secret hidden in its error, comment and outputs, before it is journaled,
    stored, served or sent: an exception's text may quote a secret."""
    import dataclasses

    if not dataclasses.is_dataclass(event) or isinstance(event, type):
        return event
    names = {f.name for f in dataclasses.fields(event)}
    changes = {
        name: masked(getattr(event, name), masker)
        for name in _TEXT_FIELDS
        if name in names and getattr(event, name) is not None
    }
    return dataclasses.replace(event, **changes) if changes else event


def has_expression(value: Any) -> bool:
    if isinstance(value, str):
        return "<+" in value
    if isinstance(value, dict):
        return any(has_expression(v) for v in value.values())
    if isinstance(value, list):
        return any(has_expression(v) for v in value)
    return False
