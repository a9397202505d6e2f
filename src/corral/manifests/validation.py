"""Validate a rendered manifest against its AWS request shape, and convert it for boto3.

`check_manifest` reports every problem at once (wrong types, missing required members, enums,
ranges, unresolved expressions, a typo of a required member named as the unknown key it is),
and apart from them the warnings (other unknown keys, with close names: not sent, as Harness
ignores them) and the one note of a pasted describe output (pasted.py). `validate_manifest`
is its errors. `to_api` turns a manifest into the keyword arguments of the boto3 call (leaving
out the unknown keys) and raises ConfigError when a type cannot be mapped. `to_update_service` derives the UpdateService request from a
converted CreateService request.

The one expression allowed to stay is `<+targetGroupArn>` as a service definition's
`loadBalancers[].targetGroupArn`: the Blue Green step puts the stage target group there.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from corral.errors import ConfigError, Problem
from corral.manifests.kinds import ManifestKind, spec_for
from corral.manifests.pasted import unwrap_pasted
from corral.manifests.shapes import Path, ShapeWalker, input_shape, lower_first

TARGET_GROUP_PLACEHOLDER = "<+targetGroupArn>"


@dataclass
class ManifestCheck:
    """What checking one manifest found.

    problems: errors, in document order. warnings: unknown fields (not sent to AWS).
    note: the one info line of a pasted describe output (what was left out), or None.
    document: the manifest as the request reads it (describe wrapper and read-only fields
    left out); paths in problems and warnings are those of the file as written."""

    document: Any
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    note: Problem | None = None


def check_manifest(kind: ManifestKind | str, doc: Any, *, source: str) -> ManifestCheck:
    """Errors, warnings and the pasted-output note of a rendered manifest."""
    pasted = unwrap_pasted(kind, doc, source=source)
    check = ManifestCheck(pasted.document, list(pasted.problems), list(pasted.warnings), pasted.note(source))
    if pasted.document is None and pasted.problems:
        return check
    inner = shape_check(kind, pasted.document, source=source)
    check.problems += [pasted.located(p) for p in inner.problems]
    check.warnings += [pasted.located(p) for p in inner.warnings]
    return check


def shape_check(kind: ManifestKind | str, doc: Any, *, source: str) -> ShapeWalker:
    """The shape walk of a manifest already unwrapped (see pasted.py); paths are the request's."""
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
    if member is ManifestKind.SCHEDULED_ACTION and isinstance(converted, dict) and isinstance(doc, dict):
        walker.problems += _scheduled_action(converted, doc, source)
    return walker


def validate_manifest(kind: ManifestKind | str, doc: Any, *, source: str) -> list[Problem]:
    """Every error in a rendered manifest, in document order; empty when it is valid.
    Unknown fields are warnings, not errors: see check_manifest."""
    return check_manifest(kind, doc, source=source).problems


def to_api(kind: ManifestKind | str, doc: Any, *, source: str = "manifest") -> dict[str, Any]:
    """The manifest as boto3 keyword arguments: the model's member names, nulls dropped,
    numbers made floats where the model wants a double, autoscaling defaults filled in.

    Raises ConfigError for keys or types that cannot be mapped (call validate_manifest
    first for the full list of problems).
    """
    member, spec = spec_for(kind)
    pasted = unwrap_pasted(member, doc, source=source)
    if pasted.problems:
        raise ConfigError(pasted.problems)
    walker = ShapeWalker(source=source, full=False, allow_expression=_placeholder_rule(member))
    converted = walker.walk(input_shape(spec.service, spec.operation), pasted.document)
    if walker.problems:
        raise ConfigError([pasted.located(p) for p in walker.problems])
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


def _capacity_order(
    request: dict[str, Any], doc: dict[str, Any], source: str, *, prefix: str = ""
) -> list[Problem]:
    low, high = request.get("MinCapacity"), request.get("MaxCapacity")
    if isinstance(low, int) and isinstance(high, int) and low > high:
        key = next(k for k in doc if isinstance(k, str) and lower_first(k) == "minCapacity")
        message = f"must not be greater than maxCapacity ({high}), got {low}"
        return [Problem(file=source, path=prefix + key, message=message)]
    return []


# PutScheduledAction's Schedule, as the Application Auto Scaling API Reference lists its formats
_SCHEDULE = re.compile(
    r"^(at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)"
    r"|rate\(\d+ (minute|hour|day)s?\)"
    r"|cron\(\S+( \S+){5}\))$"
)


def _scheduled_action(request: dict[str, Any], doc: dict[str, Any], source: str) -> list[Problem]:
    """What AWS refuses that the shape does not say: a schedule of none of the three formats and a
    scalableTargetAction whose minimum is above its maximum."""
    problems: list[Problem] = []
    keys = {lower_first(k): k for k in doc if isinstance(k, str)}
    schedule = request.get("Schedule")
    if isinstance(schedule, str) and not _SCHEDULE.match(schedule.strip()):
        message = (
            "expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(minutes hours day-of-month month "
            f"day-of-week year), got {schedule!r}"
        )
        problems.append(Problem(file=source, path=keys["schedule"], message=message))
    action, raw = request.get("ScalableTargetAction"), doc.get(keys.get("scalableTargetAction", ""))
    if isinstance(action, dict) and isinstance(raw, dict):
        problems += _capacity_order(action, raw, source, prefix=keys["scalableTargetAction"] + ".")
    return problems
