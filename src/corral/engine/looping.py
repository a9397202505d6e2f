"""Looping strategies: `strategy:` on a stage, a step group or a step, as Harness writes it.

    strategy:
      matrix:                       # every combination of the axes, less `exclude`
        service: [web, api]
        weight: [50, 100]
        exclude: [{service: api, weight: 50}]
        maxConcurrency: 2           # at most two iterations at once; the rest wait their turn
        nodeName: <+matrix.service>_<+matrix.weight>
    strategy: {repeat: {times: 3}}                  # or items: [a, b], start/end, unit
    strategy: {parallelism: 4}

`iterations(strategy)` turns one into the list of `Iteration`s the plan builder makes nodes
of, each with the values its expressions read (`<+matrix.KEY>`, `<+repeat.item>`,
`<+strategy.iteration>`, `<+strategy.iterations>`, `<+strategy.identifierPostFix>`) and the
postfix Harness appends to the identifier (`_0`, `_1`, ... for repeat and parallelism, the
axis value indices for a matrix (`_0_1`), or `_` + the rendered `nodeName`), so that an
iteration's outputs are addressed as Harness addresses them
(`<+pipeline.stages.deploy_1.spec.execution.steps.smoke_0.output...>`).

The lists must be known when the execution starts: written in the pipeline, given as run-time
inputs, or expressions over what the start knows (`<+pipeline.variables.tickets>.split(',')`,
`[<+pipeline.variables.a>, <+project.identifier>]`), which `resolve_lists` writes into the
execution's snapshot as plain lists before its plan is built. Until then (`corral validate`,
`plan`) such a strategy stands for one iteration. What Corral cannot expand is a LoopError,
never a silent single run.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

MATRIX_KEYS = frozenset({"exclude", "maxConcurrency", "nodeName", "batchSize"})
REPEAT_FIELDS = frozenset(
    {"times", "items", "maxConcurrency", "start", "end", "unit", "nodeName", "partitionSize"}
)
STRATEGY_KINDS = ("matrix", "repeat", "parallelism")
MAX_ITERATIONS = 256  # a pipeline that needs more is a mistake, not a deployment
_RUNTIME_INPUT = re.compile(r"^<\+input>")
# what an expression in a strategy may read: values known when the execution starts
START_ROOTS = frozenset({"pipeline", "account", "org", "project"})
_TRAILING_METHOD = re.compile(r"^(<\+.*>)(\.[A-Za-z_][A-Za-z0-9_]*\(.*\))$", re.DOTALL)
_ROOTS = re.compile(r"<\+\s*([A-Za-z_][A-Za-z0-9_]*)")
_NODE_NAME_EXPRESSION = re.compile(
    r"<\+\s*(matrix\.[A-Za-z_][A-Za-z0-9_]*|repeat\.item|strategy\.iterations?)\s*>"
)
_IDENTIFIER_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


class LoopError(ValueError):
    """A strategy that cannot be expanded; `path` is relative to the `strategy:` mapping."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class Iteration:
    """One run of a looped stage, step group or step: what its expressions see."""

    kind: str  # matrix | repeat | parallelism
    iteration: int
    iterations: int
    postfix: str
    matrix: Mapping[str, Any] = field(default_factory=dict)
    item: Any = None
    stand_in: bool = False  # validate: the list is a run-time input, not known yet
    level: str = ""  # stage | stepGroup | step: whose strategy made it

    def strategy_values(self) -> dict[str, Any]:
        """`<+strategy.*>` for a node of this iteration."""
        return {
            "iteration": self.iteration,
            "iterations": self.iterations,
            "totalIterations": self.iterations,
            "identifierPostFix": self.postfix,
            "matrix": dict(self.matrix),
            "repeat": {"item": self.item} if self.kind == "repeat" else {},
        }


@dataclass(frozen=True)
class Loop:
    iterations: tuple[Iteration, ...]
    max_concurrency: int  # 0: all at once


def _at_start(value: Any, path: str) -> bool:
    """True when value is an expression resolved when the execution starts (stand in until
    then); LoopError when it reads what only a running pipeline knows."""
    if not isinstance(value, str) or "<+" not in value:
        return False
    if _RUNTIME_INPUT.match(value.strip()):
        return True
    roots = set(_ROOTS.findall(value))
    if "secrets" in roots:
        raise LoopError(
            path, "a looping strategy may not iterate over secrets (iterations are named by their values)"
        )
    late = sorted(roots - START_ROOTS)
    if late:
        raise LoopError(
            path,
            f"<+{late[0]}...> is known only while the pipeline runs; a looping strategy's values must "
            "be known when the execution starts (pipeline variables, run-time inputs)",
        )
    return True


