"""Tags: the API's `[{key, value}]` lists, and the tags ECS puts on a task it launches."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import InvalidParameterException

if TYPE_CHECKING:
    from .services import Service
    from .task_definitions import TaskDefinition

PROPAGATE_VALUES = ("TASK_DEFINITION", "SERVICE", "NONE")
MAX_TAGS = 50


def from_api(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags or []:
        key = tag.get("key")
        if not key:
            raise InvalidParameterException("Tag keys must not be empty.")
        out[key] = tag.get("value", "")
    if len(out) > MAX_TAGS:
        raise InvalidParameterException(f"A resource can have at most {MAX_TAGS} tags.")
    return out


def to_api(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"key": k, "value": v} for k, v in tags.items()]


def check_propagate(value: str | None, *, allowed: tuple[str, ...] = PROPAGATE_VALUES) -> str:
    if value is None:
        return "NONE"
    if value not in allowed:
        raise InvalidParameterException(
            f"Invalid propagateTags value {value}; expected one of {', '.join(allowed)}."
        )
    return value


def task_tags(
    *,
    explicit: dict[str, str],
    propagate: str,
    definition: TaskDefinition,
    service: Service | None,
    managed: bool,
    cluster_name: str,
) -> dict[str, str]:
    """Managed tags, then propagated ones, then the caller's own (which win)."""
    tags: dict[str, str] = {}
    if managed:
        tags["aws:ecs:clusterName"] = cluster_name
        if service is not None:
            tags["aws:ecs:serviceName"] = service.name
    if propagate == "TASK_DEFINITION":
        tags.update(definition.tags)
    elif propagate == "SERVICE" and service is not None:
        tags.update(service.tags)
    tags.update(explicit)
    return tags
