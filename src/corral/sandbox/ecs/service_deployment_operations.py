"""ListServiceDeployments, DescribeServiceDeployments, DescribeServiceRevisions, StopServiceDeployment
and ContinueServiceDeployment, as the ECS API Reference describes them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from . import deployments, ids
from . import service_deployments as sds
from .exceptions import (
    ConflictException,
    InvalidParameterException,
    ServiceDeploymentNotFoundException,
)
from .pagination import page

if TYPE_CHECKING:
    from .backend import Backend
    from .service_deployments import ServiceDeployment

MAX_DESCRIBE = 20  # "You can specify a maximum of 20 ARNs." (both Describe operations)
STOP_TYPES = ("ROLLBACK", "ABORT")
ABORTED = "Service deployment stopped because of a StopServiceDeployment request."


def list_service_deployments(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    cluster = backend.cluster(params.get("cluster"))
    service = backend.get_service(cluster, params["service"])
    found = list(service.service_deployments)  # newest first
    statuses = params.get("status") or []
    if statuses:
        found = [d for d in found if d.status in statuses]
    created = params.get("createdAt") or {}
    if created.get("after") is not None:
        after = _epoch(created["after"])
        found = [d for d in found if d.created_at >= after]
    if created.get("before") is not None:
        before = _epoch(created["before"])
        found = [d for d in found if d.created_at <= before]
    chunk, token = page(
        found, next_token=params.get("nextToken"), max_results=params.get("maxResults"), default=20, limit=100
    )
    return {"serviceDeployments": [d.brief() for d in chunk], "nextToken": token}


def describe_service_deployments(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return _describe(backend.service_deployments, params, "serviceDeploymentArns", "serviceDeployments")


def describe_service_revisions(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    return _describe(backend.service_revisions, params, "serviceRevisionArns", "serviceRevisions")


def _describe(
    records: Mapping[str, Any], params: dict[str, Any], given: str, answered: str
) -> dict[str, Any]:
    """The records the ARNs name, in their API shape; an unknown ARN is a MISSING failure."""
    found, failures = [], []
    for arn in _arns(params.get(given), given):
        record = records.get(arn)
        if record is None:
            failures.append({"arn": arn, "reason": "MISSING"})
        else:
            found.append(record.to_api())
    return {answered: found, "failures": failures}


def stop_service_deployment(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    record = _record(backend, params["serviceDeploymentArn"])
    stop_type = params.get("stopType") or "ROLLBACK"
    if stop_type not in STOP_TYPES:
        raise InvalidParameterException(f"stopType must be ROLLBACK or ABORT; got {stop_type}.")
    if record.status not in (sds.PENDING, sds.IN_PROGRESS):
        raise ConflictException(
            f"The service deployment {record.arn} is {record.status}; only a deployment in progress can be stopped."
        )
    service = record.service
    now = service.now()
    if record.run is not None and not record.run.finished:
        if stop_type == "ABORT":
            raise InvalidParameterException(
                f"The sandbox stops {record.run.strategy} service deployments with stopType ROLLBACK only."
            )
        record.run.roll_back(sds.ROLLBACK_BY_USER)
        return {"serviceDeploymentArn": record.arn}
    primary = service.primary
    if stop_type == "ABORT":
        # no more tasks replaced: the service keeps what runs now, as after a circuit breaker
        # failure without rollback
        primary.rollout_state = deployments.FAILED
        primary.rollout_state_reason = ABORTED
        primary.updated_at = now
        record.set_status(sds.STOPPED, now, ABORTED)
        service.request_evaluation()
        return {"serviceDeploymentArn": record.arn}
    target = service.last_completed
    if target is None or target.revision is None or target is primary:
        raise ConflictException(
            f"The service deployment {record.arn} has no previous service revision to roll back to."
        )
    deployments.roll_back_to(
        service,
        target,
        reason=f"ECS deployment rollback requested: rolling back to deploymentId {target.id}.",
        record_reason=sds.ROLLBACK_BY_USER,
        at=now,
    )
    service.request_evaluation()
    return {"serviceDeploymentArn": record.arn}


def continue_service_deployment(backend: Backend, params: dict[str, Any]) -> dict[str, Any]:
    record = _record(backend, params["serviceDeploymentArn"])
    action = params.get("action") or "CONTINUE"
    if action not in ("CONTINUE", "ROLLBACK"):
        raise InvalidParameterException(f"action must be CONTINUE or ROLLBACK; got {action}.")
    if record.run is None or record.run.finished or not record.running:
        raise InvalidParameterException(
            f"The service deployment {record.arn} is {record.status} and not paused at a lifecycle hook."
        )
    record.run.continue_hook(params["hookId"], action)
    return {"serviceDeploymentArn": record.arn}


def _record(backend: Backend, arn: str) -> ServiceDeployment:
    found = backend.service_deployments.get(arn)
    if found is None:
        if not arn.startswith("arn:"):
            ids.parse_arn(arn)  # the ECS "Invalid identifier" error for what is not an ARN at all
        raise ServiceDeploymentNotFoundException()
    return found


def _arns(values: list[str] | None, name: str) -> list[str]:
    if not values:
        raise InvalidParameterException(f"{name} cannot be empty.")
    if len(values) > MAX_DESCRIBE:
        raise InvalidParameterException(f"{name} can have at most {MAX_DESCRIBE} items.")
    return list(values)


def _epoch(value: Any) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(value)