def expand(strategy: Any) -> Loop:
    """The iterations of a `strategy:` mapping; LoopError naming the field that is wrong."""
    if _at_start(strategy, ""):
        return Loop((Iteration("repeat", 0, 1, "_0", stand_in=True),), 0)
    if not isinstance(strategy, Mapping):
        raise LoopError("", "expected a mapping with one of matrix, repeat or parallelism")
    kinds = [k for k in STRATEGY_KINDS if k in strategy]
    unknown = [str(k) for k in strategy if k not in (*STRATEGY_KINDS, "maxConcurrency")]
    if unknown:
        raise LoopError(
            str(unknown[0]),
            f"unknown looping strategy field {unknown[0]!r}; expected one of {', '.join(STRATEGY_KINDS)}",
        )
    if len(kinds) != 1:
        raise LoopError("", f"expected exactly one of {', '.join(STRATEGY_KINDS)}, got {len(kinds)}")
    kind = kinds[0]
    # Harness's own examples write maxConcurrency beside the strategy as well as inside it
    outer = _concurrency(strategy, "maxConcurrency")
    loop = _expand(kind, strategy[kind])
    inner = loop.max_concurrency
    if outer and inner and outer != inner:
        raise LoopError("maxConcurrency", f"{outer} here and {inner} inside {kind}: give one")
    return Loop(loop.iterations, inner or outer)


def _expand(kind: str, raw: Any) -> Loop:
    if kind == "parallelism":
        count = _whole(raw, "parallelism", minimum=1)
        if count is None:
            return Loop((Iteration("parallelism", 0, 1, "_0", stand_in=True),), 0)
        _bounded(count, "parallelism")
        return Loop(tuple(Iteration("parallelism", i, count, f"_{i}") for i in range(count)), 0)
    if kind == "repeat":
        return _repeat(raw)
    return _matrix(raw)


def _repeat(raw: Any) -> Loop:
    if _at_start(raw, "repeat"):
        return Loop((Iteration("repeat", 0, 1, "_0", item="", stand_in=True),), 0)
    if not isinstance(raw, Mapping):
        raise LoopError("repeat", "expected a mapping with times or items")
    for key in raw:
        if key not in REPEAT_FIELDS:
            raise LoopError(
                f"repeat.{key}",
                f"unknown repeat field {key!r}; expected one of {', '.join(sorted(REPEAT_FIELDS))}",
            )
    for key in ("partitionSize", "unit"):
        if key in raw:
            raise LoopError(
                f"repeat.{key}",
                f"repeat.{key} (Harness's partitioning of hosts for SSH/WinRM deployments) is not "
                "supported by Corral, which deploys to ECS",
            )
    concurrency = _concurrency(raw, "repeat.maxConcurrency")
    has_times, has_items = "times" in raw, "items" in raw
    if has_times == has_items:
        raise LoopError("repeat", "expected exactly one of times or items")
    if has_items:
        items = raw["items"]
        if _at_start(items, "repeat.items"):
            return Loop((Iteration("repeat", 0, 1, "_0", item="", stand_in=True),), concurrency)
        if not isinstance(items, list):
            raise LoopError("repeat.items", "expected a list of values, or an expression that gives one")
        for index, item in enumerate(items):
            _at_start(item, f"repeat.items[{index}]")
        values = list(items)
    else:
        times = _whole(raw["times"], "repeat.times", minimum=0)
        if times is None:
            return Loop((Iteration("repeat", 0, 1, "_0", item=0, stand_in=True),), concurrency)
        values = list(range(times))
    start = _whole(raw.get("start", 0), "repeat.start", minimum=0) or 0
    end = _whole(raw.get("end", len(values)), "repeat.end", minimum=0)
    end = len(values) if end is None else min(end, len(values))
    if start > end:
        raise LoopError("repeat.start", f"start ({start}) is after end ({end})")
    chosen = values[start:end]
    _bounded(len(chosen), "repeat")
    iterations = []
    for offset, value in enumerate(chosen):
        index = start + offset
        postfix = f"_{index}"
        base = Iteration("repeat", offset, len(chosen), postfix, item=value if has_items else index)
        if raw.get("nodeName"):
            base = _named(base, raw["nodeName"], "repeat.nodeName")
        iterations.append(base)
    return Loop(tuple(iterations), concurrency)


