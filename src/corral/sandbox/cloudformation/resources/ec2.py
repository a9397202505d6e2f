"""AWS::EC2 networking types, created in the sandbox's EC2 (moto) through the EC2 API.

Ref and Fn::GetAtt follow each type's "Return values" section in the CloudFormation
resource reference (e.g. AWS::EC2::VPC: Ref is the VPC ID; GetAtt CidrBlock, DefaultNetworkAcl,
DefaultSecurityGroup, VpcId).
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import ResourceContext, ResourceType


def _tag_spec(ctx: ResourceContext, kind: str, properties: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": ctx.tags(properties)}]


class Vpc(ResourceType):
    type_name = "AWS::EC2::VPC"
    in_place = frozenset({"EnableDnsSupport", "EnableDnsHostnames"})

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        for key in ("EnableDnsSupport", "EnableDnsHostnames"):
            if new.get(key) != old.get(key):
                value = new.get(key, key == "EnableDnsSupport")  # AWS's defaults: support on, hostnames off
                ctx.call("ec2", "ModifyVpcAttribute", VpcId=str(ctx.physical_id), **{key: {"Value": value}})

    attributes = frozenset(
        {
            "CidrBlock",
            "CidrBlockAssociations",
            "DefaultNetworkAcl",
            "DefaultSecurityGroup",
            "Ipv6CidrBlocks",
            "VpcId",
        }
    )

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        params: dict[str, Any] = {"TagSpecifications": _tag_spec(ctx, "vpc", properties)}
        for key in ("CidrBlock", "InstanceTenancy", "Ipv4IpamPoolId", "Ipv4NetmaskLength"):
            if key in properties:
                params[key] = properties[key]
        vpc = ctx.call("ec2", "CreateVpc", **params)["Vpc"]
        vpc_id = ctx.physical_id = vpc["VpcId"]
        for key in ("EnableDnsSupport", "EnableDnsHostnames"):
            if key in properties:
                ctx.call("ec2", "ModifyVpcAttribute", VpcId=vpc_id, **{key: {"Value": properties[key]}})
        groups = ctx.call(
            "ec2",
            "DescribeSecurityGroups",
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": ["default"]}],
        )["SecurityGroups"]
        acls = ctx.call(
            "ec2",
            "DescribeNetworkAcls",
            Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "default", "Values": ["true"]}],
        )["NetworkAcls"]
        ctx.attributes.update(
            VpcId=vpc_id,
            CidrBlock=vpc.get("CidrBlock", ""),
            CidrBlockAssociations=[a["AssociationId"] for a in vpc.get("CidrBlockAssociationSet", [])],
            DefaultSecurityGroup=groups[0]["GroupId"] if groups else "",
            DefaultNetworkAcl=acls[0]["NetworkAclId"] if acls else "",
            Ipv6CidrBlocks=[],
        )

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call("ec2", "DeleteVpc", VpcId=physical_id)


class Subnet(ResourceType):
    type_name = "AWS::EC2::Subnet"
    attributes = frozenset(
        {
            "AvailabilityZone",
            "AvailabilityZoneId",
            "CidrBlock",
            "Ipv6CidrBlocks",
            "NetworkAclAssociationId",
            "OutpostArn",
            "SubnetId",
            "VpcId",
        }
    )

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        params: dict[str, Any] = {"TagSpecifications": _tag_spec(ctx, "subnet", properties)}
        for key in ("VpcId", "CidrBlock", "AvailabilityZone", "AvailabilityZoneId", "Ipv6CidrBlock"):
            if key in properties:
                params[key] = properties[key]
        subnet = ctx.call("ec2", "CreateSubnet", **params)["Subnet"]
        subnet_id = ctx.physical_id = subnet["SubnetId"]
        if "MapPublicIpOnLaunch" in properties:
            ctx.call(
                "ec2",
                "ModifySubnetAttribute",
                SubnetId=subnet_id,
                MapPublicIpOnLaunch={"Value": properties["MapPublicIpOnLaunch"]},
            )
        ctx.attributes.update(
            SubnetId=subnet_id,
            VpcId=subnet["VpcId"],
            CidrBlock=subnet.get("CidrBlock", ""),
            AvailabilityZone=subnet.get("AvailabilityZone", ""),
            AvailabilityZoneId=subnet.get("AvailabilityZoneId", ""),
            Ipv6CidrBlocks=[],
        )

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call("ec2", "DeleteSubnet", SubnetId=physical_id)


def _permission(rule: dict[str, Any]) -> dict[str, Any]:
    """A CloudFormation Ingress/Egress rule as an EC2 IpPermission."""
    permission: dict[str, Any] = {"IpProtocol": str(rule.get("IpProtocol", "-1"))}
    if "FromPort" in rule:
        permission["FromPort"] = int(rule["FromPort"])
    if "ToPort" in rule:
        permission["ToPort"] = int(rule["ToPort"])
    description = {"Description": rule["Description"]} if "Description" in rule else {}
    if "CidrIp" in rule:
        permission["IpRanges"] = [{"CidrIp": rule["CidrIp"], **description}]
    if "CidrIpv6" in rule:
        permission["Ipv6Ranges"] = [{"CidrIpv6": rule["CidrIpv6"], **description}]
    group = rule.get("SourceSecurityGroupId") or rule.get("DestinationSecurityGroupId")
    if group:
        permission["UserIdGroupPairs"] = [{"GroupId": group, **description}]
    if "SourcePrefixListId" in rule or "DestinationPrefixListId" in rule:
        prefix = rule.get("SourcePrefixListId") or rule.get("DestinationPrefixListId")
        permission["PrefixListIds"] = [{"PrefixListId": prefix, **description}]
    return permission


ALL_TRAFFIC_OUT = {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}


class SecurityGroup(ResourceType):
    """Ref is the group ID when VpcId is given (the name otherwise, for EC2-Classic-era defaults)."""

    type_name = "AWS::EC2::SecurityGroup"
    attributes = frozenset({"GroupId", "VpcId"})
    in_place = frozenset({"SecurityGroupIngress"})
    name_property = "GroupName"

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        group_id = ctx.attributes["GroupId"]
        before = [_permission(r) for r in old.get("SecurityGroupIngress") or []]
        after = [_permission(r) for r in new.get("SecurityGroupIngress") or []]
        gone, added = [p for p in before if p not in after], [p for p in after if p not in before]
        if gone:
            ctx.call("ec2", "RevokeSecurityGroupIngress", GroupId=group_id, IpPermissions=gone)
        if added:
            ctx.call("ec2", "AuthorizeSecurityGroupIngress", GroupId=group_id, IpPermissions=added)

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        name = properties.get("GroupName") or ctx.physical_name(255)
        params: dict[str, Any] = {
            "GroupName": name,
            "Description": properties.get("GroupDescription", ""),
            "TagSpecifications": _tag_spec(ctx, "security-group", properties),
        }
        if "VpcId" in properties:
            params["VpcId"] = properties["VpcId"]
        group_id = ctx.call("ec2", "CreateSecurityGroup", **params)["GroupId"]
        ctx.physical_id = group_id if "VpcId" in properties else name
        ingress = [_permission(r) for r in properties.get("SecurityGroupIngress") or []]
        if ingress:
            ctx.call("ec2", "AuthorizeSecurityGroupIngress", GroupId=group_id, IpPermissions=ingress)
        if "SecurityGroupEgress" in properties:
            # given egress rules replace the default allow-all rule (AWS::EC2::SecurityGroup docs)
            ctx.call("ec2", "RevokeSecurityGroupEgress", GroupId=group_id, IpPermissions=[ALL_TRAFFIC_OUT])
            egress = [_permission(r) for r in properties["SecurityGroupEgress"]]
            if egress:
                ctx.call("ec2", "AuthorizeSecurityGroupEgress", GroupId=group_id, IpPermissions=egress)
        ctx.attributes.update(GroupId=group_id, VpcId=properties.get("VpcId", ""))

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call("ec2", "DeleteSecurityGroup", GroupId=attributes.get("GroupId", physical_id))


class SecurityGroupIngress(ResourceType):
    type_name = "AWS::EC2::SecurityGroupIngress"
    attributes = frozenset({"Id"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        permission = _permission(properties)
        answer = ctx.call(
            "ec2", "AuthorizeSecurityGroupIngress", GroupId=properties["GroupId"], IpPermissions=[permission]
        )
        rules = answer.get("SecurityGroupRules") or []
        ctx.physical_id = rules[0]["SecurityGroupRuleId"] if rules else f"{properties['GroupId']}|ingress"
        ctx.attributes.update(Id=ctx.physical_id, GroupId=properties["GroupId"], Permission=permission)

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(
            "ec2",
            "RevokeSecurityGroupIngress",
            GroupId=attributes["GroupId"],
            IpPermissions=[attributes["Permission"]],
        )


class SecurityGroupEgress(ResourceType):
    type_name = "AWS::EC2::SecurityGroupEgress"
    attributes = frozenset({"Id"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        permission = _permission(properties)
        answer = ctx.call(
            "ec2", "AuthorizeSecurityGroupEgress", GroupId=properties["GroupId"], IpPermissions=[permission]
        )
        rules = answer.get("SecurityGroupRules") or []
        ctx.physical_id = rules[0]["SecurityGroupRuleId"] if rules else f"{properties['GroupId']}|egress"
        ctx.attributes.update(Id=ctx.physical_id, GroupId=properties["GroupId"], Permission=permission)

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(
            "ec2",
            "RevokeSecurityGroupEgress",
            GroupId=attributes["GroupId"],
            IpPermissions=[attributes["Permission"]],
        )


class InternetGateway(ResourceType):
    type_name = "AWS::EC2::InternetGateway"
    attributes = frozenset({"InternetGatewayId"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        gateway = ctx.call(
            "ec2", "CreateInternetGateway", TagSpecifications=_tag_spec(ctx, "internet-gateway", properties)
        )["InternetGateway"]
        ctx.physical_id = gateway["InternetGatewayId"]
        ctx.attributes["InternetGatewayId"] = ctx.physical_id

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call("ec2", "DeleteInternetGateway", InternetGatewayId=physical_id)


class VpcGatewayAttachment(ResourceType):
    type_name = "AWS::EC2::VPCGatewayAttachment"
    attributes = frozenset({"AttachmentType"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        gateway, vpc = properties["InternetGatewayId"], properties["VpcId"]
        ctx.call("ec2", "AttachInternetGateway", InternetGatewayId=gateway, VpcId=vpc)
        ctx.physical_id = f"IGW|{vpc}"
        ctx.attributes.update(AttachmentType="igw", InternetGatewayId=gateway, VpcId=vpc)

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(
            "ec2",
            "DetachInternetGateway",
            InternetGatewayId=attributes["InternetGatewayId"],
            VpcId=attributes["VpcId"],
        )


class RouteTable(ResourceType):
    type_name = "AWS::EC2::RouteTable"
    attributes = frozenset({"RouteTableId"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        table = ctx.call(
            "ec2",
            "CreateRouteTable",
            VpcId=properties["VpcId"],
            TagSpecifications=_tag_spec(ctx, "route-table", properties),
        )["RouteTable"]
        ctx.physical_id = table["RouteTableId"]
        ctx.attributes["RouteTableId"] = ctx.physical_id

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call("ec2", "DeleteRouteTable", RouteTableId=physical_id)


class Route(ResourceType):
    type_name = "AWS::EC2::Route"
    attributes: ClassVar[frozenset[str]] = frozenset()
    TARGETS = (
        "GatewayId",
        "NatGatewayId",
        "TransitGatewayId",
        "VpcPeeringConnectionId",
        "NetworkInterfaceId",
        "InstanceId",
        "VpcEndpointId",
    )

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        params = {
            k: properties[k]
            for k in ("RouteTableId", "DestinationCidrBlock", "DestinationIpv6CidrBlock", *self.TARGETS)
            if k in properties
        }
        ctx.call("ec2", "CreateRoute", **params)
        destination = properties.get("DestinationCidrBlock") or properties.get("DestinationIpv6CidrBlock", "")
        ctx.physical_id = f"{properties['RouteTableId']}|{destination}"
        ctx.attributes.update(
            RouteTableId=properties["RouteTableId"],
            Destination={
                k: properties[k]
                for k in ("DestinationCidrBlock", "DestinationIpv6CidrBlock")
                if k in properties
            },
        )

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call(
            "ec2", "DeleteRoute", RouteTableId=attributes["RouteTableId"], **attributes["Destination"]
        )


class SubnetRouteTableAssociation(ResourceType):
    type_name = "AWS::EC2::SubnetRouteTableAssociation"
    attributes = frozenset({"Id"})

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        answer = ctx.call(
            "ec2",
            "AssociateRouteTable",
            SubnetId=properties["SubnetId"],
            RouteTableId=properties["RouteTableId"],
        )
        ctx.physical_id = answer["AssociationId"]
        ctx.attributes["Id"] = ctx.physical_id

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call("ec2", "DisassociateRouteTable", AssociationId=physical_id)


TYPES: list[type[ResourceType]] = [
    Vpc,
    Subnet,
    SecurityGroup,
    SecurityGroupIngress,
    SecurityGroupEgress,
    InternetGateway,
    VpcGatewayAttachment,
    RouteTable,
    Route,
    SubnetRouteTableAssociation,
]
