"""UpdateStack and its rollback: functions of a Stack (stacks.py), whose state and helpers they use.

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


def _snapshot(stack: Stack) -> Snapshot:
    """The stack as it was before the update (start_update takes it)."""
    if stack.snapshot is None:
        raise RuntimeError(f"stack {stack.name} has no update in progress")
    return stack.snapshot


def start_update(
    stack: Stack,
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
    if stack.status not in UPDATABLE:
        raise ValidationError(f"Stack:{stack.stack_id} is in {stack.status} state and can not be updated.")
    new_tags = stack.tags if tags is None else tags
    if template_body == stack.template_body and parameters == stack.parameters and new_tags == stack.tags:
        raise ValidationError("No updates are to be performed.")
    stack.remember(token, "UpdateStack")
    stack.snapshot = Snapshot(
        template=stack.template,
        template_body=stack.template_body,
        parameters=dict(stack.parameters),
        conditions=dict(stack.conditions),
        outputs=list(stack.outputs),
        exports=list(stack.exports),
        tags=list(stack.tags),
        resources=copy.deepcopy(stack.resources),
    )
    stack.template, stack.template_body, stack.parameters = template, template_body, parameters
    stack.capabilities, stack.tags = capabilities, new_tags
    if role_arn:
        stack.role_arn = role_arn
    stack.update_disable_rollback = disable_rollback
    stack.conditions = stack._conditions()
    stack.changes = []
    stack.garbage = []
    stack.revert_queue = []
    resources: dict[str, StackResource] = {}
    from .stacks import StackResource  # the module imports this one

    for logical_id, spec in template.resources.items():
        if not stack._active(spec):
            continue
        old = stack.resources.get(logical_id)
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
    for logical_id, old in stack.resources.items():
        if (
            resources.get(logical_id) is not old
            and old.physical_id
            and old.status not in ("DELETE_COMPLETE",)
        ):
            stack.garbage.append(
                Garbage(logical_id, old.resource_type, old.physical_id, old.attributes, set(old.depends_on))
            )
    stack.resources = resources
    stack.update_pending = set(resources)
    stack.updated = stack._now()
    stack._event(None, "UPDATE_IN_PROGRESS", "User Initiated")
    stack._later(1.0, stack.step)


# ---------------------------------------------------------------------- forward


def update_step(stack: Stack) -> None:
    for resource in list(stack.resources.values()):
        if _update_failures(stack):
            break
        if resource.logical_id not in stack.update_pending:
            continue
        deps = [stack.resources[d] for d in resource.depends_on if d in stack.resources]
        if any(d.logical_id in stack.update_pending or d.status.endswith("_IN_PROGRESS") for d in deps):
            continue
        stack.update_pending.discard(resource.logical_id)
        if resource.status == "":
            stack.changes.append(Change("created", resource.logical_id))
            stack._create_resource(resource)
        else:
            _update_resource(stack, resource)
    if _update_failures(stack):
        _update_failed(stack)
        return
    if stack.update_pending or any(r.status.endswith("_IN_PROGRESS") for r in stack.resources.values()):
        return
    try:
        outputs = stack._resolve_outputs()
        stack.backend.claim_exports(stack, outputs, replacing=_snapshot(stack).exports)
    except ValidationError as error:
        _update_failed(stack, f"{error.message}. ")
        return
    stack.outputs = outputs
    stack.exports = [o["ExportName"] for o in outputs if "ExportName" in o]
    if stack.garbage:
        stack._event(None, "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS")
        stack._later(1.0, stack.step)
    else:
        stack._event(None, "UPDATE_COMPLETE")


def _update_failures(stack: Stack) -> list[str]:
    return [r.logical_id for r in stack.resources.values() if r.status in ("UPDATE_FAILED", "CREATE_FAILED")]


def _update_resource(stack: Stack, resource: StackResource) -> None:
    handler = TYPES.get(resource.resource_type)
    spec = stack.template.resources[resource.logical_id]
    try:
        new = stack._resolver().resolve(spec.get("Properties") or {})
    except ValidationError as error:
        stack._event(resource, "UPDATE_FAILED", error.message)
        return
    if new == resource.properties or handler is None:
        return
    changed = {k for k in set(new) | set(resource.properties) if new.get(k) != resource.properties.get(k)}
    ctx = ResourceContext(stack, resource.logical_id, resource.resource_type)
    ctx.physical_id, ctx.attributes = resource.physical_id, dict(resource.attributes)
    if handler.can_update(changed):
        stack.changes.append(Change("updated", resource.logical_id, resource.properties))
        stack._event(resource, "UPDATE_IN_PROGRESS")
        try:
            guarded(ctx, handler.update, resource.properties, new)
        except ResourceFailure as failure:
            stack._event(resource, "UPDATE_FAILED", str(failure))
            return
        resource.properties, resource.attributes = new, ctx.attributes
        stack._later(handler.settle_seconds, _resource_updated, stack, resource.logical_id)
        return
    name = handler.name_property
    if name and new.get(name) is not None and new.get(name) == resource.properties.get(name):
        stack._event(
            resource,
            "UPDATE_FAILED",
            "CloudFormation cannot update a stack when a custom-named resource requires replacing. "
            f"Rename {new[name]} and update the stack again.",
        )
        return
    change = Change(
        "replaced", resource.logical_id, resource.properties, resource.physical_id, resource.attributes
    )
    stack.changes.append(change)
    stack._event(resource, "UPDATE_IN_PROGRESS", REPLACING)
    fresh = ResourceContext(stack, resource.logical_id, resource.resource_type)
    try:
        guarded(fresh, handler.create, new)
    except ResourceFailure as failure:
        if fresh.physical_id:
            stack.garbage.append(
                Garbage(resource.logical_id, resource.resource_type, fresh.physical_id, fresh.attributes)
            )
        stack._event(resource, "UPDATE_FAILED", str(failure))
        return
    resource.physical_id, resource.attributes, resource.properties = (
        fresh.physical_id,
        fresh.attributes,
        new,
    )
    stack._event(resource, "UPDATE_IN_PROGRESS", "Resource creation Initiated")
    stack.garbage.append(
        Garbage(
            resource.logical_id,
            resource.resource_type,
            change.old_physical_id or "",
            change.old_attributes,
        )
    )
    stack._later(handler.settle_seconds, _resource_updated, stack, resource.logical_id)


def _resource_updated(stack: Stack, logical_id: str) -> None:
    resource = stack.resources.get(logical_id)
    if resource is None or stack.status != "UPDATE_IN_PROGRESS" or resource.status != "UPDATE_IN_PROGRESS":
        return
    stack._event(resource, "UPDATE_COMPLETE")
    stack.step()


def _update_failed(stack: Stack, reason: str | None = None) -> None:
    failed = _update_failures(stack)
    created = all(stack.resources[name].status == "CREATE_FAILED" for name in failed)
    for resource in stack.resources.values():
        if resource.status == "UPDATE_IN_PROGRESS":
            stack._event(resource, "UPDATE_FAILED", "Resource update cancelled")
        elif resource.status == "CREATE_IN_PROGRESS":
            stack._event(resource, "CREATE_FAILED", "Resource creation cancelled")
    verb = "create" if failed and created else "update"
    reason = reason or f"The following resource(s) failed to {verb}: [{', '.join(failed)}]. "
    if stack.update_disable_rollback:
        stack._event(None, "UPDATE_FAILED", reason)
        return
    _begin_update_rollback(stack, reason)


# ---------------------------------------------------------------------- rollback


def _begin_update_rollback(stack: Stack, reason: str) -> None:
    """Undo in reverse order; what this update made (new and replacement resources) is cleaned up."""
    old_ids = {r.physical_id for r in _snapshot(stack).resources.values() if r.physical_id}
    made: list[Garbage] = []
    for change in stack.changes:
        resource = stack.resources.get(change.logical_id)
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
        for g in stack.garbage
        if g.physical_id not in old_ids and all(g.physical_id != m.physical_id for m in made)
    ]
    stack.garbage = made
    stack.revert_queue = [c for c in reversed(stack.changes) if c.kind != "created"]
    stack._event(None, "UPDATE_ROLLBACK_IN_PROGRESS", reason)
    stack._later(1.0, stack.step)


def roll_back_failed_update(stack: Stack) -> None:
    """RollbackStack on a stack whose update failed with rollback disabled."""
    _begin_update_rollback(stack, "Rollback requested by user.")


def update_rollback_step(stack: Stack) -> None:
    before = _snapshot(stack)
    restored = before.resources
    while stack.revert_queue:
        change = stack.revert_queue[0]
        old = restored.get(change.logical_id)
        current = stack.resources.get(change.logical_id)
        if old is None or current is None:
            stack.revert_queue.pop(0)
            continue
        stack._event(old, "UPDATE_IN_PROGRESS")
        if change.kind == "updated":
            handler = TYPES[old.resource_type]
            ctx = ResourceContext(stack, old.logical_id, old.resource_type)
            ctx.physical_id, ctx.attributes = old.physical_id, dict(current.attributes)
            try:
                guarded(ctx, handler.update, current.properties, change.old_properties)
            except ResourceFailure as failure:
                stack._event(old, "UPDATE_FAILED", str(failure))
                stack._event(
                    None,
                    "UPDATE_ROLLBACK_FAILED",
                    f"The following resource(s) failed to update: [{old.logical_id}]. ",
                )
                return
        stack.revert_queue.pop(0)
        stack._event(old, "UPDATE_COMPLETE")
    stack.resources = restored
    stack.template, stack.template_body = before.template, before.template_body
    stack.parameters, stack.conditions = before.parameters, before.conditions
    stack.outputs, stack.exports, stack.tags = (
        before.outputs,
        before.exports,
        before.tags,
    )
    stack._event(None, "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS")
    stack._later(1.0, stack.step)


def continue_update_rollback(stack: Stack, skip: list[str]) -> None:
    if stack.status != "UPDATE_ROLLBACK_FAILED":
        raise ValidationError(
            f"Stack {stack.stack_id} is in {stack.status} state and can not continue update rollback"
        )
    unknown = [s for s in skip if s not in {c.logical_id for c in stack.revert_queue}]
    if unknown:
        raise ValidationError(
            f"Resources [{', '.join(unknown)}] cannot be skipped: only resources in the UPDATE_FAILED "
            "state can be skipped"
        )
    for change in list(stack.revert_queue):
        if change.logical_id in skip:
            stack.revert_queue.remove(change)
            old = _snapshot(stack).resources.get(change.logical_id)
            if old is not None:
                stack._event(old, "UPDATE_COMPLETE", "Resource skipped during rollback")
    stack._event(None, "UPDATE_ROLLBACK_IN_PROGRESS", "Continue update rollback requested by user.")
    stack._later(1.0, stack.step)


# ---------------------------------------------------------------------- cleanup


def cleanup_step(stack: Stack) -> None:
    """Delete the garbage, dependents first; a failed cleanup deletion does not fail the stack."""
    rolling_back = stack.status == "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS"
    remaining = list(stack.garbage)
    while remaining:
        ready = [
            g for g in remaining if not any(g.logical_id in o.depends_on for o in remaining if o is not g)
        ]
        item = (ready or remaining)[-1]
        remaining.remove(item)
        _delete_garbage(stack, item, rolling_back=rolling_back)
    stack.garbage = []
    stack._event(None, "UPDATE_ROLLBACK_COMPLETE" if rolling_back else "UPDATE_COMPLETE")


def _delete_garbage(stack: Stack, item: Garbage, *, rolling_back: bool) -> None:
    handler = TYPES.get(item.resource_type)
    if handler is None or not item.physical_id:
        return
    from .stacks import StackResource

    shown = StackResource(item.logical_id, item.resource_type, set(), "Delete", physical_id=item.physical_id)
    stack._event(shown, "DELETE_IN_PROGRESS")
    ctx = ResourceContext(stack, item.logical_id, item.resource_type)
    try:
        guarded(ctx, handler.delete, item.physical_id, item.attributes)
    except ResourceFailure as failure:
        stack._event(shown, "DELETE_FAILED", str(failure))
        return
    stack._event(shown, "DELETE_COMPLETE")
