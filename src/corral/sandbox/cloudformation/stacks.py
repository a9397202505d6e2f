"""A stack: its resources created, rolled back and deleted in dependency order on the sandbox clock.

Statuses and events follow the CloudFormation User Guide: "Stack status codes"
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes),
"Choose how to handle failures when provisioning resources" (rollback, DisableRollback,
OnFailure DO_NOTHING/ROLLBACK/DELETE), and "DeletionPolicy attribute" (Delete, Retain,
RetainExceptOnCreate). A create goes CREATE_IN_PROGRESS -> CREATE_COMPLETE; a resource that fails
is CREATE_FAILED, resources still being created are cancelled ("Resource creation cancelled"),
and the stack goes ROLLBACK_IN_PROGRESS -> ROLLBACK_COMPLETE after deleting what it created in
reverse dependency order (ROLLBACK_FAILED if a deletion fails), or CREATE_FAILED with rollback
disabled. DeleteStack goes DELETE_IN_PROGRESS -> DELETE_COMPLETE (DELETE_FAILED).

Each step runs in a timer under the world lock; a resource's create call is made when all it
depends on is CREATE_COMPLETE, and it is CREATE_COMPLETE `settle_seconds` of sandbox time later.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.clock import to_datetime
from . import updates
from .exceptions import TokenAlreadyExistsException, ValidationError
from .intrinsics import NO_VALUE, Resolver
from .resources import TYPES, ResourceContext, ResourceFailure, guarded
from .template import Template
from .updates import Change, Garbage, Snapshot

if TYPE_CHECKING:
    from ..core.world import World
    from .backend import Backend

STACK_TYPE = "AWS::CloudFormation::Stack"
FIRST_STEP_SECONDS = 1.0
DELETE_SETTLE_SECONDS = 1.0
NOT_STARTED = ""
# resource statuses that mean the resource is gone (or was never made)
GONE = {NOT_STARTED, "DELETE_COMPLETE", "DELETE_SKIPPED"}


@dataclass
class StackEvent:
    event_id: str
    logical_id: str
    physical_id: str
    resource_type: str
    timestamp: float
    status: str
    reason: str | None
    token: str | None


@dataclass
class StackResource:
    logical_id: str
    resource_type: str
    depends_on: set[str]
    deletion_policy: str
    status: str = NOT_STARTED
    reason: str | None = None
    physical_id: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    updated: float = 0.0
    properties: dict[str, Any] = field(default_factory=dict)  # resolved, as last created or updated

    def summary(self) -> dict[str, Any]:
        return {
            "LogicalResourceId": self.logical_id,
            "PhysicalResourceId": self.physical_id or "",
            "ResourceType": self.resource_type,
            "ResourceStatus": self.status,
            "ResourceStatusReason": self.reason,
            "DriftInformation": {"StackResourceDriftStatus": "NOT_CHECKED"},
        }


class Stack:
    def __init__(
        self,
        backend: Backend,
        *,
        name: str,
        template_body: str,
        template: Template,
        parameters: dict[str, str],
        capabilities: list[str],
        tags: list[dict[str, str]],
        role_arn: str | None,
        on_failure: str,
        timeout_minutes: int | None,
        notification_arns: list[str],
        termination_protection: bool,
        token: str | None,
    ) -> None:
        self.backend = backend
        self.name = name
        self.stack_id = backend.arn("cloudformation", f"stack/{name}/{uuid.uuid4()}")
        self.template_body = template_body
        self.template = template
        self.parameters = parameters
        self.capabilities = capabilities
        self.tags = tags
        self.role_arn = role_arn
        self.on_failure = on_failure
        self.timeout_minutes = timeout_minutes
        self.notification_arns = notification_arns
        self.termination_protection = termination_protection
        self.token = token
        # ClientRequestToken -> the operation it was given with: a retried request is recognised
        self.tokens: dict[str, str] = {token: "CreateStack"} if token else {}
        self.status = ""
        self.reason: str | None = None
        self.created = backend.now()
        self.updated: float | None = None
        self.deleted: float | None = None
        self.events: list[StackEvent] = []
        self.outputs: list[dict[str, Any]] = []
        self.exports: list[str] = []
        self.imports: set[str] = set()
        self.rolling_back_create = False
        self.retry: set[str] = set()  # DELETE_FAILED resources a new DeleteStack tries again
        # UpdateStack's state (updates.py)
        self.snapshot: Snapshot | None = None
        self.update_disable_rollback = False
        self.update_pending: set[str] = set()
        self.changes: list[Change] = []
        self.garbage: list[Garbage] = []
        self.revert_queue: list[Change] = []
        self.conditions = self._conditions()
        self.resources: dict[str, StackResource] = {
            logical_id: StackResource(
                logical_id=logical_id,
                resource_type=spec["Type"],
                depends_on=template.dependencies[logical_id],
                deletion_policy=str(spec.get("DeletionPolicy", "Delete")),
            )
            for logical_id, spec in template.resources.items()
            if self._active(spec)
        }

    # ------------------------------------------------------------------ basics

    @property
    def world(self) -> World:
        return self.backend.world

    @property
    def region(self) -> str:
        return self.backend.region_name

    @property
    def account_id(self) -> str:
        return self.backend.account_id

    @property
    def is_deleted(self) -> bool:
        return self.status == "DELETE_COMPLETE"

    def _now(self) -> float:
        return self.world.timers.due_time()

    def _event(self, resource: StackResource | None, status: str, reason: str | None = None) -> None:
        if resource is None:
            logical, physical, kind = self.name, self.stack_id, STACK_TYPE
            self.status, self.reason = status, reason
        else:
            logical, physical, kind = resource.logical_id, resource.physical_id or "", resource.resource_type
            resource.status, resource.reason, resource.updated = status, reason, self._now()
        self.events.append(
            StackEvent(str(uuid.uuid4()), logical, physical, kind, self._now(), status, reason, self.token)
        )

    def _later(self, seconds: float, method: Any, *args: Any) -> None:
        self.world.timers.call_later(seconds, method, *args)

    # ------------------------------------------------------------------ template values

    def _resolver(self) -> Resolver:
        body = self.template.body
        return Resolver(
            ref=self._ref,
            get_att=self._get_att,
            conditions=body.get("Conditions") or {},
            mappings=body.get("Mappings") or {},
            azs=self._azs,
            import_value=self._import_value,
        )

    def _conditions(self) -> dict[str, bool]:
        resolver = self._resolver()
        return {name: resolver.condition(name) for name in self.template.body.get("Conditions") or {}}

    def _active(self, spec: dict[str, Any]) -> bool:
        condition = spec.get("Condition")
        return condition is None or self.conditions.get(condition, False)

    def _ref(self, name: str) -> Any:
        pseudo = {
            "AWS::AccountId": self.account_id,
            "AWS::Region": self.region,
            "AWS::StackId": self.stack_id,
            "AWS::StackName": self.name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::NotificationARNs": list(self.notification_arns),
        }
        if name in pseudo:
            return pseudo[name]
        parameter = self.template.parameters.get(name)
        if parameter is not None:
            value = self.parameters[name]
            return [v.strip() for v in value.split(",")] if parameter.is_list else value
        resource = self.resources.get(name)
        if resource is None:
            if name in self.template.resources:
                return NO_VALUE  # a resource whose condition is false
            raise ValidationError(f"Template format error: Unresolved resource dependencies [{name}]")
        if resource.physical_id is None:
            raise ValidationError(f"Resource {name} has no physical id yet")
        return resource.physical_id

    def _get_att(self, name: str, attribute: str) -> Any:
        resource = self.resources.get(name)
        if resource is None:
            raise ValidationError(
                f"Template error: instance of Fn::GetAtt references undefined resource {name}"
            )
        if attribute not in resource.attributes:
            raise ValidationError(
                f"Template error: resource {name} does not support attribute type {attribute} in Fn::GetAtt"
            )
        return resource.attributes[attribute]

    def _azs(self, region: str) -> list[str]:
        ctx = ResourceContext(self, self.name, STACK_TYPE)
        try:
            answer = ctx.call("ec2", "DescribeAvailabilityZones")
        except ResourceFailure as failure:
            raise ValidationError(f"Template error: Fn::GetAZs failed: {failure}") from failure
        return sorted(zone["ZoneName"] for zone in answer["AvailabilityZones"])

    def _import_value(self, name: str) -> str:
        value = self.backend.export_value(name)
        if value is None:
            raise ValidationError(f"No export named {name} found.")
        self.imports.add(name)
        return value

    # ------------------------------------------------------------------ create

    def start_create(self) -> None:
        self._event(None, "CREATE_IN_PROGRESS", "User Initiated")
        self._later(FIRST_STEP_SECONDS, self.step)

    def step(self) -> None:
        """One pass: start what can start, finish the stack when everything is done."""
        if self.status == "CREATE_IN_PROGRESS":
            self._create_step()
        elif self.status in ("ROLLBACK_IN_PROGRESS", "DELETE_IN_PROGRESS"):
            self._delete_step()
        elif self.status == "UPDATE_IN_PROGRESS":
            updates.update_step(self)
        elif self.status == "UPDATE_ROLLBACK_IN_PROGRESS":
            updates.update_rollback_step(self)
        elif self.status in (
            "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
            "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
        ):
            updates.cleanup_step(self)

    def _create_step(self) -> None:
        for resource in list(self.resources.values()):
            if self._failed_resources():
                break
            if resource.status == NOT_STARTED and all(
                self.resources[d].status == "CREATE_COMPLETE"
                for d in resource.depends_on
                if d in self.resources
            ):
                self._create_resource(resource)
        if self._failed_resources():
            self._create_failed(self._failed_resources())
            return
        if all(r.status == "CREATE_COMPLETE" for r in self.resources.values()):
            self._finish_create()

    def _failed_resources(self) -> list[str]:
        return [r.logical_id for r in self.resources.values() if r.status == "CREATE_FAILED"]

    def _create_resource(self, resource: StackResource) -> None:
        self._event(resource, "CREATE_IN_PROGRESS")
        handler = TYPES.get(resource.resource_type)
        if handler is None:
            self._event(
                resource,
                "CREATE_FAILED",
                f"Resource type {resource.resource_type} is not supported by the Corral sandbox's "
                "CloudFormation (docs/sandbox.md lists the supported types)",
            )
            return
        ctx = ResourceContext(self, resource.logical_id, resource.resource_type)
        try:
            properties = self._resolver().resolve(
                self.template.resources[resource.logical_id].get("Properties") or {}
            )
            resource.properties = properties
            guarded(ctx, handler.create, properties)
        except (ResourceFailure, ValidationError) as failure:
            resource.physical_id, resource.attributes = ctx.physical_id, ctx.attributes
            message = failure.message if isinstance(failure, ValidationError) else str(failure)
            self._event(resource, "CREATE_FAILED", message)
            return
        resource.physical_id, resource.attributes = ctx.physical_id, ctx.attributes
        self._event(resource, "CREATE_IN_PROGRESS", "Resource creation Initiated")
        self._later(handler.settle_seconds, self._resource_created, resource.logical_id)

    def _resource_created(self, logical_id: str) -> None:
        resource = self.resources.get(logical_id)
        if resource is None or resource.status != "CREATE_IN_PROGRESS":
            return
        if self.status not in ("CREATE_IN_PROGRESS", "UPDATE_IN_PROGRESS"):
            return  # the stack moved on (a failure elsewhere, a DeleteStack)
        self._event(resource, "CREATE_COMPLETE")
        self.step()

    def _finish_create(self) -> None:
        try:
            self.outputs = self._resolve_outputs()
            self.backend.claim_exports(self, self.outputs)
        except ValidationError as error:
            self._begin_failure_handling(f"{error.message}.")
            return
        self.exports = [o["ExportName"] for o in self.outputs if "ExportName" in o]
        self._event(None, "CREATE_COMPLETE")

    def _resolve_outputs(self) -> list[dict[str, Any]]:
        resolver = self._resolver()
        outputs = []
        for key, spec in (self.template.body.get("Outputs") or {}).items():
            if not self._active(spec):
                continue
            value = resolver.resolve(spec["Value"])
            output: dict[str, Any] = {"OutputKey": key, "OutputValue": _text(value)}
            if "Description" in spec:
                output["Description"] = str(spec["Description"])
            export = spec.get("Export")
            if isinstance(export, dict) and "Name" in export:
                output["ExportName"] = _text(resolver.resolve(export["Name"]))
            outputs.append(output)
        return outputs

    def _create_failed(self, failed: list[str]) -> None:
        for resource in self.resources.values():
            if resource.status == "CREATE_IN_PROGRESS":
                self._event(resource, "CREATE_FAILED", "Resource creation cancelled")
        self._begin_failure_handling(f"The following resource(s) failed to create: [{', '.join(failed)}]. ")

    def _begin_failure_handling(self, reason: str) -> None:
        self.rolling_back_create = True
        if self.on_failure == "DO_NOTHING":
            self._event(None, "CREATE_FAILED", reason)
        elif self.on_failure == "DELETE":
            self._event(None, "DELETE_IN_PROGRESS", reason + "Delete requested by user.")
            self._later(FIRST_STEP_SECONDS, self.step)
        else:
            self._event(None, "ROLLBACK_IN_PROGRESS", reason + "Rollback requested by user.")
            self._later(FIRST_STEP_SECONDS, self.step)

    # ------------------------------------------------------------------ rollback and delete

    def start_rollback(self) -> None:
        """RollbackStack on a stack left in CREATE_FAILED (rollback was disabled)."""
        self.rolling_back_create = True
        self._event(None, "ROLLBACK_IN_PROGRESS", "Rollback requested by user.")
        self._later(FIRST_STEP_SECONDS, self.step)

    def start_delete(self, retain: list[str]) -> None:
        self.rolling_back_create = False
        for logical_id in retain:
            resource = self.resources.get(logical_id)
            if resource is not None:
                self._event(resource, "DELETE_SKIPPED")
        self.retry = {r.logical_id for r in self.resources.values() if r.status == "DELETE_FAILED"}
        self._event(None, "DELETE_IN_PROGRESS", "User Initiated")
        users = self.backend.importers_of(self)
        if users:
            name, importer = users[0]
            self._event(
                None, "DELETE_FAILED", f"Export {name} cannot be deleted as it is in use by {importer}"
            )
            return
        self._later(FIRST_STEP_SECONDS, self.step)

    def _delete_step(self) -> None:
        present = {r.logical_id for r in self.resources.values() if r.status not in GONE}
        for resource in reversed(list(self.resources.values())):
            if resource.status in GONE or resource.status == "DELETE_IN_PROGRESS":
                continue
            if resource.status == "DELETE_FAILED" and resource.logical_id not in self.retry:
                continue
            needed_by = [
                r
                for r in self.resources.values()
                if resource.logical_id in r.depends_on and r.logical_id in present
            ]
            if needed_by:
                continue
            self.retry.discard(resource.logical_id)
            self._delete_resource(resource)
            if resource.status in GONE:
                present.discard(resource.logical_id)
        if any(r.status == "DELETE_IN_PROGRESS" for r in self.resources.values()):
            return  # a deletion's completion steps again
        waiting = [r for r in self.resources.values() if r.status not in GONE and r.status != "DELETE_FAILED"]
        failed = [r.logical_id for r in self.resources.values() if r.status == "DELETE_FAILED"]
        if waiting and not failed:
            self._later(DELETE_SETTLE_SECONDS, self.step)
            return
        rollback = self.status == "ROLLBACK_IN_PROGRESS"
        if failed:
            reason = f"The following resource(s) failed to delete: [{', '.join(failed)}]. "
            self._event(None, "ROLLBACK_FAILED" if rollback else "DELETE_FAILED", reason)
            return
        if rollback:
            self._event(None, "ROLLBACK_COMPLETE")
            return
        self.backend.release_exports(self)
        self.deleted = self._now()
        self._event(None, "DELETE_COMPLETE")

    def _retained(self, resource: StackResource) -> bool:
        if resource.deletion_policy == "Retain":
            return True
        return resource.deletion_policy == "RetainExceptOnCreate" and not self.rolling_back_create

    def _delete_resource(self, resource: StackResource) -> None:
        handler = TYPES.get(resource.resource_type)
        if resource.physical_id is None or handler is None:
            self._event(resource, "DELETE_COMPLETE")  # nothing was made
            return
        if self._retained(resource):
            self._event(resource, "DELETE_SKIPPED")
            return
        self._event(resource, "DELETE_IN_PROGRESS")
        ctx = ResourceContext(self, resource.logical_id, resource.resource_type)
        try:
            guarded(ctx, handler.delete, resource.physical_id, resource.attributes)
        except ResourceFailure as failure:
            self._event(resource, "DELETE_FAILED", str(failure))
            return
        self._later(DELETE_SETTLE_SECONDS, self._resource_deleted, resource.logical_id)

    def _resource_deleted(self, logical_id: str) -> None:
        resource = self.resources[logical_id]
        if resource.status != "DELETE_IN_PROGRESS":
            return
        self._event(resource, "DELETE_COMPLETE")
        self.step()

    def seen(self, token: str | None, operation: str) -> bool:
        """Whether this request retries one already accepted (the same ClientRequestToken).

        CreateStack API reference: a client retries with the same token "so that CloudFormation
        knows that you're not attempting to create a stack with the same name"; a token already
        used for another operation is TokenAlreadyExistsException.
        """
        used = self.tokens.get(token) if token else None
        if used is not None and used != operation:
            raise TokenAlreadyExistsException(f"Another {used} request with the token {token} was made")
        return used is not None

    def remember(self, token: str | None, operation: str) -> None:
        """Record an accepted request's token (its events carry it)."""
        if token:
            self.tokens[token] = operation
            self.token = token

    # ------------------------------------------------------------------ API shapes

    def to_api(self) -> dict[str, Any]:
        parameters = [
            {
                "ParameterKey": name,
                "ParameterValue": "****" if self.template.parameters[name].no_echo else value,
            }
            for name, value in self.parameters.items()
        ]
        answer: dict[str, Any] = {
            "StackId": self.stack_id,
            "StackName": self.name,
            "Description": self.template.description,
            "Parameters": parameters,
            "CreationTime": to_datetime(self.created),
            "StackStatus": self.status,
            "StackStatusReason": self.reason,
            "DisableRollback": self.on_failure == "DO_NOTHING",
            "NotificationARNs": self.notification_arns,
            "Capabilities": self.capabilities,
            "Tags": self.tags,
            "EnableTerminationProtection": self.termination_protection,
            "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        }
        if self.outputs:  # AWS leaves Outputs out until the stack has them
            answer["Outputs"] = self.outputs
        if self.timeout_minutes is not None:
            answer["TimeoutInMinutes"] = self.timeout_minutes
        if self.role_arn:
            answer["RoleARN"] = self.role_arn
        if self.deleted is not None:
            answer["DeletionTime"] = to_datetime(self.deleted)
        if self.updated is not None:
            answer["LastUpdatedTime"] = to_datetime(self.updated)
        return answer

    def summary(self) -> dict[str, Any]:
        answer = {
            "StackId": self.stack_id,
            "StackName": self.name,
            "TemplateDescription": self.template.description,
            "CreationTime": to_datetime(self.created),
            "StackStatus": self.status,
            "StackStatusReason": self.reason,
            "DriftInformation": {"StackDriftStatus": "NOT_CHECKED"},
        }
        if self.deleted is not None:
            answer["DeletionTime"] = to_datetime(self.deleted)
        return answer

    def event_to_api(self, event: StackEvent) -> dict[str, Any]:
        return {
            "StackId": self.stack_id,
            "EventId": event.event_id,
            "StackName": self.name,
            "LogicalResourceId": event.logical_id,
            "PhysicalResourceId": event.physical_id,
            "ResourceType": event.resource_type,
            "Timestamp": to_datetime(event.timestamp),
            "ResourceStatus": event.status,
            "ResourceStatusReason": event.reason,
            "ClientRequestToken": event.token,
        }

    def started_resources(self) -> list[StackResource]:
        return [r for r in self.resources.values() if r.status != NOT_STARTED]


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
