"""Validate a rendered manifest against its AWS request shape, and convert it for boto3.

`validate_manifest` reports every problem at once (unknown keys with close names, wrong
types, missing required members, enums, ranges, unresolved expressions). `to_api` turns a
manifest into the keyword arguments of the boto3 call and raises ConfigError when a key or a
type cannot be mapped. `to_update_service` derives the UpdateService request from a
converted CreateService request.

The one expression allowed to stay is `<+targetGroupArn>` as a service definition's
`loadBalancers[].targetGroupArn`: the Blue Green step puts the stage target group there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from corral.errors import ConfigError, Problem
from corral.manifests.kinds import ManifestKind, spec_for
from corral.manifests.shapes import Path, ShapeWalker, input_shape, lower_first

TARGET_GROUP_PLACEHOLDER = "<+targetGroupArn>"


def validate_manifest(kind: ManifestKind | str, doc: Any, *, source: str) -> list[Problem]:
    """Every problem in a rendered manifest, in document order; empty when it is valid."""
    member, spec = spec_for(kind)
    walker = ShapeWalker(
        source=source,
        full=True,
        skip_required=spec.filled_at_deploy,
        allow_expression=_placeholder_rule(member),
    )
    converted = walker.walk(input_shape(spec.service, spec.operation), doc)
    if member is ManifestKind.SCALABLE_TARGET and isinstance(converted, dict):
        walker.problems += _capacity_order(converted, doc, source)
    return walker.problems


def to_api(kind: ManifestKind | str, doc: Any, *, source: str = "manifest") -> dict[str, Any]:
    """The manifest as boto3 keyword arguments: the model's member names, nulls dropped,
    numbers made floats where the model wants a double, autoscaling defaults filled in.

    Raises ConfigError for keys or types that cannot be mapped (call validate_manifest
    first for the full list of problems).
    """
    member, spec = spec_for(kind)
    walker = ShapeWalker(source=source, full=False, allow_expression=_placeholder_rule(member))
    converted = walker.walk(input_shape(spec.service, spec.operation), doc)
    if walker.problems:
        raise ConfigError(walker.problems)
    assert isinstance(converted, dict)
    return {**spec.defaults, **converted}


def to_update_service(create_request: dict[str, Any]) -> dict[str, Any]:
    """The UpdateService request for a converted CreateService request.

    `serviceName` becomes `service`; members UpdateService does not accept (launch type,
    scheduling strategy, role, client token, tags) are left out: they cannot change on a
    live service (tags change through TagResource).
    """
    update_members = input_shape("ecs", "UpdateService").members
    request = {k: v for k, v in create_request.items() if k in update_members}
    if "serviceName" in create_request:
        request["service"] = create_request["serviceName"]
    return request


def _placeholder_rule(kind: ManifestKind) -> Callable[[Path, str], bool]:
    def allow(api_path: Path, value: str) -> bool:
        return (
            kind is ManifestKind.SERVICE_DEFINITION
            and len(api_path) == 3
            and api_path[0] == "loadBalancers"
            and api_path[2] == "targetGroupArn"
            and value.strip() == TARGET_GROUP_PLACEHOLDER
        )

    return allow


def _capacity_order(request: dict[str, Any], doc: dict[str, Any], source: str) -> list[Problem]:
    low, high = request.get("MinCapacity"), request.get("MaxCapacity")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        key = next(k for k in doc if isinstance(k, str) and lower_first(k) == "minCapacity")
        message = f"must not be greater than maxCapacity ({high}), got {low}"
        return [Problem(file=source, path=key, message=message)]
    return []
