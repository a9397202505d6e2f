"""Subnets, VPCs and security groups, looked up in moto's EC2 (which serves EC2 in the sandbox).

A load balancer's VPC and Availability Zones come from its subnets, as in AWS.
"""

from __future__ import annotations

from typing import Any

from .exceptions import (
    InvalidConfigurationRequest,
    InvalidSecurityGroup,
    InvalidSubnet,
    SubnetNotFound,
    ValidationError,
)


def ec2(account_id: str, region: str) -> Any:
    from moto.backends import get_backend

    return get_backend("ec2")[account_id][region]


def subnet_zones(account_id: str, region: str, subnet_ids: list[str]) -> tuple[str, list[dict[str, Any]]]:
    """(VpcId, AvailabilityZones) for a load balancer in these subnets."""
    backend = ec2(account_id, region)
    zones: list[dict[str, Any]] = []  # AvailabilityZone: ZoneName, SubnetId, LoadBalancerAddresses
    vpcs: set[str] = set()
    for subnet_id in subnet_ids:
        try:
            subnet = backend.get_subnet(subnet_id)
        except Exception as exc:  # moto's InvalidSubnetIdError
            raise SubnetNotFound(f"The specified subnet does not exist: '{subnet_id}'") from exc
        if any(zone["ZoneName"] == subnet.availability_zone for zone in zones):
            raise InvalidConfigurationRequest(
                "A load balancer cannot be attached to multiple subnets in the same Availability Zone"
            )
        zones.append({"ZoneName": subnet.availability_zone, "SubnetId": subnet.id})
        vpcs.add(subnet.vpc_id)
    if len(vpcs) > 1:
        raise InvalidSubnet("The subnets must all belong to the same VPC")
    return vpcs.pop(), zones


def check_vpc(account_id: str, region: str, vpc_id: str) -> None:
    try:
        ec2(account_id, region).get_vpc(vpc_id)
    except Exception as exc:  # moto's InvalidVPCIdError
        raise ValidationError(f"The VPC ID '{vpc_id}' is not found") from exc


def security_groups(account_id: str, region: str, vpc_id: str, group_ids: list[str] | None) -> list[str]:
    """The given security groups, checked; the VPC's default group when none are given."""
    backend = ec2(account_id, region)
    if not group_ids:
        default = backend.get_default_security_group(vpc_id)
        return [default.id] if default is not None else []
    for group_id in group_ids:
        group = backend.get_security_group_from_id(group_id)
        if group is None or group.vpc_id != vpc_id:
            raise InvalidSecurityGroup(f"Security group '{group_id}' does not exist in VPC '{vpc_id}'")
    return list(group_ids)
