"""Cloud Map API handlers: read the parameters, call the backend, shape the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .backend import Backend
from .instances import HEALTHY
from .namespaces import DNS_PRIVATE, DNS_PUBLIC, HTTP
from .paging import page
from .services import DnsConfig

Params = dict[str, Any]
Result = dict[str, Any]


def _tags(params: Params) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in params.get("Tags") or []}


def _soa_ttl(params: Params) -> int | None:
    ttl: int | None = ((params.get("Properties") or {}).get("DnsProperties") or {}).get("SOA", {}).get("TTL")
    return ttl


def _create_namespace(backend: Backend, params: Params, kind: str) -> Result:
    operation = backend.create_namespace(
        params["Name"],
        kind,
        vpc=params.get("Vpc"),
        description=params.get("Description"),
        soa_ttl=_soa_ttl(params),
        creator_request_id=params.get("CreatorRequestId"),
        tags=_tags(params),
    )
    return {"OperationId": operation.id}


def create_private_dns_namespace(backend: Backend, params: Params) -> Result:
    return _create_namespace(backend, params, DNS_PRIVATE)


def create_public_dns_namespace(backend: Backend, params: Params) -> Result:
    return _create_namespace(backend, params, DNS_PUBLIC)


def create_http_namespace(backend: Backend, params: Params) -> Result:
    return _create_namespace(backend, params, HTTP)


def get_namespace(backend: Backend, params: Params) -> Result:
    namespace = backend.get_namespace(params["Id"])
    return {"Namespace": namespace.to_api(backend.service_count(namespace.id), backend.account_id)}


def list_namespaces(backend: Backend, params: Params) -> Result:
    found = backend.list_namespaces(params.get("Filters") or [])
    items, token = page(found, params.get("NextToken"), params.get("MaxResults"))
    return {
        "Namespaces": [ns.to_api(backend.service_count(ns.id), backend.account_id) for ns in items],
        "NextToken": token,
    }


def delete_namespace(backend: Backend, params: Params) -> Result:
    return {"OperationId": backend.delete_namespace(params["Id"]).id}


def get_operation(backend: Backend, params: Params) -> Result:
    return {"Operation": backend.get_operation(params["OperationId"]).to_api(backend.account_id)}


def list_operations(backend: Backend, params: Params) -> Result:
    operations = list(backend.operations.values())
    for spec in params.get("Filters") or []:
        key = {"NAMESPACE_ID": "NAMESPACE", "SERVICE_ID": "SERVICE"}.get(spec["Name"])
        values = spec.get("Values") or []
        if key is not None:
            operations = [op for op in operations if op.targets.get(key) in values]
        elif spec["Name"] == "STATUS":
            operations = [op for op in operations if op.status in values]
        elif spec["Name"] == "TYPE":
            operations = [op for op in operations if op.type in values]
    items, token = page(operations, params.get("NextToken"), params.get("MaxResults"))
    return {"Operations": [op.summary() for op in items], "NextToken": token}


def create_service(backend: Backend, params: Params) -> Result:
    dns = params.get("DnsConfig")
    namespace_id = params.get("NamespaceId") or (dns or {}).get("NamespaceId") or ""
    service = backend.create_service(
        params["Name"],
        namespace_id,
        dns_config=DnsConfig.from_api(dns) if dns is not None else None,
        requested_type=params.get("Type"),
        description=params.get("Description"),
        health_check_config=params.get("HealthCheckConfig"),
        health_check_custom_config=params.get("HealthCheckCustomConfig"),
        creator_request_id=params.get("CreatorRequestId"),
        tags=_tags(params),
    )
    return {"Service": service.to_api(backend.account_id)}


def get_service(backend: Backend, params: Params) -> Result:
    return {"Service": backend.get_service(params["Id"]).to_api(backend.account_id)}


def list_services(backend: Backend, params: Params) -> Result:
    found = backend.list_services(params.get("Filters") or [])
    items, token = page(found, params.get("NextToken"), params.get("MaxResults"))
    return {"Services": [service.to_api(backend.account_id) for service in items], "NextToken": token}


def update_service(backend: Backend, params: Params) -> Result:
    changes = params["Service"]
    operation = backend.update_service(
        params["Id"],
        description=changes.get("Description"),
        dns_records=changes.get("DnsConfig"),
        health_check_config=changes.get("HealthCheckConfig"),
    )
    return {"OperationId": operation.id}


def delete_service(backend: Backend, params: Params) -> Result:
    backend.delete_service(params["Id"])
    return {}


def register_instance(backend: Backend, params: Params) -> Result:
    operation = backend.put_instance(
        params["ServiceId"],
        params["InstanceId"],
        params.get("Attributes") or {},
        params.get("CreatorRequestId"),
    )
    return {"OperationId": operation.id}


def deregister_instance(backend: Backend, params: Params) -> Result:
    return {"OperationId": backend.remove_instance(params["ServiceId"], params["InstanceId"]).id}


def list_instances(backend: Backend, params: Params) -> Result:
    service = backend.get_service(params["ServiceId"])
    items, token = page(list(service.instances.values()), params.get("NextToken"), params.get("MaxResults"))
    return {
        "ResourceOwner": backend.account_id,
        "Instances": [{**i.to_api(), "CreatedByAccount": backend.account_id} for i in items],
        "NextToken": token,
    }


def get_instance(backend: Backend, params: Params) -> Result:
    instance = backend.get_instance(backend.get_service(params["ServiceId"]), params["InstanceId"])
    return {
        "ResourceOwner": backend.account_id,
        "Instance": {**instance.to_api(), "CreatedByAccount": backend.account_id},
    }


def discover_instances(backend: Backend, params: Params) -> Result:
    namespace, service, instances = backend.discover(
        params["NamespaceName"],
        params["ServiceName"],
        health_status=params.get("HealthStatus") or HEALTHY,
        query=params.get("QueryParameters"),
        optional=params.get("OptionalParameters"),
    )
    limit = params.get("MaxResults") or 100
    return {
        "Instances": [
            {
                "InstanceId": instance.id,
                "NamespaceName": namespace.name,
                "ServiceName": service.name,
                "HealthStatus": service.health_of(instance),
                "Attributes": dict(instance.attributes),
            }
            for instance in instances[:limit]
        ],
        "InstancesRevision": service.revision,
    }


def discover_instances_revision(backend: Backend, params: Params) -> Result:
    _, service, _ = backend.discover(params["NamespaceName"], params["ServiceName"], health_status="ALL")
    return {"InstancesRevision": service.revision}


def get_instances_health_status(backend: Backend, params: Params) -> Result:
    service = backend.get_service(params["ServiceId"])
    ids = params.get("Instances") or list(service.instances)
    instances = [backend.get_instance(service, instance_id) for instance_id in ids]
    items, token = page(instances, params.get("NextToken"), params.get("MaxResults"))
    return {"Status": {i.id: service.health_of(i) for i in items}, "NextToken": token}


def update_instance_custom_health_status(backend: Backend, params: Params) -> Result:
    backend.set_custom_health(params["ServiceId"], params["InstanceId"], params["Status"])
    return {}


def tag_resource(backend: Backend, params: Params) -> Result:
    backend.tag(params["ResourceARN"], _tags(params))
    return {}


def untag_resource(backend: Backend, params: Params) -> Result:
    backend.untag(params["ResourceARN"], params.get("TagKeys") or [])
    return {}


def list_tags_for_resource(backend: Backend, params: Params) -> Result:
    tags = backend.tags_of(params["ResourceARN"])
    return {"Tags": [{"Key": key, "Value": value} for key, value in tags.items()]}


OPERATIONS: dict[str, Callable[[Backend, Params], Result]] = {
    "CreatePrivateDnsNamespace": create_private_dns_namespace,
    "CreatePublicDnsNamespace": create_public_dns_namespace,
    "CreateHttpNamespace": create_http_namespace,
    "GetNamespace": get_namespace,
    "ListNamespaces": list_namespaces,
    "DeleteNamespace": delete_namespace,
    "GetOperation": get_operation,
    "ListOperations": list_operations,
    "CreateService": create_service,
    "GetService": get_service,
    "ListServices": list_services,
    "UpdateService": update_service,
    "DeleteService": delete_service,
    "RegisterInstance": register_instance,
    "DeregisterInstance": deregister_instance,
    "ListInstances": list_instances,
    "GetInstance": get_instance,
    "DiscoverInstances": discover_instances,
    "DiscoverInstancesRevision": discover_instances_revision,
    "GetInstancesHealthStatus": get_instances_health_status,
    "UpdateInstanceCustomHealthStatus": update_instance_custom_health_status,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
