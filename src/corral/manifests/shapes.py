"""Walk a manifest against a botocore input shape: rename keys, check types, collect problems.

One walk does both jobs, so conversion (`to_api`) and validation agree on what a key means:

- keys match a member exactly or with the first letter's case flipped (`serviceNamespace`
  is `ServiceNamespace`); map keys (tags, docker labels, log options) are left as written;
- `null` members count as absent (the seeds write `ipcMode:` with no value);
- no silent coercion: "80" is not an integer and a YAML 256 is not a string; the one
  conversion is an integer where the model wants a double;
- with `full=True` the walk also checks required members, enums, min/max lengths and values
  (from the model, plus the ECS limits the model does not carry, in `EXTRA_LIMITS`);
- a key the shape does not have is left out of the request. With `full=True` it is a
  warning (`warnings`, with the closest names; Harness ignores such keys too), except a
  near-miss of a required member the object lacks: that is the error, named as the typo.

A string that still holds `<+...>` or `${...}` is reported as unresolved rather than as the
wrong type, because rendering it is what went wrong.

The shapes come from `api_model`, which reads botocore's model files without importing botocore.
"""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

from corral.errors import Problem, format_path
from corral.manifests import api_model
from corral.manifests.api_model import ListShape, MapShape, Shape, StructureShape
from corral.manifests.unresolved import find_unresolved, only_secret_references

Path = tuple[str | int, ...]

# Limits ECS enforces that its model does not state, keyed by (shape name, member).
EXTRA_LIMITS: dict[tuple[str, str], tuple[int, int]] = {
    ("HealthCheck", "interval"): (5, 300),
    ("HealthCheck", "timeout"): (2, 60),
    ("HealthCheck", "retries"): (1, 10),
    ("HealthCheck", "startPeriod"): (0, 300),
    ("PortMapping", "containerPort"): (1, 65535),
    ("PortMapping", "hostPort"): (0, 65535),
    ("RunTaskRequest", "count"): (1, 10),
    ("CreateServiceRequest", "desiredCount"): (0, 2**31 - 1),
    ("DeploymentConfiguration", "maximumPercent"): (0, 2**31 - 1),
    ("DeploymentConfiguration", "minimumHealthyPercent"): (0, 100),
}
# Members ECS rejects when missing although the model marks them optional.
EXTRA_REQUIRED: dict[str, tuple[str, ...]] = {
    "ContainerDefinition": ("name", "image"),
}
# Lists ECS rejects when empty.
EXTRA_MIN_ITEMS: dict[tuple[str, str], int] = {
    ("RegisterTaskDefinitionRequest", "containerDefinitions"): 1,
}

_MISSING = object()
# an unknown field's warning lists the valid names when there are at most this many
_LISTED_AT_MOST = 12


@cache
def input_shape(service: str, operation: str) -> StructureShape:
    """The request shape of one operation from botocore's own service model."""
    shape = api_model.input_shape(service, operation)
    assert isinstance(shape, StructureShape)
    return shape


def lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


@cache
def _member_index(shape: StructureShape) -> dict[str, str]:
    index = {lower_first(name): name for name in shape.members}
    index.update({name: name for name in shape.members})
    return index


def member_name(shape: StructureShape, key: str) -> str | None:
    """The model's member that a manifest key names, or None."""
    index = _member_index(shape)
    return index.get(key) or index.get(lower_first(key))


