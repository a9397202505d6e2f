"""AWS::ElasticLoadBalancingV2 types in the sandbox's ELBv2 emulation (the one ECS and blue green use).

Ref of each is its ARN. Fn::GetAtt per the CloudFormation resource reference: LoadBalancer
CanonicalHostedZoneID, DNSName, LoadBalancerArn, LoadBalancerFullName, LoadBalancerName,
SecurityGroups; Listener ListenerArn; ListenerRule RuleArn, IsDefault; TargetGroup
LoadBalancerArns, TargetGroupArn, TargetGroupFullName, TargetGroupName.
"""

from __future__ import annotations

from typing import Any

from .base import ResourceContext, ResourceType

SERVICE = "elbv2"


def _retag(ctx: ResourceContext, arn: str, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Tags changed by an update: the resource's tags become the template's (AddTags, RemoveTags)."""
    gone = {t["Key"] for t in old.get("Tags") or []} - {t["Key"] for t in new.get("Tags") or []}
    if gone:
        ctx.call(SERVICE, "RemoveTags", ResourceArns=[arn], TagKeys=sorted(gone))
    ctx.call(SERVICE, "AddTags", ResourceArns=[arn], Tags=ctx.tags(new))


def _attributes(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "Key": str(a["Key"]),
            "Value": str(a["Value"]).lower() if isinstance(a["Value"], bool) else str(a["Value"]),
        }
        for a in items
    ]


class LoadBalancer(ResourceType):
    type_name = "AWS::ElasticLoadBalancingV2::LoadBalancer"
    attributes = frozenset(
        {
            "CanonicalHostedZoneID",
            "DNSName",
            "LoadBalancerArn",
            "LoadBalancerFullName",
            "LoadBalancerName",
            "SecurityGroups",
        }
    )
    settle_seconds = 5.0  # AWS reports the stack's load balancer complete once it is active
    in_place = frozenset({"LoadBalancerAttributes", "SecurityGroups", "Subnets", "Tags"})
    name_property = "Name"

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        name = properties.get("Name") or ctx.physical_name(32)
        params: dict[str, Any] = {"Name": name, "Tags": ctx.tags(properties)}
        for key in ("Subnets", "SubnetMappings", "SecurityGroups", "Scheme", "Type", "IpAddressType"):
            if key in properties:
                params[key] = properties[key]
        balancer = ctx.call(SERVICE, "CreateLoadBalancer", **params)["LoadBalancers"][0]
        arn = ctx.physical_id = balancer["LoadBalancerArn"]
        if properties.get("LoadBalancerAttributes"):
            ctx.call(
                SERVICE,
                "ModifyLoadBalancerAttributes",
                LoadBalancerArn=arn,
                Attributes=_attributes(properties["LoadBalancerAttributes"]),
            )
        ctx.attributes.update(
            LoadBalancerArn=arn,
            LoadBalancerName=balancer["LoadBalancerName"],
            LoadBalancerFullName=arn.split(":loadbalancer/", 1)[-1],
            DNSName=balancer.get("DNSName", ""),
            CanonicalHostedZoneID=balancer.get("CanonicalHostedZoneId", ""),
            SecurityGroups=balancer.get("SecurityGroups", []),
        )

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        arn = str(ctx.physical_id)
        if new.get("LoadBalancerAttributes") != old.get("LoadBalancerAttributes") and new.get(
            "LoadBalancerAttributes"
        ):
            ctx.call(
                SERVICE,
                "ModifyLoadBalancerAttributes",
                LoadBalancerArn=arn,
                Attributes=_attributes(new["LoadBalancerAttributes"]),
            )
        if new.get("SecurityGroups") != old.get("SecurityGroups"):
            ctx.call(
                SERVICE,
                "SetSecurityGroups",
                LoadBalancerArn=arn,
                SecurityGroups=new.get("SecurityGroups") or [],
            )
        if new.get("Subnets") != old.get("Subnets") and new.get("Subnets"):
            ctx.call(SERVICE, "SetSubnets", LoadBalancerArn=arn, Subnets=new["Subnets"])
        if new.get("Tags") != old.get("Tags"):
            _retag(ctx, arn, old, new)

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(SERVICE, "DeleteLoadBalancer", LoadBalancerArn=physical_id)


class TargetGroup(ResourceType):
    type_name = "AWS::ElasticLoadBalancingV2::TargetGroup"
    attributes = frozenset({"LoadBalancerArns", "TargetGroupArn", "TargetGroupFullName", "TargetGroupName"})
    PASSED = (
        "Protocol",
        "ProtocolVersion",
        "Port",
        "VpcId",
        "HealthCheckProtocol",
        "HealthCheckPort",
        "HealthCheckEnabled",
        "HealthCheckPath",
        "HealthCheckIntervalSeconds",
        "HealthCheckTimeoutSeconds",
        "HealthyThresholdCount",
        "UnhealthyThresholdCount",
        "Matcher",
        "TargetType",
        "IpAddressType",
    )
    HEALTH = (
        "HealthCheckProtocol",
        "HealthCheckPort",
        "HealthCheckEnabled",
        "HealthCheckPath",
        "HealthCheckIntervalSeconds",
        "HealthCheckTimeoutSeconds",
        "HealthyThresholdCount",
        "UnhealthyThresholdCount",
        "Matcher",
    )
    in_place = frozenset({*HEALTH, "TargetGroupAttributes", "Targets", "Tags"})
    name_property = "Name"

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        name = properties.get("Name") or ctx.physical_name(32)
        params: dict[str, Any] = {"Name": name, "Tags": ctx.tags(properties)}
        params.update({k: properties[k] for k in self.PASSED if k in properties})
        group = ctx.call(SERVICE, "CreateTargetGroup", **params)["TargetGroups"][0]
        arn = ctx.physical_id = group["TargetGroupArn"]
        if properties.get("TargetGroupAttributes"):
            ctx.call(
                SERVICE,
                "ModifyTargetGroupAttributes",
                TargetGroupArn=arn,
                Attributes=_attributes(properties["TargetGroupAttributes"]),
            )
        if properties.get("Targets"):
            ctx.call(SERVICE, "RegisterTargets", TargetGroupArn=arn, Targets=properties["Targets"])
        ctx.attributes.update(
            TargetGroupArn=arn,
            TargetGroupName=group["TargetGroupName"],
            TargetGroupFullName=arn.split(":", 5)[-1],
            LoadBalancerArns=group.get("LoadBalancerArns", []),
        )

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        arn = str(ctx.physical_id)
        health = {k: new[k] for k in self.HEALTH if k in new and new.get(k) != old.get(k)}
        if health:
            ctx.call(SERVICE, "ModifyTargetGroup", TargetGroupArn=arn, **health)
        if new.get("TargetGroupAttributes") != old.get("TargetGroupAttributes") and new.get(
            "TargetGroupAttributes"
        ):
            ctx.call(
                SERVICE,
                "ModifyTargetGroupAttributes",
                TargetGroupArn=arn,
                Attributes=_attributes(new["TargetGroupAttributes"]),
            )
        if new.get("Targets") != old.get("Targets"):
            if old.get("Targets"):
                ctx.call(SERVICE, "DeregisterTargets", TargetGroupArn=arn, Targets=old["Targets"])
            if new.get("Targets"):
                ctx.call(SERVICE, "RegisterTargets", TargetGroupArn=arn, Targets=new["Targets"])
        if new.get("Tags") != old.get("Tags"):
            _retag(ctx, arn, old, new)

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(SERVICE, "DeleteTargetGroup", TargetGroupArn=physical_id)


class Listener(ResourceType):
    type_name = "AWS::ElasticLoadBalancingV2::Listener"
    attributes = frozenset({"ListenerArn"})
    in_place = frozenset({"Port", "Protocol", "SslPolicy", "Certificates", "DefaultActions", "AlpnPolicy"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        params = {
            k: properties[k]
            for k in (
                "LoadBalancerArn",
                "Protocol",
                "Port",
                "SslPolicy",
                "Certificates",
                "DefaultActions",
                "AlpnPolicy",
                "MutualAuthentication",
            )
            if k in properties
        }
        listener = ctx.call(SERVICE, "CreateListener", **params)["Listeners"][0]
        ctx.physical_id = listener["ListenerArn"]
        ctx.attributes["ListenerArn"] = ctx.physical_id

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        params = {k: new[k] for k in self.in_place if k in new}
        ctx.call(SERVICE, "ModifyListener", ListenerArn=str(ctx.physical_id), **params)

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(SERVICE, "DeleteListener", ListenerArn=physical_id)


class ListenerRule(ResourceType):
    type_name = "AWS::ElasticLoadBalancingV2::ListenerRule"
    attributes = frozenset({"IsDefault", "RuleArn"})
    in_place = frozenset({"Conditions", "Actions", "Priority"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        params = {
            k: properties[k] for k in ("ListenerArn", "Priority", "Conditions", "Actions") if k in properties
        }
        rule = ctx.call(SERVICE, "CreateRule", **params)["Rules"][0]
        ctx.physical_id = rule["RuleArn"]
        ctx.attributes.update(RuleArn=ctx.physical_id, IsDefault=bool(rule.get("IsDefault", False)))

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        arn = str(ctx.physical_id)
        if new.get("Conditions") != old.get("Conditions") or new.get("Actions") != old.get("Actions"):
            ctx.call(
                SERVICE,
                "ModifyRule",
                RuleArn=arn,
                Conditions=new.get("Conditions", []),
                Actions=new.get("Actions", []),
            )
        if new.get("Priority") != old.get("Priority"):
            ctx.call(
                SERVICE, "SetRulePriorities", RulePriorities=[{"RuleArn": arn, "Priority": new["Priority"]}]
            )

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(SERVICE, "DeleteRule", RuleArn=physical_id)


TYPES: list[type[ResourceType]] = [LoadBalancer, TargetGroup, Listener, ListenerRule]
