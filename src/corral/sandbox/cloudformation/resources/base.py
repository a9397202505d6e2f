"""What a resource type handler gets and gives.

A handler creates its resource by calling the owning service's API through the sandbox's
internal boto3 clients (core/internal_clients.py): the resource lands in the backend a user's
own calls reach, and faults, throttling and the call log apply. CloudFormation's property names
are mostly the API's; `call` coerces template text ("80", "true") to the API's types, as
CloudFormation does for parameters used in numeric or boolean properties.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from ..stacks import Stack

VIA = "cloudformation"
log = logging.getLogger(__name__)

# error codes that mean "already gone" when deleting
NOT_FOUND_CODES = {
    "ClusterNotFoundException",
    "InvalidGroup.NotFound",
    "InvalidInternetGatewayID.NotFound",
    "InvalidRouteTableID.NotFound",
    "InvalidAssociationID.NotFound",
    "InvalidRoute.NotFound",
    "InvalidSubnetID.NotFound",
    "InvalidVpcID.NotFound",
    "InvalidPermission.NotFound",
    "Gateway.NotAttached",
    "ListenerNotFound",
    "LoadBalancerNotFound",
    "NamespaceNotFound",
    "NoSuchEntity",
    "ResourceNotFoundException",
    "RuleNotFound",
    "ServiceNotFound",
    "TargetGroupNotFound",
}


# attempts of a throttled call before the resource fails (at once: the call runs on the timer thread)
THROTTLE_ATTEMPTS = 5


class ResourceFailure(Exception):
    """A resource could not be created or deleted; the message is the event's status reason."""