def describe_value(value: Any) -> str:
    """How a YAML/JSON value reads to its author: `a string ("80")`, `a number (256)`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, dt.date):
        return f"a date ({value.isoformat()})"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f'a string ("{shown}")'
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


_EXPECTED = {
    "structure": "an object",
    "map": "an object",
    "list": "a list",
    "string": "a string",
    "integer": "an integer",
    "long": "an integer",
    "double": "a number",
    "float": "a number",
    "boolean": "true or false",
    "timestamp": "a timestamp",
    "blob": "a string",
}


class ShapeWalker:
    """One pass over a manifest; `problems` holds everything found, in document order."""

    def __init__(
        self,
        *,
        source: str,
        full: bool,
        skip_required: frozenset[str] = frozenset(),
        allow_expression: Callable[[Path, str], bool] = lambda path, value: False,
    ) -> None:
        self.source = source
        self.full = full
        self.skip_required = skip_required
        self.allow_expression = allow_expression
        self.problems: list[Problem] = []
        # unknown fields: not sent to AWS (Harness ignores them too), reported as warnings
        self.warnings: list[Problem] = []
        self.top_keys: list[str] = []

    def walk(self, shape: StructureShape, doc: Any) -> Any:
        if not isinstance(doc, dict):
            self._problem((), f"expected an object at the top level, got {describe_value(doc)}")
            return _MISSING
        self.top_keys = [k for k in doc if isinstance(k, str)]
        return self._structure(shape, doc, (), (), top=True)

    # -- one method per shape type -------------------------------------------------------

    def _value(self, shape: Shape, value: Any, path: Path, api_path: Path) -> Any:
        if isinstance(value, str) and find_unresolved(value):
            return self._unresolved(shape, value, path, api_path)
        if getattr(shape, "is_document_type", False):
            return value
        kind = shape.type_name
        if kind == "structure":
            assert isinstance(shape, StructureShape)
            return self._structure(shape, value, path, api_path)
        if kind == "list":
            assert isinstance(shape, ListShape)
            return self._list(shape, value, path, api_path)
        if kind == "map":
            assert isinstance(shape, MapShape)
            return self._map(shape, value, path, api_path)
        return self._scalar(shape, value, path)

    def _structure(
        self, shape: StructureShape, value: Any, path: Path, api_path: Path, *, top: bool = False
    ) -> Any:
        if not isinstance(value, dict):
            return self._wrong_type(shape, value, path)
        out: dict[str, Any] = {}
        spelled: dict[str, str] = {}
        missing = self._missing_required(shape, value, top=top) if self.full else []
        for key, item in value.items():
            key_text = str(key)
            name = member_name(shape, key_text) if isinstance(key, str) else None
            if name is None:
                if self.full:
                    self._unknown(shape, key_text, path, missing)
                continue
            if name in spelled:
                self._problem(
                    (*path, key_text), f"'{name}' is given twice (as '{spelled[name]}' and '{key_text}')"
                )
                continue
            spelled[name] = key_text
            if item is None:
                continue
            converted = self._value(shape.members[name], item, (*path, key_text), (*api_path, name))
            if converted is not _MISSING:
                out[name] = converted
                if self.full:
                    self._extra_limit(shape.name, name, converted, (*path, key_text))
        if self.full:
            present = {name for name, key in spelled.items() if value[key] is not None}
            self._required(shape, present, list(value), path, top=top, missing=missing)
        return out

    def _missing_required(self, shape: StructureShape, value: dict[Any, Any], *, top: bool) -> list[str]:
        """Required members the object lacks; an unknown key close to one of them is named as
        the typo it is, in place of "missing required field" (see `_unknown`)."""
        given = {
            member_name(shape, key)
            for key, item in value.items()
            if isinstance(key, str) and item is not None
        }
        wanted = [*shape.required_members, *EXTRA_REQUIRED.get(shape.name, ())]
        return [n for n in wanted if n not in given and not (top and n in self.skip_required)]

    def _list(self, shape: ListShape, value: Any, path: Path, api_path: Path) -> Any:
        if not isinstance(value, list):
            return self._wrong_type(shape, value, path)
        out = []
        for index, item in enumerate(value):
            if item is None:
                self._problem((*path, index), f"expected {_expected(shape.member)}, got null")
                continue
            converted = self._value(shape.member, item, (*path, index), (*api_path, index))
            if converted is not _MISSING:
                out.append(converted)
        if self.full:
            self._length(shape, len(value), path, "item")
        return out

    def _map(self, shape: MapShape, value: Any, path: Path, api_path: Path) -> Any:
        if not isinstance(value, dict):
            return self._wrong_type(shape, value, path)
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                self._problem(
                    (*path, str(key)), f"expected a string key, got {describe_value(key)}; quote it"
                )
                continue
            key_path = (*path, key)
            for expression in find_unresolved(key):
                self._problem(key_path, f"unresolved expression {expression}")
            if self.full:
                self._scalar_limits(shape.key, key, key_path)
            if item is None:
                self._problem(key_path, f"expected {_expected(shape.value)}, got null")
                continue
            converted = self._value(shape.value, item, key_path, (*api_path, key))
            if converted is not _MISSING:
                out[key] = converted
        if self.full:
            self._length(shape, len(value), path, "entry")
        return out

    def _scalar(self, shape: Shape, value: Any, path: Path) -> Any:
        kind = shape.type_name
        ok: bool
        if kind == "string":
            ok = isinstance(value, str)
        elif kind in ("integer", "long"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind in ("double", "float"):
            ok = isinstance(value, int | float) and not isinstance(value, bool)
            if ok:
                value = float(value)
        elif kind == "boolean":
            ok = isinstance(value, bool)
        elif kind == "timestamp":
            ok = isinstance(value, dt.datetime | dt.date | str) or (
                isinstance(value, int | float) and not isinstance(value, bool)
            )
        elif kind == "blob":
            ok = isinstance(value, str | bytes)
        else:  # a type this model does not use today; let botocore judge it
            ok = True
        if not ok:
            return self._wrong_type(shape, value, path)
        if self.full:
            self._scalar_limits(shape, value, path)
        return value

    # -- checks --------------------------------------------------------------------------

    def _scalar_limits(self, shape: Shape, value: Any, path: Path) -> None:
        enum = getattr(shape, "enum", None) or []
        if enum and isinstance(value, str) and value not in enum:
            hint = next((f"; did you mean '{e}'?" for e in enum if e.lower() == value.lower()), "")
            self._problem(path, f"expected one of {', '.join(enum)}; got '{value}'{hint}")
            return
        if isinstance(value, str):
            self._length(shape, len(value), path, "character")
        elif isinstance(value, int | float) and not isinstance(value, bool):
            self._range(shape.metadata.get("min"), shape.metadata.get("max"), value, path)

    def _extra_limit(self, shape_name: str, member: str, value: Any, path: Path) -> None:
        limits = EXTRA_LIMITS.get((shape_name, member))
        if limits and isinstance(value, int) and not isinstance(value, bool):
            self._range(limits[0], limits[1], value, path)
        min_items = EXTRA_MIN_ITEMS.get((shape_name, member))
        if min_items and isinstance(value, list) and len(value) < min_items:
            self._problem(path, f"must have at least {min_items} item(s), got {len(value)}")

    def _range(self, low: Any, high: Any, value: float, path: Path) -> None:
        if low is not None and value < low:
            self._problem(path, f"must be at least {low}, got {value}")
        elif high is not None and value > high:
            self._problem(path, f"must be at most {high}, got {value}")

    def _length(self, shape: Shape, size: int, path: Path, unit: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and size < low:
            self._problem(path, f"must have at least {low} {unit}(s), got {size}")
        elif high is not None and size > high:
            self._problem(path, f"must have at most {high} {unit}(s), got {size}")

    def _required(
        self,
        shape: StructureShape,
        given: set[str],
        keys: list[Any],
        path: Path,
        *,
        top: bool,
        missing: list[str],
    ) -> None:
        wanted = [*shape.required_members, *EXTRA_REQUIRED.get(shape.name, ())]
        for name in wanted:
            if name in given or (top and name in self.skip_required) or name not in missing:
                continue
            spelled = self._spelling(name, keys)
            self._problem((*path, spelled), f"missing required field '{spelled}'")
        if shape.metadata.get("union") and len(given) != 1:
            options = ", ".join(shape.members)
            self._problem(path, f"give exactly one of {options}; got {len(given)}")

    def _spelling(self, name: str, keys: list[Any]) -> str:
        """Name a missing member in the casing the document uses around it (camelCase for
        the seeds' autoscaling manifests, the API's own casing otherwise)."""
        keys = [k for k in keys if isinstance(k, str)] or self.top_keys
        if keys and all(k[:1].islower() for k in keys):
            return lower_first(name)
        return name

    def _unresolved(self, shape: Shape, value: str, path: Path, api_path: Path) -> Any:
        if not self.full and shape.type_name == "string":
            return value  # conversion leaves text alone; validation reports it
        if self.allow_expression(api_path, value):
            return value
        if shape.type_name == "string" and only_secret_references(value):
            return value
        for expression in find_unresolved(value):
            self._problem(path, f"unresolved expression {expression}")
        return value if shape.type_name == "string" else _MISSING

    def _unknown(self, shape: StructureShape, key: str, path: Path, missing: list[str]) -> None:
        """An unknown key is a warning (it is not sent), unless it is a near-miss of a required
        member the object lacks: then it is the error, named as the typo it is."""

        def styled(name: str) -> str:  # suggest in the author's casing: camelCase for camelCase
            return lower_first(name) if key[:1].islower() else name

        by_style = {styled(n): n for n in missing}
        typo_of = _close_names(key, list(by_style))
        if typo_of:
            missing.remove(by_style[typo_of[0]])
            self._problem((*path, key), f"unknown field '{key}'; did you mean '{typo_of[0]}'?")
            return
        names = [styled(n) for n in shape.members]
        close = _close_names(key, names)
        if close:
            options = " or ".join(f"'{name}'" for name in close)
            message = f"unknown field '{key}'; did you mean {options}? (ignored: not sent to AWS)"
        elif len(names) <= _LISTED_AT_MOST:
            message = f"unknown field '{key}' (ignored: not sent to AWS); expected one of: {', '.join(names)}"
        else:  # forty container members are no help to read
            message = f"unknown field '{key}' (ignored: not sent to AWS)"
        self.warnings.append(Problem(file=self.source, path=format_path((*path, key)), message=message))

    def _wrong_type(self, shape: Shape, value: Any, path: Path) -> Any:
        message = f"expected {_expected(shape)}, got {describe_value(value)}"
        if shape.type_name == "string" and isinstance(value, int | float | bool | dt.date):
            message += "; quote it to make it a string"
        self._problem(path, message)
        return _MISSING

    def _problem(self, path: Sequence[str | int], message: str) -> None:
        self.problems.append(Problem(file=self.source, path=format_path(path), message=message))


def _close_names(key: str, names: list[str]) -> list[str]:
    """Up to three names like key, only those about as close as the closest one."""
    scored = sorted(
        ((difflib.SequenceMatcher(None, key.lower(), n.lower()).ratio(), n) for n in names), reverse=True
    )
    best = scored[0][0] if scored else 0.0
    return [n for score, n in scored[:3] if score >= 0.6 and score >= best - 0.1]


def _expected(shape: Shape) -> str:
    return _EXPECTED.get(shape.type_name, shape.type_name)
