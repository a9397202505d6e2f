"""CreateService and UpdateService requests: from a service definition manifest, and back from a
live service (for rollback data). Members are taken from botocore's own request shapes."""

from __future__ import annotations

import threading
from typing import Any

# UpdateService cannot change these; they only apply when the service is created.
CREATE_ONLY = frozenset(
    {"serviceName", "launchType", "schedulingStrategy", "deploymentController", "role", "tags", "clientToken"}
)


_MEMBERS: dict[str, frozenset[str]] = {}
_MEMBERS_LOCK = threading.Lock()


def request_members(operation: str) -> frozenset[str]:
    """The members of an ECS operation's request shape, from the process's shared botocore
    loader. Under a lock: 200 deployments starting together would otherwise each parse the ECS
    model (tens of MiB of garbage at once)."""
    found = _MEMBERS.get(operation)
    if found is None:
        with _MEMBERS_LOCK:
            found = _MEMBERS.get(operation)
            if found is None:
                from botocore.model import ServiceModel

                from corral.aws.clients import shared_loader

                model = ServiceModel(shared_loader().load_service_model("ecs", "service-2"), "ecs")
                shape = model.operation_model(operation).input_shape
                found = _MEMBERS[operation] = frozenset(shape.members if shape is not None else ())
    return found


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


# Service Connect and VPC Lattice: CreateService and UpdateService take them, but DescribeServices
# reports them only on the service's deployments (the ECS API Reference's Deployment shape has
# serviceConnectConfiguration and vpcLatticeConfigurations, its Service shape neither).
CONNECTIVITY = ("serviceConnectConfiguration", "vpcLatticeConfigurations")


def live_view(service: dict[str, Any]) -> dict[str, Any]:
    """The described service with the PRIMARY deployment's Service Connect and VPC Lattice
    settings lifted beside the other request members (absent when off or none)."""
    view = {k: v for k, v in service.items() if k not in CONNECTIVITY}
    primary = next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), None)
    if primary is None:
        return view
    connect = primary.get("serviceConnectConfiguration")
    if isinstance(connect, dict) and connect.get("enabled"):
        view["serviceConnectConfiguration"] = connect
    if primary.get("vpcLatticeConfigurations"):
        view["vpcLatticeConfigurations"] = primary["vpcLatticeConfigurations"]
    return view


def request_from_live(service: dict[str, Any], *, cluster: str) -> dict[str, Any]:
    """Rebuild the CreateService request that would recreate this live service as it is now."""
    request: dict[str, Any] = {"cluster": cluster}
    service = live_view(service)
    for key in (*_LIVE_FIELDS, *CONNECTIVITY):
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


# List members an UpdateService leaves as they are when absent; to remove them, send [].
CLEARABLE = ("loadBalancers", "serviceRegistries", "placementConstraints", "placementStrategy")


def clear_removed(update: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """Send [] for list members the live service has and the request leaves out, so that the
    service ends up as the request says (a load balancer removed from the manifest goes away);
    likewise Service Connect is turned off (`enabled: false`) and VPC Lattice removed ([])."""
    for key in CLEARABLE:
        if key not in update and live.get(key):
            update[key] = []
    return clear_connectivity(update, live)


def clear_connectivity(request: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
    """Service Connect and VPC Lattice that the live service has and `request` leaves out: off."""
    view = live_view(live)
    if "serviceConnectConfiguration" not in request and "serviceConnectConfiguration" in view:
        request["serviceConnectConfiguration"] = {"enabled": False}
    if "vpcLatticeConfigurations" not in request and "vpcLatticeConfigurations" in view:
        request["vpcLatticeConfigurations"] = []
    return request


def _is_default(value: Any) -> bool:
    return value in (None, False, [], {}) or value == "NONE"


def contains(live: Any, wanted: Any) -> bool:
    """Whether the live value already is what `wanted` asks for.

    ECS answers with defaults the request left out (`assignPublicIp`, `deploymentCircuitBreaker`
    off, `propagateTags: NONE`), so a member the request does not name is not a difference, and a
    default the request names matches a live value that is absent. Lists of plain strings
    (subnets, security groups) compare as sets.
    """
    if isinstance(wanted, dict):
        if not isinstance(live, dict):
            return live is None and all(_is_default(v) for v in wanted.values())
        return all(contains(live.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        if not isinstance(live, list):
            return live is None and not wanted
        if wanted and all(isinstance(v, str) for v in wanted) and all(isinstance(v, str) for v in live):
            return set(wanted) == set(live)
        return len(live) == len(wanted) and all(contains(a, b) for a, b in zip(live, wanted, strict=True))
    if live is None:
        return _is_default(wanted)
    return bool(live == wanted)


def differs(live: dict[str, Any], update: dict[str, Any]) -> list[str]:
    """The members of an UpdateService request whose value differs from the live service."""
    changed = []
    live = live_view(live)
    for key, value in update.items():
        if key in ("cluster", "service", "forceNewDeployment"):
            continue
        if not contains(live.get(key), value):
            changed.append(key)
    return changed
