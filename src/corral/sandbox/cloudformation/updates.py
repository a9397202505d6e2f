"""UpdateStack and its rollback, mixed into Stack.

AWS: "Update behaviors of stack resources" (no interruption / replacement; a custom-named
resource cannot be replaced), "Stack status codes" (UPDATE_IN_PROGRESS,
UPDATE_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_COMPLETE, UPDATE_FAILED, UPDATE_ROLLBACK_IN_PROGRESS,
UPDATE_ROLLBACK_FAILED, UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS, UPDATE_ROLLBACK_COMPLETE)
and ContinueUpdateRollback (ResourcesToSkip).

A resource whose resolved properties changed is updated in place when its type can apply the
change (resources/*: `update`, `replace_on`), else replaced: a new physical resource is created
during the update and the old one deleted in the cleanup phase. Resources the new template drops
are deleted in the cleanup phase too. On a failure every change is undone in reverse order
(in-place updates are applied back, replacements point back to the old resource) and what the
update created is deleted in the rollback's cleanup phase.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .exceptions import ValidationError
from .resources import TYPES, ResourceContext, ResourceFailure, guarded

if TYPE_CHECKING:
    from .stacks import Stack, StackResource
    from .template import Template

UPDATABLE = {"CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"}
REPLACING = "Requested update requires the creation of a new physical resource; hence creating one."


@dataclass
class Garbage:
    """A physical resource to delete in a cleanup phase."""

    logical_id: str
    resource_type: str
    physical_id: str
    attributes: dict[str, Any]
    depends_on: set[str] = field(default_factory=set)


@dataclass
class Change:
    kind: str  # "created", "updated", "replaced"
    logical_id: str
    old_properties: dict[str, Any] = field(default_factory=dict)
    old_physical_id: str | None = None
    old_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class Snapshot:
    template: Template
    template_body: str
    parameters: dict[str, str]
    conditions: dict[str, bool]
    outputs: list[dict[str, Any]]
    exports: list[str]
    tags: list[dict[str, str]]
    resources: dict[str, StackResource]


class StackUpdates:
    """UpdateStack for Stack (which defines the attributes and helpers used here)."""

    def start_update(
        self: Stack,
        *,
        template: Template,
        template_body: str,
        parameters: dict[str, str],
        capabilities: list[str],
        tags: list[dict[str, str]] | None,
        role_arn: str | None,
        disable_rollback: bool,
        token: str | None,
    ) -> None:
        if self.status not in UPDATABLE:
            raise ValidationError(f"Stack:{self.stack_id} is in {self.status} state and can not be updated.")
        new_tags = self.tags if tags is None else tags
        if template_body == self.template_body and parameters == self.parameters and new_tags == self.tags:
            raise ValidationError("No updates are to be performed.")
        self.remember(token, "UpdateStack")
        self.snapshot = Snapshot(
            template=self.template,
            template_body=self.template_body,
            parameters=dict(self.parameters),
            conditions=dict(self.conditions),
            outputs=list(self.outputs),
            exports=list(self.exports),
            tags=list(self.tags),
            resources=copy.deepcopy(self.resources),
        )
        self.template, self.template_body, self.parameters = template, template_body, parameters
        self.capabilities, self.tags = capabilities, new_tags
        if role_arn:
            self.role_arn = role_arn
        self.update_disable_rollback = disable_rollback
        self.conditions = self._conditions()
        self.changes: list[Change] = []
        self.garbage: list[Garbage] = []
        self.revert_queue: list[Change] = []
        resources: dict[str, StackResource] = {}
        from .stacks import StackResource  # the module imports this one

        for logical_id, spec in template.resources.items():
            if not self._active(spec):
                continue
            old = self.resources.get(logical_id)
            if old is not None and old.resource_type == spec["Type"]:
                old.depends_on = template.dependencies[logical_id]
                old.deletion_policy = str(spec.get("DeletionPolicy", "Delete"))
                resources[logical_id] = old
            else:
                resources[logical_id] = StackResource(
                    logical_id=logical_id,
                    resource_type=spec["Type"],
                    depends_on=template.dependencies[logical_id],
                    deletion_policy=str(spec.get("DeletionPolicy", "Delete")),
                )
        for logical_id, old in self.resources.items():
            if (
                resources.get(logical_id) is not old
                and old.physical_id
                and old.status not in ("DELETE_COMPLETE",)
            ):
                self.garbage.append(
                    Garbage(
                        logical_id, old.resource_type, old.physical_id, old.attributes, set(old.depends_on)
                    )
                )
        self.resources = resources
        self.update_pending = set(resources)
        self.updated = self._now()
        self._event(None, "UPDATE_IN_PROGRESS", "User Initiated")
        self._later(1.0, self.step)

    # ------------------------------------------------------------------ forward

    def _update_step(self: Stack) -> None:
        for resource in list(self.resources.values()):
            if self._update_failures():
                break
            if resource.logical_id not in self.update_pending:
                continue
            deps = [self.resources[d] for d in resource.depends_on if d in self.resources]
            if any(d.logical_id in self.update_pending or d.status.endswith("_IN_PROGRESS") for d in deps):
                continue
            self.update_pending.discard(resource.logical_id)
            if resource.status == "":
                self.changes.append(Change("created", resource.logical_id))
                self._create_resource(resource)
            else:
                self._update_resource(resource)
        if self._update_failures():
            self._update_failed()
            return
        if self.update_pending or any(r.status.endswith("_IN_PROGRESS") for r in self.resources.values()):
            return
        try:
            outputs = self._resolve_outputs()
            self.backend.claim_exports(self, outputs, replacing=self.snapshot.exports)
        except ValidationError as error:
            self._update_failed(f"{error.message}. ")
            return
        self.outputs = outputs
        self.exports = [o["ExportName"] for o in outputs if "ExportName" in o]
        if self.garbage:
            self._event(None, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
            self._later(1.0, self.step)
        else:
            self._event(None, "UPDATE_COMPLETE")

    def _update_failures(self: Stack) -> list[str]:
        return [
            r.logical_id for r in self.resources.values() if r.status in ("UPDATE_FAILED", "CREATE_FAILED")
        ]

    def _update_resource(self: Stack, resource: StackResource) -> None:
        handler = TYPES.get(resource.resource_type)
        spec = self.template.resources[resource.logical_id]
        try:
            new = self._resolver().resolve(spec.get("Properties") or {})
        except ValidationError as error:
            self._event(resource, "UPDATE_FAILED", error.message)
            return
        if new == resource.properties or handler is None:
            return
        changed = {k for k in set(new) | set(resource.properties) if new.get(k) != resource.properties.get(k)}
        ctx = ResourceContext(self, resource.logical_id, resource.resource_type)
        ctx.physical_id, ctx.attributes = resource.physical_id, dict(resource.attributes)
        if handler.can_update(changed):
            self.changes.append(Change("updated", resource.logical_id, resource.properties))
            self._event(resource, "UPDATE_IN_PROGRESS")
            try:
                guarded(ctx, handler.update, resource.properties, new)
            except ResourceFailure as failure:
                self._event(resource, "UPDATE_FAILED", str(failure))
                return
            resource.properties, resource.attributes = new, ctx.attributes
            self._later(handler.settle_seconds, self._resource_updated, resource.logical_id)
            return
        name = handler.name_property
        if name and new.get(name) is not None and new.get(name) == resource.properties.get(name):
            self._event(
                resource,
                "UPDATE_FAILED",
                "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
                f"Rename {new[name]} and update the stack again.",
            )
            return
        change = Change(
            "replaced", resource.logical_id, resource.properties, resource.physical_id, resource.attributes
        )
        self.changes.append(change)
        self._event(resource, "UPDATE_IN_PROGRESS", REPLACING)
        fresh = ResourceContext(self, resource.logical_id, resource.resource_type)
        try:
            guarded(fresh, handler.create, new)
        except ResourceFailure as failure:
            if fresh.physical_id:
                self.garbage.append(
                    Garbage(resource.logical_id, resource.resource_type, fresh.physical_id, fresh.attributes)
                )
            self._event(resource, "UPDATE_FAILED", str(failure))
            return
        resource.physical_id, resource.attributes, resource.properties = (
            fresh.physical_id,
            fresh.attributes,
            new,
        )
        self._event(resource, "UPDATE_IN_PROGRESS", "Resource creation Initiated")
        self.garbage.append(
            Garbage(
                resource.logical_id,
                resource.resource_type,
                change.old_physical_id or "",
                change.old_attributes,
            )
        )
        self._later(handler.settle_seconds, self._resource_updated, resource.logical_id)

    def _resource_updated(self: Stack, logical_id: str) -> None:
        resource = self.resources.get(logical_id)
        if resource is None or self.status != "UPDATE_IN_PROGRESS" or resource.status != "UPDATE_IN_PROGRESS":
            return
        self._event(resource, "UPDATE_COMPLETE")
        self.step()

    def _update_failed(self: Stack, reason: str | None = None) -> None:
        failed = self._update_failures()
        created = all(self.resources[name].status == "CREATE_FAILED" for name in failed)
        for resource in self.resources.values():
            if resource.status == "UPDATE_IN_PROGRESS":
                self._event(resource, "UPDATE_FAILED", "Resource update cancelled")
            elif resource.status == "CREATE_IN_PROGRESS":
                self._event(resource, "CREATE_FAILED", "Resource creation cancelled")
        verb = "create" if failed and created else "update"
        reason = reason or f"The following resource(s) failed to {verb}: [{', '.join(failed)}]. "
        if self.update_disable_rollback:
            self._event(None, "UPDATE_FAILED", reason)
            return
        self._begin_update_rollback(reason)

    # ------------------------------------------------------------------ rollback

    def _begin_update_rollback(self: Stack, reason: str) -> None:
        """Undo in reverse order; what this update made (new and replacement resources) is cleaned up."""
        old_ids = {r.physical_id for r in self.snapshot.resources.values() if r.physical_id}
        made: list[Garbage] = []
        for change in self.changes:
            resource = self.resources.get(change.logical_id)
            if resource is None or not resource.physical_id or resource.physical_id in old_ids:
                continue
            depends = set(resource.depends_on) if change.kind == "created" else set()
            made.append(
                Garbage(
                    resource.logical_id,
                    resource.resource_type,
                    resource.physical_id,
                    resource.attributes,
                    depends,
                )
            )
        # half-made replacements were queued when they failed; removed and replaced old resources stay
        made += [
            g
            for g in self.garbage
            if g.physical_id not in old_ids and all(g.physical_id != m.physical_id for m in made)
        ]
        self.garbage = made
        self.revert_queue = [c for c in reversed(self.changes) if c.kind != "created"]
        self._event(None, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
        self._later(1.0, self.step)

    def roll_back_failed_update(self: Stack) -> None:
        """RollbackStack on a stack whose update failed with rollback disabled."""
        self._begin_update_rollback("Rollback requested by user.")

    def _update_rollback_step(self: Stack) -> None:
        restored = self.snapshot.resources
        while self.revert_queue:
            change = self.revert_queue[0]
            old = restored.get(change.logical_id)
            current = self.resources.get(change.logical_id)
            if old is None or current is None:
                self.revert_queue.pop(0)
                continue
            self._event(old, "UPDATE_IN_PROGRESS")
            if change.kind == "updated":
                handler = TYPES[old.resource_type]
                ctx = ResourceContext(self, old.logical_id, old.resource_type)
                ctx.physical_id, ctx.attributes = old.physical_id, dict(current.attributes)
                try:
                    guarded(ctx, handler.update, current.properties, change.old_properties)
                except ResourceFailure as failure:
                    self._event(old, "UPDATE_FAILED", str(failure))
                    self._event(
                        None,
                        "UPDATE_ROLLBACK_FAILED",
                        f"The following resource(s) failed to update: [{old.logical_id}]. ",
                    )
                    return
            self.revert_queue.pop(0)
            self._event(old, "UPDATE_COMPLETE")
        self.resources = restored
        self.template, self.template_body = self.snapshot.template, self.snapshot.template_body
        self.parameters, self.conditions = self.snapshot.parameters, self.snapshot.conditions
        self.outputs, self.exports, self.tags = (
            self.snapshot.outputs,
            self.snapshot.exports,
            self.snapshot.tags,
        )
        self._event(None, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
        self._later(1.0, self.step)

    def continue_update_rollback(self: Stack, skip: list[str]) -> None:
        if self.status != "UPDATE_ROLLBACK_FAILED":
            raise ValidationError(
                f"Stack {self.stack_id} is in {self.status} state and can not continue update rollback"
            )
        unknown = [s for s in skip if s not in {c.logical_id for c in self.revert_queue}]
        if unknown:
            raise ValidationError(
                f"Resources [{', '.join(unknown)}] cannot be skipped: only resources in the UPDATE_FAILED "
                "state can be skipped"
            )
        for change in list(self.revert_queue):
            if change.logical_id in skip:
                self.revert_queue.remove(change)
                old = self.snapshot.resources.get(change.logical_id)
                if old is not None:
                    self._event(old, "UPDATE_COMPLETE", "Resource skipped during rollback")
        self._event(None, "UPDATE_ROLLBACK_IN_PROGRESS", "Continue update rollback requested by user.")
        self._later(1.0, self.step)

    # ------------------------------------------------------------------ cleanup

    def _cleanup_step(self: Stack) -> None:
        """Delete the garbage, dependents first; a failed cleanup deletion does not fail the stack."""
        rolling_back = self.status == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
        remaining = list(self.garbage)
        while remaining:
            ready = [
                g for g in remaining if not any(g.logical_id in o.depends_on for o in remaining if o is not g)
            ]
            item = (ready or remaining)[-1]
            remaining.remove(item)
            self._delete_garbage(item, rolling_back=rolling_back)
        self.garbage = []
        self._event(None, "UPDATE_ROLLBACK_COMPLETE" if rolling_back else "UPDATE_COMPLETE")

    def _delete_garbage(self: Stack, item: Garbage, *, rolling_back: bool) -> None:
        handler = TYPES.get(item.resource_type)
        if handler is None or not item.physical_id:
            return
        from .stacks import StackResource

        shown = StackResource(
            item.logical_id, item.resource_type, set(), "Delete", physical_id=item.physical_id
        )
        self._event(shown, "DELETE_IN_PROGRESS")
        ctx = ResourceContext(self, item.logical_id, item.resource_type)
        try:
            guarded(ctx, handler.delete, item.physical_id, item.attributes)
        except ResourceFailure as failure:
            self._event(shown, "DELETE_FAILED", str(failure))
            return
        self._event(shown, "DELETE_COMPLETE")
