"""Thin handlers for the CloudFormation API (shapes from botocore's model of the service)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.clock import to_datetime
from . import updates
from .backend import Backend
from .exceptions import ValidationError

Params = dict[str, Any]
Handler = Callable[[Backend, Params], dict[str, Any]]
PAGE = 100


def _page(items: list[Any], params: Params) -> tuple[list[Any], str | None]:
    token = params.get("NextToken")
    try:
        start = int(token) if token else 0
    except ValueError as exc:
        raise ValidationError("Invalid NextToken") from exc
    return items[start : start + PAGE], str(start + PAGE) if start + PAGE < len(items) else None


def create_stack(backend: Backend, params: Params) -> dict[str, Any]:
    return {"StackId": backend.create_stack(params).stack_id}


def delete_stack(backend: Backend, params: Params) -> dict[str, Any]:
    stack = backend.find(params["StackName"])
    retain = list(params.get("RetainResources") or [])
    if stack is None or stack.status in ("DELETE_COMPLETE", "DELETE_IN_PROGRESS"):
        return {}  # deleting a stack that does not exist succeeds (DeleteStack API reference)
    token = params.get("ClientRequestToken")
    if stack.seen(token, "DeleteStack"):
        return {}
    if stack.status.startswith("UPDATE") and stack.status.endswith("_IN_PROGRESS"):
        raise ValidationError(f"Stack [{stack.name}] is in {stack.status} state and can not be deleted")
    if stack.termination_protection:
        raise ValidationError(
            f"Stack [{stack.name}] cannot be deleted while TerminationProtection is enabled"
        )
    if retain and stack.status != "DELETE_FAILED":
        raise ValidationError(
            f"Invalid operation on stack [{stack.stack_id}]. RetainResources can only be specified "
            "when the stack is in the DELETE_FAILED state"
        )
    stack.remember(token, "DeleteStack")
    stack.start_delete(retain)
    return {}


def rollback_stack(backend: Backend, params: Params) -> dict[str, Any]:
    """From CREATE_FAILED or UPDATE_FAILED (rollback was disabled), as the RollbackStack reference says."""
    stack = backend.get(params["StackName"])
    token = params.get("ClientRequestToken")
    if stack.seen(token, "RollbackStack"):
        return {"StackId": stack.stack_id}
    if stack.status not in ("CREATE_FAILED", "UPDATE_FAILED"):
        raise ValidationError(f"Stack {stack.stack_id} is in {stack.status} state and can not be rolled back")
    stack.remember(token, "RollbackStack")
    if stack.status == "CREATE_FAILED":
        stack.start_rollback()
    else:
        updates.roll_back_failed_update(stack)
    return {"StackId": stack.stack_id}


def continue_update_rollback(backend: Backend, params: Params) -> dict[str, Any]:
    stack = backend.get(params["StackName"])
    updates.continue_update_rollback(stack, list(params.get("ResourcesToSkip") or []))
    return {}


def update_stack(backend: Backend, params: Params) -> dict[str, Any]:
    return {"StackId": backend.update_stack(params).stack_id}


def update_termination_protection(backend: Backend, params: Params) -> dict[str, Any]:
    stack = backend.get(params["StackName"])
    stack.termination_protection = bool(params["EnableTerminationProtection"])
    return {"StackId": stack.stack_id}


def describe_stacks(backend: Backend, params: Params) -> dict[str, Any]:
    name = params.get("StackName")
    stacks = [backend.get(name)] if name else [s for s in backend.stacks if not s.is_deleted]
    page, token = _page(list(reversed(stacks)), params)
    return {"Stacks": [s.to_api() for s in page], "NextToken": token}


def list_stacks(backend: Backend, params: Params) -> dict[str, Any]:
    wanted = set(params.get("StackStatusFilter") or [])
    stacks = [s for s in reversed(backend.stacks) if not wanted or s.status in wanted]
    page, token = _page(stacks, params)
    return {"StackSummaries": [s.summary() for s in page], "NextToken": token}


def describe_stack_events(backend: Backend, params: Params) -> dict[str, Any]:
    stack = backend.get(params["StackName"])
    page, token = _page(list(reversed(stack.events)), params)  # newest first, as AWS lists them
    return {"StackEvents": [stack.event_to_api(e) for e in page], "NextToken": token}


def describe_stack_resources(backend: Backend, params: Params) -> dict[str, Any]:
    name, physical = params.get("StackName"), params.get("PhysicalResourceId")
    if name is None and physical is None:
        raise ValidationError("Either StackName or PhysicalResourceId must be specified.")
    if name is not None:
        stack = backend.get(name)
    else:
        found = next(
            (s for s in backend.stacks if any(r.physical_id == physical for r in s.resources.values())), None
        )
        if found is None:
            raise ValidationError(f"Stack for {physical} does not exist")
        stack = found
    logical = params.get("LogicalResourceId")
    rows = []
    for resource in stack.started_resources():
        if logical is not None and resource.logical_id != logical:
            continue
        row = resource.summary()
        row.pop("DriftInformation")
        row.update(StackName=stack.name, StackId=stack.stack_id, Timestamp=to_datetime(resource.updated))
        rows.append(row)
    return {"StackResources": rows}


def describe_stack_resource(backend: Backend, params: Params) -> dict[str, Any]:
    stack = backend.get(params["StackName"])
    resource = stack.resources.get(params["LogicalResourceId"])
    if resource is None or resource.status == "":
        raise ValidationError(f"Resource {params['LogicalResourceId']} does not exist for stack {stack.name}")
    row = resource.summary()
    row.update(
        StackName=stack.name,
        StackId=stack.stack_id,
        LastUpdatedTimestamp=to_datetime(resource.updated),
    )
    return {"StackResourceDetail": row}


def list_stack_resources(backend: Backend, params: Params) -> dict[str, Any]:
    stack = backend.get(params["StackName"])
    rows = []
    for resource in stack.started_resources():
        row = resource.summary()
        row["LastUpdatedTimestamp"] = to_datetime(resource.updated)
        rows.append(row)
    page, token = _page(rows, params)
    return {"StackResourceSummaries": page, "NextToken": token}


def get_template(backend: Backend, params: Params) -> dict[str, Any]:
    stack = backend.get(params["StackName"])
    return {"TemplateBody": stack.template_body, "StagesAvailable": ["Original", "Processed"]}


def validate_template(backend: Backend, params: Params) -> dict[str, Any]:
    template = backend.load_template(backend.template_body(params))
    capabilities, reason = template.required_capabilities()
    answer: dict[str, Any] = {
        "Parameters": [
            {
                "ParameterKey": p.name,
                "NoEcho": p.no_echo,
                "Description": p.description,
                **({"DefaultValue": p.default} if p.default is not None else {}),
            }
            for p in template.parameters.values()
        ],
        "Description": template.description,
        "Capabilities": capabilities,
        "DeclaredTransforms": [],
    }
    if reason:
        answer["CapabilitiesReason"] = reason
    return answer


def get_template_summary(backend: Backend, params: Params) -> dict[str, Any]:
    """A template's parameters, capabilities and resource types (of a stack, or of a template given)."""
    name = params.get("StackName")
    template = backend.get(name).template if name else backend.load_template(backend.template_body(params))
    capabilities, reason = template.required_capabilities()
    answer: dict[str, Any] = {
        "Parameters": [
            {
                "ParameterKey": p.name,
                "ParameterType": p.type,
                "NoEcho": p.no_echo,
                "Description": p.description,
                "ParameterConstraints": {"AllowedValues": [str(v) for v in p.spec.get("AllowedValues", [])]},
                **({"DefaultValue": p.default} if p.default is not None else {}),
            }
            for p in template.parameters.values()
        ],
        "Description": template.description,
        "Capabilities": capabilities,
        "ResourceTypes": sorted({spec["Type"] for spec in template.resources.values()}),
        "Version": str(template.body.get("AWSTemplateFormatVersion", "2010-09-09")),
        "DeclaredTransforms": [],
    }
    if reason:
        answer["CapabilitiesReason"] = reason
    return answer


