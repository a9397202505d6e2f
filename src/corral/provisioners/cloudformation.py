"""CloudFormation stacks as Harness's Create Stack, Delete Stack and Rollback Stack steps use them.

    stack = StackRequest(stack_name="vpc", template_body=text, parameters=[...], ...)
    before = existing_stack(cfn, "vpc")                # what a rollback restores (None: it is new)
    done = create_or_update(cfn, stack, watch)         # CREATE_COMPLETE / UPDATE_COMPLETE, outputs
    restore(cfn, "vpc", before, watch)                 # Rollback Stack: the stack as it was
    delete(cfn, "vpc", watch)                          # Delete Stack

Everything goes through boto3's CloudFormation API (CreateStack, UpdateStack, DeleteStack,
DescribeStacks, DescribeStackEvents, GetTemplate) and reads statuses as AWS documents them
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/view-stack-events.html#cfn-console-view-stack-data-resources-status-codes):
an operation is over when the stack's status no longer ends in `_IN_PROGRESS`; CREATE_COMPLETE
and UPDATE_COMPLETE are success, ROLLBACK_COMPLETE after a create and UPDATE_ROLLBACK_COMPLETE
after an update mean CloudFormation undid a failed operation. A stack Harness would find in
ROLLBACK_COMPLETE (a failed first create, which can only be deleted) is deleted and created
again, as Harness's Create Stack step does. `skipOnStackStatuses` lists end statuses that count as
success. The stack events are logged as they come.
"""

from __future__ import annotations

import functools
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypedDict, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from corral.aws.clients import AwsSettings, Clients
from corral.errors import CorralError

IN_PROGRESS_SUFFIX = "_IN_PROGRESS"
NO_UPDATES = "No updates are to be performed"
SUCCESS = {"create": "CREATE_COMPLETE", "update": "UPDATE_COMPLETE", "delete": "DELETE_COMPLETE"}


class StackFailed(CorralError):
    """The stack operation ended in a status that is not success."""


class StackStopped(CorralError):
    """The step was aborted or ran out of time while the stack operation went on."""


class StackCallFailed(CorralError):
    """CloudFormation refused a call, or could not be reached, after Corral's retries."""


P = ParamSpec("P")
R = TypeVar("R")


def _aws_errors(function: Callable[P, R]) -> Callable[P, R]:
    """AWS's errors as one line naming the operation (a step's failure, not a traceback)."""

    @functools.wraps(function)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except ClientError as error:
            details = error.response.get("Error", {})
            operation = getattr(error, "operation_name", "call")
            raise StackCallFailed(
                f"AWS CloudFormation {operation} failed: {details.get('Code', 'Error')}: {details.get('Message', '')}"
            ) from None
        except BotoCoreError as error:
            raise StackCallFailed(f"AWS CloudFormation could not be reached: {error}") from None

    return wrapped


def _token() -> str:
    """A ClientRequestToken: Corral's retry of a request whose answer was lost repeats it, and
    CloudFormation recognises the retry instead of refusing it (the stack already exists, or is
    being updated) (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html)."""
    return f"corral-{uuid.uuid4().hex}"


@dataclass(frozen=True)
class StackPolling:
    """How often DescribeStacks is asked while an operation runs (seconds, growing)."""

    first: float = 1.0
    growth: float = 1.5
    slowest: float = 10.0


@dataclass
class Watch:
    """The step's log and stop signal, for the waits."""

    info: Callable[[str], None]
    stopped: Callable[[], bool]
    polling: StackPolling = field(default_factory=StackPolling)


@dataclass
class StackRequest:
    stack_name: str
    template_body: str | None = None
    template_url: str | None = None
    parameters: list[dict[str, str]] = field(default_factory=list)  # ParameterKey, ParameterValue
    capabilities: list[str] = field(default_factory=list)
    tags: list[dict[str, str]] = field(default_factory=list)  # Key, Value
    role_arn: str | None = None
    skip_on_statuses: tuple[str, ...] = ()
    # UpdateStack leaves a stack's tags alone when Tags is left out and removes them when it is
    # empty (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_UpdateStack.html):
    # Rollback Stack sends the tags from before even when there were none
    exact_tags: bool = False

    def api_arguments(self) -> dict[str, Any]:
        out: dict[str, Any] = {"StackName": self.stack_name, "Parameters": self.parameters}
        if self.template_url:
            out["TemplateURL"] = self.template_url
        else:
            out["TemplateBody"] = self.template_body or ""
        if self.capabilities:
            out["Capabilities"] = self.capabilities
        if self.tags or self.exact_tags:
            out["Tags"] = self.tags
        if self.role_arn:
            out["RoleARN"] = self.role_arn
        return out


