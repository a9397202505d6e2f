"""AWS::ECS::Cluster in the sandbox's ECS emulation. Ref is the cluster name; GetAtt Arn."""

from __future__ import annotations

from typing import Any

from .base import ResourceContext, ResourceType


def _lower_first(value: Any) -> Any:
    """CloudFormation's ECS properties are PascalCase; the ECS API's members are camelCase."""
    if isinstance(value, dict):
        return {k[:1].lower() + k[1:]: _lower_first(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_lower_first(v) for v in value]
    return value


class Cluster(ResourceType):
    type_name = "AWS::ECS::Cluster"
    attributes = frozenset({"Arn"})
    in_place = frozenset({"ClusterSettings"})
    name_property = "ClusterName"

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        ctx.call(
            "ecs",
            "UpdateCluster",
            cluster=str(ctx.physical_id),
            settings=_lower_first(new.get("ClusterSettings", [])),
        )

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        name = properties.get("ClusterName") or ctx.physical_name(255)
        params: dict[str, Any] = {"clusterName": name}
        tags = [{"key": t["Key"], "value": t["Value"]} for t in ctx.user_tags(properties)]
        if tags:
            params["tags"] = tags
        for key, member in (
            ("ClusterSettings", "settings"),
            ("CapacityProviders", "capacityProviders"),
            ("DefaultCapacityProviderStrategy", "defaultCapacityProviderStrategy"),
            ("Configuration", "configuration"),
            ("ServiceConnectDefaults", "serviceConnectDefaults"),
        ):
            if key in properties:
                params[member] = _lower_first(properties[key])
        cluster = ctx.call("ecs", "CreateCluster", **params)["cluster"]
        ctx.physical_id = name
        ctx.attributes["Arn"] = cluster["clusterArn"]

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call("ecs", "DeleteCluster", cluster=physical_id)


TYPES: list[type[ResourceType]] = [Cluster]
