"""Namespaces: a DNS domain (private to a VPC, or public) or an API-only (HTTP) name."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..core.clock import to_datetime
from .exceptions import InvalidInput

DNS_PRIVATE = "DNS_PRIVATE"
DNS_PUBLIC = "DNS_PUBLIC"
HTTP = "HTTP"

DEFAULT_SOA_TTL = 15


@dataclass
class Namespace:
    id: str
    arn: str
    name: str
    type: str
    created: float
    description: str | None = None
    vpc: str | None = None
    soa_ttl: int | None = None
    hosted_zone_id: str | None = None
    creator_request_id: str | None = None

    @property
    def is_dns(self) -> bool:
        return self.type in (DNS_PRIVATE, DNS_PUBLIC)

    def conflicts_with(self, other: Namespace) -> bool:
        """Private DNS names repeat across VPCs; everything else is unique in the Region."""
        if self.name != other.name:
            return False
        if self.type == DNS_PRIVATE and other.type == DNS_PRIVATE:
            return self.vpc == other.vpc
        return True

    def to_api(self, service_count: int, account_id: str) -> dict[str, Any]:
        """Namespace / NamespaceSummary (the serializer drops what a summary lacks)."""
        properties: dict[str, Any] = {"HttpProperties": {"HttpName": self.name}}
        if self.is_dns:
            properties["DnsProperties"] = {
                "HostedZoneId": self.hosted_zone_id,
                "SOA": {"TTL": self.soa_ttl or DEFAULT_SOA_TTL},
            }
        return {
            "Id": self.id,
            "ResourceOwner": account_id,
            "Arn": self.arn,
            "Name": self.name,
            "Type": self.type,
            "Description": self.description,
            "ServiceCount": service_count,
            "Properties": properties,
            "CreateDate": to_datetime(self.created),
            "CreatorRequestId": self.creator_request_id,
        }


def matches(namespace: Namespace, filters: Sequence[dict[str, Any]]) -> bool:
    """ListNamespaces filters: TYPE, NAME, HTTP_NAME (EQ, IN, BEGINS_WITH), RESOURCE_OWNER."""
    for spec in filters:
        name, values = spec["Name"], spec.get("Values") or []
        condition = spec.get("Condition", "EQ")
        if name == "RESOURCE_OWNER":
            if "SELF" not in values:
                return False
            continue
        field = {"TYPE": namespace.type, "NAME": namespace.name, "HTTP_NAME": namespace.name}.get(name)
        if field is None:
            raise InvalidInput(f"Filter name {name} is not supported.")
        if not _condition_holds(field, condition, values, allow_prefix=name != "TYPE"):
            return False
    return True


def _condition_holds(value: str, condition: str, values: Sequence[str], *, allow_prefix: bool) -> bool:
    if condition == "EQ":
        if len(values) != 1:
            raise InvalidInput("The EQ condition takes exactly one value.")
        return value == values[0]
    if condition == "IN":
        return value in values
    if condition == "BEGINS_WITH" and allow_prefix:
        if len(values) != 1:
            raise InvalidInput("The BEGINS_WITH condition takes exactly one value.")
        return value.startswith(values[0])
    raise InvalidInput(f"Condition {condition} is not supported for this filter.")