@dataclass
class StackDone:
    status: str
    outputs: dict[str, str]
    stack_id: str | None = None
    changed: bool = True


def client(settings: AwsSettings) -> Any:
    """The CloudFormation client for a connector's settings (one per process and settings)."""
    return Clients.shared(settings).client("cloudformation")


# -- reading ---------------------------------------------------------------------------------


def describe(cfn: Any, stack_name: str) -> dict[str, Any] | None:
    """The stack (DescribeStacks), or None when there is none by that name."""
    try:
        stacks = cfn.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if _does_not_exist(error):
            return None
        raise
    return stacks[0] if stacks else None


@_aws_errors
class StackBefore(TypedDict):
    """A stack as Create Stack found it (journaled with the step): what Rollback Stack puts back.
    Keys as CloudFormation's request fields, so the journal reads like the API."""

    templateBody: str
    parameters: list[dict[str, str]]  # ParameterKey, ParameterValue
    tags: list[dict[str, str]]  # Key, Value
    capabilities: list[str]
    roleArn: str | None


def existing_stack(cfn: Any, stack_name: str) -> StackBefore | None:
    """What Rollback Stack needs to put the stack back as it is now: its template, parameters,
    tags and capabilities. None when there is no stack (or only a failed first create)."""
    stack = describe(cfn, stack_name)
    if stack is None or stack["StackStatus"] in ("ROLLBACK_COMPLETE", "DELETE_COMPLETE"):
        return None
    body = cfn.get_template(StackName=stack_name, TemplateStage="Original")["TemplateBody"]
    return StackBefore(
        templateBody=body if isinstance(body, str) else json.dumps(body),
        parameters=[
            {"ParameterKey": p["ParameterKey"], "ParameterValue": p.get("ParameterValue", "")}
            for p in stack.get("Parameters") or []
        ],
        tags=[{"Key": t["Key"], "Value": t["Value"]} for t in stack.get("Tags") or []],
        capabilities=list(stack.get("Capabilities") or []),
        roleArn=stack.get("RoleARN"),
    )


def outputs_of(stack: dict[str, Any]) -> dict[str, str]:
    return {o["OutputKey"]: o.get("OutputValue", "") for o in stack.get("Outputs") or []}


# -- Create Stack ----------------------------------------------------------------------------


@_aws_errors
def create_or_update(cfn: Any, request: StackRequest, watch: Watch) -> StackDone:
    """Create the stack, or update it when it exists; wait for CloudFormation to finish."""
    stack = describe(cfn, request.stack_name)
    if stack is not None and stack["StackStatus"].endswith(IN_PROGRESS_SUFFIX):
        watch.info(f"Stack {request.stack_name} is {stack['StackStatus']}: waiting for it to finish first")
        stack = _wait(cfn, stack["StackId"], watch)
    if stack is not None and stack["StackStatus"] == "ROLLBACK_COMPLETE":
        # a failed first create leaves a stack that can only be deleted
        watch.info(f"Stack {request.stack_name} is ROLLBACK_COMPLETE: deleting it before creating it again")
        delete(cfn, request.stack_name, watch, role_arn=request.role_arn)
        stack = None
    if stack is None:
        watch.info(f"Creating stack {request.stack_name}")
        stack_id = cfn.create_stack(**request.api_arguments(), ClientRequestToken=_token())["StackId"]
        return _finish(cfn, stack_id, "create", request, watch, earlier=set())
    earlier = _event_ids(cfn, stack["StackId"])
    watch.info(f"Updating stack {request.stack_name} ({stack['StackStatus']})")
    try:
        stack_id = cfn.update_stack(**request.api_arguments(), ClientRequestToken=_token())["StackId"]
    except ClientError as error:
        if NO_UPDATES in str(error):
            watch.info(f"Stack {request.stack_name}: no changes to make")
            return StackDone(stack["StackStatus"], outputs_of(stack), stack["StackId"], changed=False)
        raise
    return _finish(cfn, stack_id, "update", request, watch, earlier=earlier)


def _finish(
    cfn: Any, stack_id: str, operation: str, request: StackRequest, watch: Watch, *, earlier: set[str]
) -> StackDone:
    stack = _wait(cfn, stack_id, watch, earlier=earlier)
    status = stack["StackStatus"]
    if status == SUCCESS[operation] or status in request.skip_on_statuses:
        if status != SUCCESS[operation]:
            watch.info(f"Stack {request.stack_name} ended {status}, one of skipOnStackStatuses: success")
        return StackDone(status, outputs_of(stack), stack_id)
    raise StackFailed(_failure(cfn, stack, operation))


# -- Rollback Stack and Delete Stack ---------------------------------------------------------


