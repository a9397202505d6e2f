"""Names that mean the same thing in the reference system, as prefix rewrites of the context.

    <+artifact.X>              == <+artifacts.primary.X>      (image, tag, imagePath, digest, metadata.*)
    <+primary.artifact.X>      == <+artifacts.primary.X>      (the spelling of Harness's ECS tutorial)
    <+serviceVariables.NAME>   == <+service.variables.NAME>
    <+execution.steps.S.output.x> == <+stage.spec.execution.steps.S.output.x>

Every other documented root is plain data the caller provides under its own name:
<+env.name>, <+env.variables.x>, <+infra.cluster>, <+infra.region>,
<+pipeline.executionId|sequenceId|name>, <+stage.*>, <+targetGroupArn>.

Whichever side of a pair the caller filled in, the other side is made to point at the same
data. The caller's mappings are never modified: dicts on the way are copied.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALIASES: tuple[tuple[str, str], ...] = (
    ("artifact", "artifacts.primary"),
    # Harness's ECS deployment tutorial writes the task definition's image this way
    ("primary.artifact", "artifacts.primary"),
    ("serviceVariables", "service.variables"),
    ("execution", "stage.spec.execution"),
)

_MISSING = object()


def with_aliases(values: Mapping[str, Any]) -> dict[str, Any]:
    """A view of values in which both names of every alias pair resolve."""
    view = dict(values)
    for alias, canonical in ALIASES:
        alias_value = _get(view, alias.split("."))
        canonical_value = _get(view, canonical.split("."))
        if alias_value is _MISSING and canonical_value is not _MISSING:
            _set(view, alias.split("."), canonical_value)
        elif canonical_value is _MISSING and alias_value is not _MISSING:
            _set(view, canonical.split("."), alias_value)
    return view


def _get(data: dict[str, Any], keys: list[str]) -> Any:
    current: Any = data
    for key in keys:
        if not isinstance(current, dict) or key not in current:
            return _MISSING
        current = current[key]
    return current


def _set(data: dict[str, Any], keys: list[str], value: Any) -> None:
    """Set data[k1][k2]...=value, copying dicts on the way; gives up where a non-dict stands."""
    current = data
    for key in keys[:-1]:
        child = current.get(key, _MISSING)
        if child is _MISSING:
            child = {}
        elif isinstance(child, dict):
            child = dict(child)
        else:
            return
        current[key] = child
        current = child
    current[keys[-1]] = value
