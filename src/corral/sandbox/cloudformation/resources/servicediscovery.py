"""AWS::ServiceDiscovery types in the sandbox's Cloud Map emulation (the one ECS registers tasks in).

Ref: the namespace ID / the service ID. Fn::GetAtt: PrivateDnsNamespace Arn, HostedZoneId, Id;
Service Arn, Id, Name (CloudFormation resource reference, "Return values").
"""

from __future__ import annotations

from typing import Any

from .base import ResourceContext, ResourceType

SERVICE = "servicediscovery"


class PrivateDnsNamespace(ResourceType):
    type_name = "AWS::ServiceDiscovery::PrivateDnsNamespace"
    attributes = frozenset({"Arn", "HostedZoneId", "Id"})
    settle_seconds = 5.0

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        params: dict[str, Any] = {
            "Name": properties["Name"],
            "Vpc": properties["Vpc"],
            "CreatorRequestId": f"{ctx.stack.stack_id}|{ctx.logical_id}",
        }
        if "Description" in properties:
            params["Description"] = properties["Description"]
        if "Properties" in properties:
            params["Properties"] = properties["Properties"]
        tags = ctx.user_tags(properties)
        if tags:
            params["Tags"] = tags
        operation_id = ctx.call(SERVICE, "CreatePrivateDnsNamespace", **params)["OperationId"]
        operation = ctx.call(SERVICE, "GetOperation", OperationId=operation_id)["Operation"]
        namespace_id = ctx.physical_id = operation["Targets"]["NAMESPACE"]
        namespace = ctx.call(SERVICE, "GetNamespace", Id=namespace_id)["Namespace"]
        dns = namespace.get("Properties", {}).get("DnsProperties", {})
        ctx.attributes.update(Id=namespace_id, Arn=namespace["Arn"], HostedZoneId=dns.get("HostedZoneId", ""))

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(SERVICE, "DeleteNamespace", Id=physical_id)


class Service(ResourceType):
    type_name = "AWS::ServiceDiscovery::Service"
    attributes = frozenset({"Arn", "Id", "Name"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        params: dict[str, Any] = {
            "Name": properties.get("Name") or ctx.physical_name(127),
            "CreatorRequestId": f"{ctx.stack.stack_id}|{ctx.logical_id}",
        }
        for key in (
            "NamespaceId",
            "Description",
            "DnsConfig",
            "HealthCheckConfig",
            "HealthCheckCustomConfig",
            "Type",
        ):
            if key in properties:
                params[key] = properties[key]
        dns = params.get("DnsConfig")
        if isinstance(dns, dict) and "NamespaceId" in dns and "NamespaceId" not in params:
            params["NamespaceId"] = dns["NamespaceId"]
        tags = ctx.user_tags(properties)
        if tags:
            params["Tags"] = tags
        service = ctx.call(SERVICE, "CreateService", **params)["Service"]
        ctx.physical_id = service["Id"]
        ctx.attributes.update(Id=service["Id"], Arn=service["Arn"], Name=service["Name"])

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(SERVICE, "DeleteService", Id=physical_id)


TYPES: list[type[ResourceType]] = [PrivateDnsNamespace, Service]