def _matrix(raw: Any) -> Loop:
    if _at_start(raw, "matrix"):
        return Loop((Iteration("matrix", 0, 1, "_0", stand_in=True),), 0)
    if not isinstance(raw, Mapping):
        raise LoopError("matrix", "expected a mapping of axes (name: [values]) with optional exclude")
    axes: dict[str, list[Any]] = {}
    stand_in = False
    for key, values in raw.items():
        if key in MATRIX_KEYS:
            continue
        if _at_start(values, f"matrix.{key}"):
            axes[str(key)] = [""]
            stand_in = True
            continue
        if not isinstance(values, list) or not values:
            raise LoopError(
                f"matrix.{key}", "expected a non-empty list of values, or an expression that gives one"
            )
        for index, value in enumerate(values):
            _at_start(value, f"matrix.{key}[{index}]")
        axes[str(key)] = list(values)
    if not axes:
        raise LoopError("matrix", "expected at least one axis (name: [values])")
    concurrency = _concurrency(raw, "matrix.maxConcurrency")
    excludes = raw.get("exclude") or []
    if not isinstance(excludes, list) or not all(isinstance(e, Mapping) for e in excludes):
        raise LoopError("matrix.exclude", "expected a list of mappings (axis: value)")
    for position, rule in enumerate(excludes):
        for key in rule:
            if str(key) not in axes:
                raise LoopError(
                    f"matrix.exclude[{position}].{key}",
                    f"{key!r} is not an axis of this matrix; axes: {', '.join(axes)}",
                )
    names = list(axes)
    combinations = []
    for indices in itertools.product(*(range(len(axes[n])) for n in names)):
        values = {n: axes[n][i] for n, i in zip(names, indices, strict=True)}
        if any(all(_same(values[str(k)], v) for k, v in rule.items()) for rule in excludes):
            continue
        combinations.append((indices, values))
    if not combinations:
        raise LoopError("matrix.exclude", "every combination of the axes is excluded: nothing would run")
    _bounded(len(combinations), "matrix")
    iterations = []
    for number, (indices, values) in enumerate(combinations):
        postfix = "_" + "_".join(str(i) for i in indices)
        iteration = Iteration("matrix", number, len(combinations), postfix, matrix=values, stand_in=stand_in)
        if raw.get("nodeName"):
            iteration = _named(iteration, raw["nodeName"], "matrix.nodeName")
        iterations.append(iteration)
    return Loop(tuple(iterations), concurrency)


def fill(text: str, iteration: Iteration, path: str = "") -> str:
    """text with the iteration's `<+matrix.KEY>`, `<+repeat.item>`, `<+strategy.iteration(s)>`
    written in: for what is decided when the plan is built (node names, a stage's service)."""
    if iteration.stand_in:
        return text

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("matrix."):
            key = name.split(".", 1)[1]
            if key not in iteration.matrix:
                raise LoopError(path, f"<+{name}> is not an axis of this matrix")
            return str(iteration.matrix[key])
        if name == "repeat.item":
            return str(iteration.item)
        return str(iteration.iterations if name.endswith("iterations") else iteration.iteration)

    return _NODE_NAME_EXPRESSION.sub(value, text)


def _named(iteration: Iteration, template: Any, path: str) -> Iteration:
    """nodeName rendered with the iteration's own values: the postfix becomes `_NAME`."""
    if iteration.stand_in:
        return iteration
    rendered = fill(str(template), iteration, path)
    if "<+" in rendered:
        raise LoopError(
            path,
            "nodeName may use <+matrix.KEY>, <+repeat.item>, <+strategy.iteration> and "
            "<+strategy.iterations> only",
        )
    return Iteration(
        iteration.kind,
        iteration.iteration,
        iteration.iterations,
        "_" + _IDENTIFIER_UNSAFE.sub("_", rendered),
        matrix=iteration.matrix,
        item=iteration.item,
        stand_in=iteration.stand_in,
    )


def _same(value: Any, wanted: Any) -> bool:
    return value == wanted or str(value) == str(wanted)


def _concurrency(raw: Mapping[str, Any], path: str) -> int:
    if "maxConcurrency" not in raw:
        return 0
    value = _whole(raw["maxConcurrency"], path, minimum=0)
    return 0 if value is None else value


def _whole(value: Any, path: str, *, minimum: int) -> int | None:
    """A whole number (also as text, as run-time inputs arrive); None for `<+input>` not given."""
    if isinstance(value, str):
        text = value.replace("\u2060", "").strip()
        if _at_start(text, path):
            return None
        if text.isdigit():
            value = int(text)
    if isinstance(value, bool) or not isinstance(value, int):
        raise LoopError(path, f"expected a whole number, got {value!r}")
    if value < minimum:
        raise LoopError(path, f"expected a whole number of at least {minimum}, got {value}")
    return value


def _bounded(count: int, path: str) -> None:
    if count > MAX_ITERATIONS:
        raise LoopError(path, f"{count} iterations; Corral runs at most {MAX_ITERATIONS} from one strategy")