@dataclass
class ResourceContext:
    stack: Stack
    logical_id: str
    resource_type: str
    # set by a handler as soon as its resource exists, so that a later failing call of the same
    # handler still leaves something for the rollback to delete
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.stack.region

    @property
    def account_id(self) -> str:
        return self.stack.account_id

    def call(self, service: str, operation: str, **params: Any) -> dict[str, Any]:
        client = self.stack.world.aws_client(VIA, service, self.region)
        model = client.meta.service_model.operation_model(operation)
        clean = _coerce(model.input_shape, params) if model.input_shape is not None else {}
        method = getattr(client, _snake(operation))
        for attempt in range(THROTTLE_ATTEMPTS):
            try:
                answer: dict[str, Any] = method(**clean)
                return answer
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if _handler_error_code(code, 400) == "Throttling" and attempt + 1 < THROTTLE_ATTEMPTS:
                    continue  # CloudFormation retries throttled calls itself
                raise ResourceFailure(_reason(error, service)) from error
            except Exception as error:  # botocore's own checks (ParamValidationError): a template error
                raise ResourceFailure(
                    f"Properties validation failed for resource {self.logical_id}: {error}"
                ) from error
        raise AssertionError("the last attempt returns or raises")

    def delete_call(self, service: str, operation: str, **params: Any) -> None:
        """A delete call; a resource already gone counts as deleted, as CloudFormation treats it."""
        try:
            self.call(service, operation, **params)
        except ResourceFailure as failure:
            cause = failure.__cause__
            if isinstance(cause, ClientError) and cause.response["Error"].get("Code") in NOT_FOUND_CODES:
                return
            raise

    def physical_name(self, max_length: int = 255, *, lowercase: bool = False) -> str:
        """A name for a resource whose template gives none: stack name, logical id, random suffix."""
        suffix = "".join(secrets.choice(string.ascii_uppercase + string.digits) for _ in range(12))
        if lowercase:
            suffix = suffix.lower()
        room = max_length - len(suffix) - 2
        stack_part = self.stack.name[: max(1, room // 2)]
        logical_part = self.logical_id[: max(1, room - len(stack_part))]
        name = f"{stack_part}-{logical_part}-{suffix}"
        return name.lower() if lowercase else name

    def tags(self, properties: dict[str, Any]) -> list[dict[str, str]]:
        """Stack tags, the resource's Tags, and the aws:cloudformation:* tags CloudFormation adds."""
        tags = {t["Key"]: str(t["Value"]) for t in self.stack.tags}
        tags.update({t["Key"]: str(t["Value"]) for t in properties.get("Tags") or []})
        tags["aws:cloudformation:stack-name"] = self.stack.name
        tags["aws:cloudformation:stack-id"] = self.stack.stack_id
        tags["aws:cloudformation:logical-id"] = self.logical_id
        return [{"Key": k, "Value": v} for k, v in tags.items()]

    def user_tags(self, properties: dict[str, Any]) -> list[dict[str, str]]:
        """Stack and resource tags without the aws: ones (for APIs that refuse the aws: prefix)."""
        return [t for t in self.tags(properties) if not t["Key"].startswith("aws:")]


def guarded(ctx: ResourceContext, action: Callable[..., None], *args: Any) -> None:
    """Run a handler's create, update or delete; whatever goes wrong becomes the resource's failure.

    A required property missing from the template reads as CloudFormation's schema check says it.
    """
    try:
        action(ctx, *args)
    except ResourceFailure:
        raise
    except KeyError as missing:
        raise ResourceFailure(
            f"Properties validation failed for resource {ctx.logical_id} with message: "
            f"#: required key [{missing.args[0]}] not found"
        ) from missing
    except Exception as error:  # a sandbox bug: the stack fails instead of hanging in progress
        log.exception("CloudFormation handler for %s failed", ctx.resource_type)
        raise ResourceFailure("Internal Failure") from error


class ResourceType:
    """One CloudFormation resource type. Ref is the physical id unless `ref` says otherwise."""

    type_name: ClassVar[str] = ""
    attributes: ClassVar[frozenset[str]] = frozenset()
    # sandbox seconds between the create call's answer and CREATE_COMPLETE
    settle_seconds: ClassVar[float] = 1.0
    # properties `update` changes in place ("Update requires: No interruption" in the resource
    # reference); a change to any other property replaces the resource
    in_place: ClassVar[frozenset[str]] = frozenset()
    # the optional name property: a resource given a name cannot be replaced under the same name
    name_property: ClassVar[str | None] = None

    def can_update(self, changed: set[str]) -> bool:
        return bool(changed) and changed <= self.in_place

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        raise NotImplementedError

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        raise NotImplementedError

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        raise NotImplementedError


def _snake(name: str) -> str:
    from botocore import xform_name

    return xform_name(name)


def _coerce(shape: Any, value: Any) -> Any:
    kind = shape.type_name
    if kind == "structure" and isinstance(value, dict):
        return {k: _coerce(shape.members[k], v) if k in shape.members else v for k, v in value.items()}
    if kind == "list" and isinstance(value, list):
        return [_coerce(shape.member, v) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _coerce(shape.value, v) for k, v in value.items()}
    if kind in ("integer", "long") and isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return value
    if kind in ("float", "double") and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    if kind == "boolean" and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if kind == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    if kind == "string" and isinstance(value, bool):
        return "true" if value else "false"
    return value


def _reason(error: ClientError, service: str) -> str:
    """The status reason CloudFormation gives for a failed handler call."""
    info = error.response.get("Error", {})
    meta = error.response.get("ResponseMetadata", {})
    code = info.get("Code", "")
    status = meta.get("HTTPStatusCode", "")
    message = info.get("Message") or code
    handler_code = _handler_error_code(code, status)
    return (
        f'Resource handler returned message: "{message} (Service: {service}, Status Code: {status}, '
        f'Request ID: {meta.get("RequestId", "")})" (HandlerErrorCode: {handler_code})'
    )


def _handler_error_code(code: str, status: Any) -> str:
    if "Throttl" in code or code == "RequestLimitExceeded":
        return "Throttling"
    if code in NOT_FOUND_CODES or code.endswith("NotFound"):
        return "NotFound"
    if "AlreadyExists" in code or "Duplicate" in code:
        return "AlreadyExists"
    if isinstance(status, int) and status >= 500:
        return "ServiceInternalError"
    if "Invalid" in code or "Validation" in code:
        return "InvalidRequest"
    return "GeneralServiceException"
