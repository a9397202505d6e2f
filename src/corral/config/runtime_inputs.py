"""Runtime inputs (`<+input>` fields) of the entities and manifests a render touches.

A value given on the command line is matched to an input by its full path
(`service.serviceDefinition.spec.artifacts.primary.sources[0].spec.tag`), or by any tail of
that path that names exactly one input (`spec.tag`, `tag`). Manifest inputs are addressed
as `<manifest identifier>.<path in the manifest>` (`task_def.cpu`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corral.errors import ExpressionError, Problem
from corral.expressions import InputSpec, find_inputs
from corral.expressions.inputs import WHOLE_VALUE, check_input_value

from .entities.common import RUNTIME_INPUT_PREFIX

# What validation puts where a runtime input has no default: the field stays an input, and
# problems about it are not reported (any value may be given at run time).
LATER = RUNTIME_INPUT_PREFIX


@dataclass
class InputTable:
    """Every runtime input found, where it was written, and the values chosen for them."""

    specs: dict[str, InputSpec] = field(default_factory=dict)
    where: dict[str, str] = field(default_factory=dict)  # input path -> file:line
    values: dict[str, Any] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def add(self, value: Any, *, prefix: str, where: str, locate: Callable[[str], str] | None = None) -> None:
        try:
            specs = find_inputs(value)
        except ExpressionError as error:
            # syntax errors are reported where the text is rendered or checked; this one is not
            if error.detail.endswith(WHOLE_VALUE):
                path, _, message = error.detail.rpartition(": ")
                path = f"{prefix}.{path}" if prefix and path else (prefix or path)
                self.problems.append(Problem(locate(path) if locate else where, path, message))
            return
        for spec in specs:
            path = f"{prefix}.{spec.path}" if prefix and spec.path else (prefix or spec.path)
            spec.path = path
            self.specs[path] = spec
            self.where[path] = locate(path) if locate else where

    def match(self, key: str) -> str | None:
        """The input path a user key means: the full path or a unique dotted tail of one."""
        if key in self.specs:
            return key
        tails = [path for path in self.specs if path.endswith(key) and _at_boundary(path, key)]
        return tails[0] if len(tails) == 1 else None

    def assign(self, given: Mapping[str, Any], *, satisfiable: bool) -> None:
        """Choose a value for every input: given, else default, else (validation) a stand-in."""
        for key, value in given.items():
            path = self.match(key)
            if path is None:
                self.problems.append(Problem("--input", key, self._unknown(key)))
                continue
            self.values[path] = value
        for path, spec in self.specs.items():
            if path in self.values:
                continue
            if spec.default is not None:
                try:
                    check_input_value(spec, spec.default, what="default")
                except ExpressionError as error:  # a default its own options refuse
                    message = error.detail.removeprefix(path + ": ")
                    self.problems.append(Problem(self.where[path], path, message))
                    self.values[path] = LATER
                    continue
                self.values[path] = spec.default
            elif satisfiable:
                self.values[path] = spec.allowed_values[0] if spec.allowed_values else LATER
            else:
                hint = f"; allowed values: {', '.join(spec.allowed_values)}" if spec.allowed_values else ""
                self.problems.append(
                    Problem(
                        self.where[path], path, f"missing required input: give --input {path}=VALUE{hint}"
                    )
                )

    def _unknown(self, key: str) -> str:
        candidates = [path for path in self.specs if path.endswith(key.rsplit(".", 1)[-1])]
        if len(candidates) > 1:
            return f"names more than one runtime input ({', '.join(candidates)}); give the full path"
        if self.specs:
            return f"no runtime input at this path; runtime inputs: {', '.join(self.specs)}"
        return "no runtime input at this path: nothing in this service, environment or infrastructure is <+input>"


def _at_boundary(path: str, key: str) -> bool:
    head = path[: len(path) - len(key)]
    return head == "" or head.endswith(".") or key.startswith("[")


def read_inputs_file(path: Path) -> tuple[dict[str, Any], list[Problem]]:
    """`--inputs-file` for a service's inputs: a YAML mapping of input paths (as --input takes
    them) to values. Values are data, as if typed with --input."""
    import yaml

    from .yaml_source import load_text

    try:
        data = load_text(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        return {}, [Problem(str(path), "", f"cannot read the inputs file: {error}")]
    if data is None:
        return {}, []
    if not isinstance(data, dict) or set(data) & {"pipeline", "inputSet"}:
        expected = "expected a mapping of input paths to values (spec.tag: 1.25)"
        if isinstance(data, dict):
            expected += "; a pipeline fragment or input set is for `corral run` and `corral plan`"
        return {}, [Problem(str(path), "", expected)]
    return {str(key): value for key, value in data.items()}, []
