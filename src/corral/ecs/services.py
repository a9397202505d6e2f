"""ECS service calls the steps share: describe, create, update, delete and wait, tags.

Each logs in the reference's words and takes the `StepContext`; callers make them inside
`with ctx.calls():`. Waiting goes through the shared `ServicePoller` of the cluster, never a loop
of our own.
"""

from __future__ import annotations

import uuid
from typing import Any

from botocore.exceptions import ClientError

from .context import StepAborted, StepContext, StepTimedOut

GONE = ("INACTIVE", "MISSING")


def describe_service(ctx: StepContext, cluster: str, name: str) -> dict[str, Any] | None:
    """The service as DescribeServices answers it (tags included), or None when it is MISSING."""
    answer = ctx.clients.ecs.describe_services(cluster=cluster, services=[name], include=["TAGS"])
    return answer["services"][0] if answer["services"] else None


def primary_deployment(service: dict[str, Any]) -> dict[str, Any] | None:
    return next((d for d in service.get("deployments", []) if d.get("status") == "PRIMARY"), None)


def primary_deployment_id(service: dict[str, Any]) -> str | None:
    primary = primary_deployment(service)
    return primary.get("id") if primary is not None else None


def wait_for_status(ctx: StepContext, cluster: str, name: str, statuses: tuple[str, ...]) -> dict[str, Any]:
    """Block until the service's status is one of `statuses` (MISSING counts as gone)."""
    from corral.aws.poller import ServicePoller
    from corral.aws.retry import Aborted

    with ServicePoller.for_cluster(ctx.clients, cluster).watch(name) as watch:
        try:
            return watch.wait(lambda s: s.get("status") in statuses, deadline=ctx.deadline, abort=ctx.abort)
        except TimeoutError as exc:
            raise StepTimedOut(
                f"Timed out waiting for service {name} to become {' or '.join(statuses)}"
            ) from exc
        except Aborted as exc:
            raise StepAborted(f"Aborted while waiting for service {name}") from exc


def wait_until_inactive(ctx: StepContext, cluster: str, name: str) -> None:
    ctx.log.info(f"Waiting for existing Service {name} to reach inactive state")
    wait_for_status(ctx, cluster, name, GONE)
    ctx.log.info(f"Existing Service {name} reached inactive state")


def delete_service(ctx: StepContext, cluster: str, name: str) -> bool:
    """DeleteService(force) if ACTIVE, then wait until INACTIVE; a service already gone is fine.

    Returns whether this call deleted it. A DRAINING service is waited for, not deleted again.
    """
    live = describe_service(ctx, cluster, name)
    status = live["status"] if live is not None else "MISSING"
    if status in GONE:
        ctx.log.info(f"Service {name} is {status}; nothing to delete")
        return False
    deleted = False
    if status == "ACTIVE":
        ctx.log.info(f"Deleting service {name}..")
        try:
            ctx.clients.ecs.delete_service(cluster=cluster, service=name, force=True)
            deleted = True
        except ClientError as error:
            # deleted meanwhile (by us, before a dropped answer, or by someone else)
            if error.response["Error"]["Code"] not in (
                "ServiceNotFoundException",
                "ServiceNotActiveException",
            ):
                raise
    wait_until_inactive(ctx, cluster, name)
    return deleted


def create_service(ctx: StepContext, request: dict[str, Any]) -> dict[str, Any]:
    """CreateService; returns the service as ECS answered (deployments[0] is the new deployment)."""
    name, cluster = request["serviceName"], request["cluster"]
    count = request.get("desiredCount")
    ctx.log.info(
        f"Creating Service {name} with task definition {request['taskDefinition']}"
        + (f" and desired count {count}" if count is not None else "")
    )
    service: dict[str, Any]
    try:
        # the token makes a CreateService retried after a lost answer return the service it made
        service = ctx.clients.ecs.create_service(**{"clientToken": str(uuid.uuid4()), **request})["service"]
    except ClientError as error:
        # A retried CreateService whose first answer was lost finds the service it made.
        if "not idempotent" not in error.response["Error"].get("Message", ""):
            raise
        live = describe_service(ctx, cluster, name)
        if live is None or live.get("taskDefinition") != request["taskDefinition"]:
            raise
        service = live
    ctx.log.info(f"Created Service {name} with Arn {service['serviceArn']}")
    return service


def update_service(ctx: StepContext, request: dict[str, Any]) -> dict[str, Any]:
    """UpdateService; returns the service as ECS answered (deployments[0] is the PRIMARY)."""
    name = request["service"]
    what = f"task definition {request['taskDefinition']}" if "taskDefinition" in request else "its settings"
    count = request.get("desiredCount")
    ctx.log.info(
        f"Updating Service {name} with {what}" + (f" and desired count {count}" if count is not None else "")
    )
    service: dict[str, Any] = ctx.clients.ecs.update_service(**request)["service"]
    return service


def tag_map(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["key"]: t.get("value", "") for t in tags or []}


def reconcile_tags(
    ctx: StepContext, resource_arn: str, live: list[dict[str, str]] | None, wanted: list[dict[str, str]]
) -> bool:
    """Make the resource's tags exactly `wanted` (TagResource, UntagResource); True if anything changed.

    Tags under the reserved `aws:` prefix are AWS's own and left alone.
    """
    have, want = tag_map(live), tag_map(wanted)
    stale = sorted(k for k in have if k not in want and not k.startswith("aws:"))
    changed = {k: v for k, v in want.items() if have.get(k) != v}
    if stale:
        ctx.clients.ecs.untag_resource(resourceArn=resource_arn, tagKeys=stale)
        ctx.log.info(f"Removed tags {', '.join(stale)} from {resource_arn}")
    if changed:
        ctx.clients.ecs.tag_resource(
            resourceArn=resource_arn, tags=[{"key": k, "value": v} for k, v in changed.items()]
        )
        ctx.log.info(f"Tagged {resource_arn} with {', '.join(f'{k}={v}' for k, v in changed.items())}")
    return bool(stale or changed)