@_aws_errors
def restore(cfn: Any, stack_name: str, before: StackBefore | None, watch: Watch) -> str:
    """The stack as `existing_stack` saw it before Create Stack: updated back, or deleted when
    Create Stack made it. Returns what was done."""
    if before is None:
        if describe(cfn, stack_name) is None:
            return "absent"
        delete(cfn, stack_name, watch)
        return "deleted"
    request = StackRequest(
        stack_name=stack_name,
        template_body=before["templateBody"],
        parameters=list(before["parameters"]),
        capabilities=list(before["capabilities"]),
        tags=list(before["tags"]),
        role_arn=before.get("roleArn"),
        exact_tags=True,
    )
    done = create_or_update(cfn, request, watch)
    return "updated" if done.changed else "unchanged"


@_aws_errors
def delete(cfn: Any, stack_name: str, watch: Watch, *, role_arn: str | None = None) -> bool:
    """Delete the stack and wait until it is gone; False when there was none."""
    stack = describe(cfn, stack_name)
    if stack is None:
        watch.info(f"Stack {stack_name} does not exist: nothing to delete")
        return False
    if stack["StackStatus"].endswith(IN_PROGRESS_SUFFIX):
        stack = _wait(cfn, stack["StackId"], watch)
    watch.info(f"Deleting stack {stack_name}")
    arguments = {"StackName": stack["StackId"], **({"RoleARN": role_arn} if role_arn else {})}
    earlier = _event_ids(cfn, stack["StackId"])
    cfn.delete_stack(**arguments)
    # by id: a deleted stack is still described by its id (DELETE_COMPLETE), not by its name
    stack = _wait(cfn, stack["StackId"], watch, earlier=earlier)
    if stack["StackStatus"] != "DELETE_COMPLETE":
        raise StackFailed(_failure(cfn, stack, "delete"))
    return True


# -- waiting ---------------------------------------------------------------------------------


def _wait(cfn: Any, stack_id: str, watch: Watch, *, earlier: set[str] | None = None) -> dict[str, Any]:
    """Describe the stack until its status no longer ends in _IN_PROGRESS, logging its events
    (those of this operation: not the `earlier` ones; None: the stack's events so far are old)."""
    seen = _event_ids(cfn, stack_id) if earlier is None else set(earlier)
    delay = watch.polling.first
    while True:
        stack = describe(cfn, stack_id)
        if stack is None:  # some endpoints forget a deleted stack at once
            return {"StackId": stack_id, "StackName": stack_id, "StackStatus": "DELETE_COMPLETE"}
        _log_events(cfn, stack_id, watch, seen)
        if not stack["StackStatus"].endswith(IN_PROGRESS_SUFFIX):
            return stack
        if watch.stopped():
            raise StackStopped(f"stopped while stack {stack.get('StackName')} was {stack['StackStatus']}")
        end = time.monotonic() + delay
        while time.monotonic() < end and not watch.stopped():
            time.sleep(min(0.1, delay))
        delay = min(delay * watch.polling.growth, watch.polling.slowest)


def _log_events(cfn: Any, stack_id: str, watch: Watch, seen: set[str]) -> None:
    events = _events(cfn, stack_id)
    for event in reversed(events):  # DescribeStackEvents lists the newest first
        if event["EventId"] in seen:
            continue
        seen.add(event["EventId"])
        reason = f": {event['ResourceStatusReason']}" if event.get("ResourceStatusReason") else ""
        watch.info(
            f"{event.get('LogicalResourceId')} ({event.get('ResourceType')}) {event.get('ResourceStatus')}{reason}"
        )


def _events(cfn: Any, stack_id: str) -> list[dict[str, Any]]:
    try:
        return list(cfn.describe_stack_events(StackName=stack_id).get("StackEvents") or [])
    except ClientError as error:
        if _does_not_exist(error):
            return []
        raise


def _event_ids(cfn: Any, stack: str) -> set[str]:
    """The stack's events so far: what came before an operation is not logged with it."""
    return {e["EventId"] for e in _events(cfn, stack)}


def _failure(cfn: Any, stack: dict[str, Any], operation: str) -> str:
    reasons = [
        f"{e.get('LogicalResourceId')} {e.get('ResourceStatus')}: {e.get('ResourceStatusReason')}"
        for e in reversed(_events(cfn, stack["StackId"]))
        if str(e.get("ResourceStatus", "")).endswith("_FAILED") and e.get("ResourceStatusReason")
    ]
    text = f"stack {stack.get('StackName')}: {operation} ended {stack['StackStatus']}"
    if stack.get("StackStatusReason"):
        text += f" ({stack['StackStatusReason']})"
    return text + ("; " + "; ".join(reasons[:5]) if reasons else "")


def _does_not_exist(error: ClientError) -> bool:
    return error.response.get("Error", {}).get("Code") == "ValidationError" and "does not exist" in str(error)
