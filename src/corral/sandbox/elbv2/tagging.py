"""AddTags, RemoveTags, DescribeTags: one tag map on every taggable resource."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import DuplicateTagKeys, TooManyTags, ValidationError

if TYPE_CHECKING:
    from .backend import Backend

MAX_TAGS = 50


def tags_from(tags: list[dict[str, str]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for tag in tags or []:
        key = tag.get("Key", "")
        if not key:
            raise ValidationError("A tag key must be specified")
        if key in out:
            raise DuplicateTagKeys(f"Tag key '{key}' is duplicated")
        out[key] = tag.get("Value", "")
    if len(out) > MAX_TAGS:
        raise TooManyTags(f"A resource can have at most {MAX_TAGS} tags")
    return out


def resource(backend: Backend, arn: str) -> Any:
    """The load balancer, target group, listener or rule an ARN names (raising its NotFound)."""
    if ":listener-rule/" in arn:
        return backend.listeners.rule(arn)
    if ":listener/" in arn:
        return backend.listeners.listener(arn)
    if ":targetgroup/" in arn:
        return backend.target_group(arn)
    if ":loadbalancer/" in arn:
        return backend.load_balancers.get(arn)
    raise ValidationError(f"'{arn}' is not a valid load balancer, target group, listener or rule ARN")


def add_tags(backend: Backend, arns: list[str], tags: list[dict[str, str]]) -> None:
    new = tags_from(tags)
    targets = [resource(backend, arn) for arn in arns]
    for target in targets:
        if len({**target.tags, **new}) > MAX_TAGS:
            raise TooManyTags(f"A resource can have at most {MAX_TAGS} tags")
    for target in targets:
        target.tags.update(new)


def remove_tags(backend: Backend, arns: list[str], keys: list[str]) -> None:
    for target in [resource(backend, arn) for arn in arns]:
        for key in keys:
            target.tags.pop(key, None)


def describe_tags(backend: Backend, arns: list[str]) -> list[dict[str, Any]]:
    return [
        {"ResourceArn": arn, "Tags": [{"Key": k, "Value": v} for k, v in resource(backend, arn).tags.items()]}
        for arn in arns
    ]