def list_exports(backend: Backend, params: Params) -> dict[str, Any]:
    rows = [
        {"ExportingStackId": sid, "Name": name, "Value": value}
        for name, (sid, value) in backend.exports.items()
    ]
    page, token = _page(rows, params)
    return {"Exports": page, "NextToken": token}


def list_imports(backend: Backend, params: Params) -> dict[str, Any]:
    name = params["ExportName"]
    importers = backend.imports_of(name)
    if not importers:
        raise ValidationError(f"Export '{name}' is not imported by any stack.")
    page, token = _page(importers, params)
    return {"Imports": page, "NextToken": token}


OPERATIONS: dict[str, Handler] = {
    "CreateStack": create_stack,
    "DeleteStack": delete_stack,
    "RollbackStack": rollback_stack,
    "ContinueUpdateRollback": continue_update_rollback,
    "UpdateStack": update_stack,
    "UpdateTerminationProtection": update_termination_protection,
    "DescribeStacks": describe_stacks,
    "ListStacks": list_stacks,
    "DescribeStackEvents": describe_stack_events,
    "DescribeStackResources": describe_stack_resources,
    "DescribeStackResource": describe_stack_resource,
    "ListStackResources": list_stack_resources,
    "GetTemplate": get_template,
    "ValidateTemplate": validate_template,
    "GetTemplateSummary": get_template_summary,
    "ListExports": list_exports,
    "ListImports": list_imports,
}
