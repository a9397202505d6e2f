"""Load balancers: creation in the subnets' VPC, DNS names, attributes, deletion."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..core.clock import to_datetime
from . import network
from .exceptions import (
    DuplicateLoadBalancerName,
    InvalidConfigurationRequest,
    LoadBalancerNotFound,
    OperationNotPermitted,
    ValidationError,
)

if TYPE_CHECKING:
    from .backend import Backend

NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$")
TYPES = {"application": "app", "network": "net", "gateway": "gwy"}
# Route 53 hosted zone of the load balancers of a Region: (application, network)
HOSTED_ZONES = {
    "us-east-1": ("Z35SXDOTRQ7X7K", "Z26RNL4JYFTOTI"),
    "us-east-2": ("Z3AADJGX6KTTL2", "ZLMOA37VPKANP"),
    "us-west-1": ("Z368ELLRRE2KJ0", "Z24FKFUX50B4VW"),
    "us-west-2": ("Z1H1FL5HABSF5", "Z18D5FSROUN65G"),
    "eu-west-1": ("Z32O12XQLNTSW2", "Z2IFOLAFXWLO4F"),
    "eu-central-1": ("Z215JYRZR1TBD5", "Z3F0SRJ5LGBH90"),
    "ap-northeast-1": ("Z14GRHDCWA56QT", "Z31USIVHYNEOWT"),
    "ap-southeast-2": ("Z1GM3OXH4ZPM65", "ZCT6FZBF4DROD"),
}
BOOL = ("true", "false")
COMMON_ATTRIBUTES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "access_logs.s3.enabled": ("false", BOOL),
    "access_logs.s3.bucket": ("", None),
    "access_logs.s3.prefix": ("", None),
    "deletion_protection.enabled": ("false", BOOL),
    "zonal_shift.config.enabled": ("false", BOOL),
}
ALB_ATTRIBUTES = {
    **COMMON_ATTRIBUTES,
    "idle_timeout.timeout_seconds": ("60", None),
    "client_keep_alive.seconds": ("3600", None),
    "connection_logs.s3.enabled": ("false", BOOL),
    "connection_logs.s3.bucket": ("", None),
    "connection_logs.s3.prefix": ("", None),
    "routing.http2.enabled": ("true", BOOL),
    "routing.http.desync_mitigation_mode": ("defensive", ("monitor", "defensive", "strictest")),
    "routing.http.drop_invalid_header_fields.enabled": ("false", BOOL),
    "routing.http.preserve_host_header.enabled": ("false", BOOL),
    "routing.http.x_amzn_tls_version_and_cipher_suite.enabled": ("false", BOOL),
    "routing.http.xff_client_port.enabled": ("false", BOOL),
    "routing.http.xff_header_processing.mode": ("append", ("append", "preserve", "remove")),
    "load_balancing.cross_zone.enabled": ("true", BOOL),
    "waf.fail_open.enabled": ("false", BOOL),
}
NLB_ATTRIBUTES = {
    **COMMON_ATTRIBUTES,
    "load_balancing.cross_zone.enabled": ("false", BOOL),
    "dns_record.client_routing_policy": (
        "any_availability_zone",
        ("availability_zone_affinity", "partial_availability_zone_affinity", "any_availability_zone"),
    ),
}
NUMERIC_RANGES = {"idle_timeout.timeout_seconds": (1, 4000), "client_keep_alive.seconds": (60, 604800)}


@dataclass(eq=False)
class LoadBalancer:
    arn: str
    name: str
    type: str
    scheme: str
    vpc_id: str
    availability_zones: list[dict[str, Any]]
    security_groups: list[str]
    ip_address_type: str
    dns_name: str
    hosted_zone_id: str
    created: float
    state: str = "active"
    attributes: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def attribute_specs(self) -> dict[str, tuple[str, tuple[str, ...] | None]]:
        return ALB_ATTRIBUTES if self.type == "application" else NLB_ATTRIBUTES

    def to_api(self, *, state: str | None = None) -> dict[str, Any]:
        return {
            "LoadBalancerArn": self.arn,
            "DNSName": self.dns_name,
            "CanonicalHostedZoneId": self.hosted_zone_id,
            "CreatedTime": to_datetime(self.created),
            "LoadBalancerName": self.name,
            "Scheme": self.scheme,
            "VpcId": self.vpc_id,
            "State": {"Code": state or self.state},
            "Type": self.type,
            "AvailabilityZones": self.availability_zones,
            "SecurityGroups": self.security_groups or None,
            "IpAddressType": self.ip_address_type,
        }

    def describe_attributes(self) -> list[dict[str, str]]:
        return [{"Key": k, "Value": v} for k, v in self.attributes.items()]

    def modify_attributes(self, changes: list[dict[str, str]]) -> None:
        specs = self.attribute_specs()
        for change in changes:
            key, value = change.get("Key", ""), change.get("Value", "")
            if key not in specs:
                raise ValidationError(f"Load balancer attribute key '{key}' is not recognized")
            allowed = specs[key][1]
            bounds = NUMERIC_RANGES.get(key)
            if (allowed is not None and value not in allowed) or (
                bounds is not None and not (value.isdigit() and bounds[0] <= int(value) <= bounds[1])
            ):
                raise ValidationError(f"'{value}' is not a valid value for load balancer attribute '{key}'")
        for change in changes:
            self.attributes[change["Key"]] = change.get("Value", "")


class LoadBalancerRegistry:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend
        self.items: dict[str, LoadBalancer] = {}

    def get(self, arn: str) -> LoadBalancer:
        found = self.items.get(arn)
        if found is None:
            raise LoadBalancerNotFound(f"Load balancer '{arn}' not found")
        return found

    def by_name(self, name: str) -> LoadBalancer | None:
        return next((lb for lb in self.items.values() if lb.name == name), None)

    def create(self, params: dict[str, Any]) -> LoadBalancer:
        name, kind = params["Name"], params.get("Type", "application")
        if not NAME.match(name) or name.lower().startswith("internal-"):
            raise ValidationError(
                f"Load balancer name '{name}' can have a maximum of 32 characters, can contain only "
                "alphanumeric characters or hyphens, must not begin or end with a hyphen, "
                "and must not begin with 'internal-'"
            )
        if kind not in TYPES:
            raise ValidationError(f"Load balancer type '{kind}' must be one of application, network, gateway")
        scheme = params.get("Scheme", "internet-facing")
        if scheme not in ("internet-facing", "internal"):
            raise ValidationError(
                f"1 validation error detected: Value '{scheme}' at 'scheme' failed to satisfy constraint: "
                "Member must satisfy enum value set: [internet-facing, internal]"
            )
        vpc_id, zones = self._zones(params, kind)
        backend = self.backend
        groups = params.get("SecurityGroups")
        if kind == "application" or groups:
            groups = network.security_groups(backend.account_id, backend.region_name, vpc_id, groups)
        lb_id = backend.new_id()
        lb = LoadBalancer(
            arn=backend.elb_arn(f"loadbalancer/{TYPES[kind]}/{name}/{lb_id}"),
            name=name,
            type=kind,
            scheme=scheme,
            vpc_id=vpc_id,
            availability_zones=zones,
            security_groups=list(groups or []),
            ip_address_type=params.get("IpAddressType", "ipv4"),
            dns_name=self._dns_name(name, kind, scheme, lb_id),
            hosted_zone_id=HOSTED_ZONES.get(backend.region_name, HOSTED_ZONES["us-east-1"])[
                kind != "application"
            ],
            created=backend.now(),
            tags=backend.tags_from(params.get("Tags")),
        )
        existing = self.by_name(name)
        if existing is not None:
            if _settings(existing) == _settings(lb):
                return existing  # CreateLoadBalancer is idempotent for identical settings
            raise DuplicateLoadBalancerName("A load balancer with the same name already exists")
        lb.attributes = {k: default for k, (default, _) in lb.attribute_specs().items()}
        self.items[lb.arn] = lb
        return lb

    def _zones(self, params: dict[str, Any], kind: str) -> tuple[str, list[dict[str, Any]]]:
        mappings = params.get("SubnetMappings") or []
        subnets = params.get("Subnets") or []
        if subnets and mappings:
            raise ValidationError("You can specify subnets or subnet mappings, not both")
        ids = subnets or [m["SubnetId"] for m in mappings]
        if not ids:
            raise ValidationError("At least one subnet must be specified")
        backend = self.backend
        vpc_id, zones = network.subnet_zones(backend.account_id, backend.region_name, ids)
        if kind == "application" and len(zones) < 2:
            raise InvalidConfigurationRequest(
                "At least two subnets in two different Availability Zones must be specified"
            )
        for zone, mapping in zip(zones, mappings, strict=False):
            if kind != "application":
                address = {
                    k: mapping[k]
                    for k in ("AllocationId", "PrivateIPv4Address", "IPv6Address")
                    if k in mapping
                }
                zone["LoadBalancerAddresses"] = [address] if address else []
        return vpc_id, zones

    def _dns_name(self, name: str, kind: str, scheme: str, lb_id: str) -> str:
        prefix = "internal-" if scheme == "internal" else ""
        region = self.backend.region_name
        if kind == "application":
            return f"{prefix}{name}-{random.randint(1_000_000_000, 9_999_999_999)}.{region}.elb.amazonaws.com"
        return f"{prefix}{name}-{lb_id}.elb.{region}.amazonaws.com"

    def describe(self, params: dict[str, Any]) -> list[LoadBalancer]:
        if params.get("LoadBalancerArns"):
            return [self.get(arn) for arn in params["LoadBalancerArns"]]
        if params.get("Names"):
            found = [self.by_name(n) for n in params["Names"]]
            missing = [n for n, lb in zip(params["Names"], found, strict=True) if lb is None]
            if missing:
                raise LoadBalancerNotFound(f"Load balancers '[{', '.join(missing)}]' not found")
            return [lb for lb in found if lb is not None]
        return list(self.items.values())

    def delete(self, arn: str) -> None:
        lb = self.items.get(arn)
        if lb is None:
            return  # deleting a missing load balancer succeeds, as in AWS
        if lb.attributes.get("deletion_protection.enabled") == "true":
            raise OperationNotPermitted(
                f"Load balancer '{arn}' cannot be deleted because deletion protection is enabled"
            )
        self.backend.listeners.delete_for_load_balancer(arn)
        del self.items[arn]


def _settings(lb: LoadBalancer) -> tuple[Any, ...]:
    subnets = [zone["SubnetId"] for zone in lb.availability_zones]
    return (lb.type, lb.scheme, subnets, lb.security_groups, lb.ip_address_type)
