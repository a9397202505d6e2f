"""Manifests pasted from `aws ecs describe-*` output: unwrap them and leave out what is read-only.

The seeds tell users to paste an existing task definition into the manifest, and what they
have is describe output: `{"taskDefinition": {...}, "tags": [...]}` from
describe-task-definition, `{"services": [...], "failures": []}` from describe-services,
`{"ScalableTargets": [...]}` and `{"ScalingPolicies": [...]}` from application-autoscaling.
Harness deploys such a file as it is (its AWS SDK ignores members it does not know); Corral
unwraps it, leaves out the members the describe call returns but the request does not take,
and says so in one line.

Which members are read-only is derived from botocore's model, not listed here: the members
of the describe call's item shape (TaskDefinition, Service, ScalableTarget, ScalingPolicy)
that the request shape (RegisterTaskDefinition, CreateService, RegisterScalableTarget,
PutScalingPolicy) does not have. Their nested shapes are the request's own (ContainerDefinition,
DeploymentConfiguration, ...), so only the top level differs. A few members mean something
else in the request and are left out with the reason said:

- `clusterArn` / `roleArn` (describe-services): the cluster is the infrastructure's; the role
  describe shows is usually the service-linked role, which CreateService refuses as `role`.
- `launchType` next to `capacityProviderStrategy`: ECS takes one of them; the strategy wins.
- `desiredCount` of a DAEMON service: ECS places one task per instance and refuses a count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from corral.errors import Problem, format_path
from corral.manifests import api_model
from corral.manifests.api_model import ListShape, StructureShape
from corral.manifests.kinds import SPECS, ManifestKind, spec_for
from corral.manifests.shapes import input_shape, lower_first


@dataclass(frozen=True)
class DescribeCall:
    """The describe call whose output a kind's manifest may be pasted from."""

    command: str  # as the AWS CLI names it
    operation: str
    member: str  # the output member that holds the item(s)


DESCRIBE: dict[ManifestKind, DescribeCall] = {
    ManifestKind.TASK_DEFINITION: DescribeCall(
        "aws ecs describe-task-definition", "DescribeTaskDefinition", "taskDefinition"
    ),
    ManifestKind.SERVICE_DEFINITION: DescribeCall(
        "aws ecs describe-services", "DescribeServices", "services"
    ),
    ManifestKind.SCALABLE_TARGET: DescribeCall(
        "aws application-autoscaling describe-scalable-targets", "DescribeScalableTargets", "ScalableTargets"
    ),
    ManifestKind.SCALING_POLICY: DescribeCall(
        "aws application-autoscaling describe-scaling-policies", "DescribeScalingPolicies", "ScalingPolicies"
    ),
    ManifestKind.SCHEDULED_ACTION: DescribeCall(
        "aws application-autoscaling describe-scheduled-actions",
        "DescribeScheduledActions",
        "ScheduledActions",
    ),
}
# Output members beside the item that are the request's own (describe-task-definition --include TAGS).
_SIBLINGS_KEPT = {"tags"}


@dataclass
class Unwrapped:
    """The manifest as the request shape reads it, and what was left out on the way."""

    document: Any
    prefix: tuple[str | int, ...] = ()  # where the item sits in the pasted file
    dropped: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    command: str = ""

    def located(self, problem: Problem) -> Problem:
        """A problem found in the item, its path as it reads in the pasted file."""
        if not self.prefix:
            return problem
        inner = problem.path
        path = format_path(self.prefix) + (
            "" if not inner else inner if inner.startswith("[") else "." + inner
        )
        return Problem(problem.file, path, problem.message)

    def note(self, source: str) -> Problem | None:
        """The one info line, or None when nothing was left out."""
        if not self.dropped:
            return None
        return Problem(
            source,
            "",
            f"left out what `{self.command}` returns and the request does not take: "
            + ", ".join(self.dropped),
        )


def unwrap_pasted(kind: ManifestKind | str, doc: Any, *, source: str) -> Unwrapped:
    """doc without the describe wrapper and read-only members; doc itself when it is a request."""
    member, _ = spec_for(kind)
    call = DESCRIBE.get(member)
    if call is None or not isinstance(doc, dict):
        return Unwrapped(doc)
    out = Unwrapped(doc, command=call.command)
    item = _unwrap(call, doc, source, out)
    if not isinstance(item, dict):
        return out
    read_only = _read_only(member)
    kept: dict[Any, Any] = {}
    for key, value in item.items():
        name = _match(key, read_only)
        if name is None:
            kept[key] = value
        else:
            out.dropped.append(str(key))
    pasted = bool(out.dropped)
    if pasted and member is ManifestKind.SERVICE_DEFINITION:
        _service_rules(kept, out)
    out.document = kept
    return out