def loop_values(loops: Sequence[Iteration]) -> dict[str, Any]:
    """What expressions read in a node that runs inside `loops` (outermost first): matrix
    values of every level (the innermost wins a shared name, as in Harness), the innermost
    repeat's item, and the innermost iteration's counts and postfix."""
    matrix: dict[str, Any] = {}
    repeat: dict[str, Any] = {}
    for iteration in loops:
        matrix.update(iteration.matrix)
        if iteration.kind == "repeat":
            repeat = {"item": iteration.item}
    strategy = loops[-1].strategy_values()
    strategy["matrix"], strategy["repeat"] = dict(matrix), dict(repeat)
    values: dict[str, Any] = {"matrix": matrix, "repeat": repeat, "strategy": strategy}
    groups = [i for i in loops if i.level == "stepGroup"]
    if groups:  # <+stepGroup.identifierPostFix>: the innermost looped group's
        values["stepGroup"] = {"identifierPostFix": groups[-1].postfix}
    return values


# -- at the start of an execution -------------------------------------------------------------

Evaluate = Callable[[str, str], Any]  # (expression text, path) -> value; raises on failure


def resolve_lists(pipeline: Mapping[str, Any], evaluate: Evaluate) -> dict[str, Any]:
    """The `pipeline:` mapping with every expression in a looping strategy replaced by its value
    (a list; text that is a JSON list; a whole number for times and parallelism), so that the
    execution's snapshot, and every plan built from it, holds plain lists."""
    resolved: dict[str, Any] = _walk(pipeline, ("pipeline",), evaluate)
    return resolved


def _walk(node: Any, path: tuple[str | int, ...], evaluate: Evaluate) -> Any:
    if isinstance(node, list):
        return [_walk(item, (*path, index), evaluate) for index, item in enumerate(node)]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        here = (*path, str(key))
        if key == "strategy" and value is not None:
            out[key] = _strategy(value, here, evaluate)
        else:
            out[key] = _walk(value, here, evaluate)
    return out


def _strategy(raw: Any, path: tuple[str | int, ...], evaluate: Evaluate) -> Any:
    raw = _value(raw, path, evaluate, kind="map")
    if not isinstance(raw, Mapping):
        return raw
    out = dict(raw)
    if "parallelism" in out:
        out["parallelism"] = _value(out["parallelism"], (*path, "parallelism"), evaluate, kind="int")
    if isinstance(out.get("repeat"), Mapping | str):
        repeat = _value(out["repeat"], (*path, "repeat"), evaluate, kind="map")
        if isinstance(repeat, Mapping):
            repeat = dict(repeat)
            if "times" in repeat:
                repeat["times"] = _value(repeat["times"], (*path, "repeat", "times"), evaluate, kind="int")
            if "items" in repeat:
                repeat["items"] = _list(repeat["items"], (*path, "repeat", "items"), evaluate)
        out["repeat"] = repeat
    if isinstance(out.get("matrix"), Mapping | str):
        matrix = _value(out["matrix"], (*path, "matrix"), evaluate, kind="map")
        if isinstance(matrix, Mapping):
            matrix = {
                key: value if key in MATRIX_KEYS else _list(value, (*path, "matrix", str(key)), evaluate)
                for key, value in matrix.items()
            }
        out["matrix"] = matrix
    return out


def _list(value: Any, path: tuple[str | int, ...], evaluate: Evaluate) -> Any:
    value = _value(value, path, evaluate, kind="list")
    if isinstance(value, list):
        return [_value(item, (*path, index), evaluate, kind="item") for index, item in enumerate(value)]
    return value


def _value(value: Any, path: tuple[str | int, ...], evaluate: Evaluate, *, kind: str) -> Any:
    if not isinstance(value, str) or "<+" not in value or _RUNTIME_INPUT.match(value.strip()):
        return value
    where = ".".join(str(p) for p in path)
    method = _TRAILING_METHOD.match(value.strip())
    if method:  # Harness's `<+pipeline.variables.x>.split(',')`: the method applies to the value
        value = f"<+{method.group(1)}{method.group(2)}>"
    result = evaluate(value, where)
    if isinstance(result, str) and kind in ("list", "map"):
        text = result.strip()  # run-time input marks (U+2060) stay: the values remain data
        if text.startswith(("[", "{")):
            with contextlib.suppress(json.JSONDecodeError):
                result = json.loads(text)
    if kind == "list" and not isinstance(result, list):
        raise LoopError(where, f"expected the expression to give a list, got {result!r}")
    if kind == "map" and not isinstance(result, Mapping):
        raise LoopError(where, f"expected the expression to give a mapping, got {result!r}")
    return result
