"""CreateService and UpdateService requests: from a service definition manifest, and back from a
live service (for rollback data). Members are taken from botocore's own request shapes."""

from __future__ import annotations

from functools import cache
from typing import Any

import botocore.session

# UpdateService cannot change these; they only apply when the service is created.
CREATE_ONLY = frozenset(
    {"serviceName", "launchType", "schedulingStrategy", "deploymentController", "role", "tags", "clientToken"}
)


@cache
def request_members(operation: str) -> frozenset[str]:
    model = botocore.session.get_session().get_service_model("ecs").operation_model(operation)
    return frozenset(model.input_shape.members)


def create_request(
    service_definition: dict[str, Any], *, cluster: str, task_definition_arn: str
) -> dict[str, Any]:
    """The CreateService request: the manifest with cluster and task definition forced."""
    request = {k: v for k, v in service_definition.items() if k in request_members("CreateService")}
    request["cluster"] = cluster
    request["taskDefinition"] = task_definition_arn
    return request


def update_request(create: dict[str, Any], *, keep_desired_count: int | None = None) -> dict[str, Any]:
    """The UpdateService request equivalent to a CreateService request.

    `keep_desired_count` (sameAsAlreadyRunningInstances) replaces the manifest's count.
    """
    members = request_members("UpdateService")
    request = {k: v for k, v in create.items() if k in members and k not in CREATE_ONLY}
    request["service"] = create["serviceName"]
    if keep_desired_count is not None:
        request["desiredCount"] = keep_desired_count
    return request


# DescribeServices fields that map one to one onto CreateService members
_LIVE_FIELDS = (
    "serviceName",
    "taskDefinition",
    "loadBalancers",
    "serviceRegistries",
    "desiredCount",
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "deploymentConfiguration",
    "placementConstraints",
    "placementStrategy",
    "networkConfiguration",
    "healthCheckGracePeriodSeconds",
    "schedulingStrategy",
    "deploymentController",
    "enableECSManagedTags",
    "propagateTags",
    "enableExecuteCommand",
    "tags",
)


def request_from_live(service: dict[str, Any], *, cluster: str) -> dict[str, Any]:
    """Rebuild the CreateService request that would recreate this live service as it is now."""
    request: dict[str, Any] = {"cluster": cluster}
    for key in _LIVE_FIELDS:
        value = service.get(key)
        if value not in (None, [], {}):
            request[key] = value
    if (
        service.get("roleArn")
        and service.get("loadBalancers")
        and service.get("networkConfiguration") is None
    ):
        request["role"] = service["roleArn"]
    if request.get("schedulingStrategy") == "DAEMON":
        request.pop("desiredCount", None)
    if request.get("propagateTags") == "NONE":
        request.pop("propagateTags")
    return request


def differs(live: dict[str, Any], update: dict[str, Any]) -> list[str]:
    """The members of an UpdateService request whose value differs from the live service."""
    changed = []
    for key, value in update.items():
        if key in ("cluster", "service", "forceNewDeployment"):
            continue
        if live.get(key) != value:
            changed.append(key)
    return changed