def _unwrap(call: DescribeCall, doc: dict[Any, Any], source: str, out: Unwrapped) -> Any:
    key = next((k for k in doc if isinstance(k, str) and lower_first(k) == lower_first(call.member)), None)
    if key is None:
        return doc
    wrapped = doc[key]
    request_members = {lower_first(m) for m in _request_shape(call).members}
    if lower_first(key) in request_members:  # a request member of that name, not a wrapper
        return doc
    siblings = [k for k in doc if k != key]
    output_members = {lower_first(m): m for m in _output_shape(call).members}
    if isinstance(wrapped, list):
        if len(wrapped) != 1:
            out.problems.append(
                Problem(
                    source,
                    str(key),
                    f"expected exactly one item in '{key}' (paste the output for one), got {len(wrapped)}",
                )
            )
            out.document = None
            return None
        item = wrapped[0]
        out.prefix = (str(key), 0)
    else:
        item = wrapped
        out.prefix = (str(key),)
    out.dropped.append(f"the '{key}' wrapper")
    if not isinstance(item, dict):
        out.document = item
        return item
    item = dict(item)
    for sibling in siblings:
        name = lower_first(str(sibling))
        if name in _SIBLINGS_KEPT and name in request_members and not _has(item, name):
            item[sibling] = doc[sibling]  # describe-task-definition's tags are the request's tags
        elif name in output_members:
            out.dropped.append(str(sibling))
        else:  # not describe output: leave it to the shape check at the top of the file
            out.warnings.append(
                Problem(
                    source,
                    str(sibling),
                    f"unknown field '{sibling}' beside '{key}' (ignored: not sent to AWS)",
                )
            )
    return item


def _service_rules(service: dict[Any, Any], out: Unwrapped) -> None:
    launch = _key(service, "launchType")
    strategy = _key(service, "capacityProviderStrategy")
    if launch is not None and strategy is not None and service[strategy]:
        del service[launch]
        out.dropped.append(f"{launch} (the service uses {strategy})")
    count = _key(service, "desiredCount")
    scheduling = _key(service, "schedulingStrategy")
    if count is not None and scheduling is not None and service[scheduling] == "DAEMON":
        del service[count]
        out.dropped.append(f"{count} (a DAEMON service)")


def _key(doc: dict[Any, Any], name: str) -> Any:
    return next((k for k in doc if isinstance(k, str) and lower_first(k) == name), None)


def _has(doc: dict[Any, Any], name: str) -> bool:
    return _key(doc, name) is not None


def _match(key: Any, names: frozenset[str]) -> str | None:
    if not isinstance(key, str):
        return None
    return lower_first(key) if lower_first(key) in names else None


def _request_shape(call: DescribeCall) -> StructureShape:
    member = next(k for k, c in DESCRIBE.items() if c is call)
    spec = SPECS[member]
    return input_shape(spec.service, spec.operation)


def _output_shape(call: DescribeCall) -> StructureShape:
    member = next(k for k, c in DESCRIBE.items() if c is call)
    service = SPECS[member].service
    data = api_model.service_data(service)
    shape = api_model.service_resolver(service).resolve_shape_ref(
        data["operations"][call.operation]["output"]
    )
    assert isinstance(shape, StructureShape)
    return shape


@cache
def _read_only(kind: ManifestKind) -> frozenset[str]:
    """Members of the describe item that the request does not take (camelCase-insensitive)."""
    call = DESCRIBE[kind]
    holder = _output_shape(call).members[call.member]
    item = holder.member if isinstance(holder, ListShape) else holder
    assert isinstance(item, StructureShape)
    request = {lower_first(m) for m in _request_shape(call).members}
    return frozenset(lower_first(m) for m in item.members if lower_first(m) not in request)


def read_only_fields(kind: ManifestKind | str) -> list[str]:
    """The read-only members left out of a pasted manifest of this kind, as botocore names them."""
    member = ManifestKind(kind)
    if member not in DESCRIBE:
        return []
    call = DESCRIBE[member]
    holder = _output_shape(call).members[call.member]
    item = holder.member if isinstance(holder, ListShape) else holder
    assert isinstance(item, StructureShape)
    names = _read_only(member)
    return [m for m in item.members if lower_first(m) in names]
