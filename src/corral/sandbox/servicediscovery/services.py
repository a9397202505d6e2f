"""Services: a name in a namespace, its DNS record templates and health check settings."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.clock import to_datetime
from .exceptions import InvalidInput
from .instances import Instance
from .namespaces import DNS_PRIVATE, Namespace

RECORD_TYPES = ("A", "AAAA", "SRV", "CNAME")


@dataclass(frozen=True)
class DnsRecord:
    type: str
    ttl: int


@dataclass
class DnsConfig:
    """The records Route 53 creates for each registered instance."""

    records: list[DnsRecord]
    routing_policy: str = "MULTIVALUE"

    @property
    def record_types(self) -> set[str]:
        return {record.type for record in self.records}

    def has(self, record_type: str) -> bool:
        return record_type in self.record_types

    @classmethod
    def from_api(cls, data: dict[str, Any], *, routing_policy: str | None = None) -> DnsConfig:
        raw = data.get("DnsRecords") or []
        if not raw:
            raise InvalidInput("DnsConfig.DnsRecords must contain at least one record.")
        records = [DnsRecord(type=str(item["Type"]), ttl=int(item["TTL"])) for item in raw]
        types = [record.type for record in records]
        if len(set(types)) != len(types):
            raise InvalidInput("DnsConfig.DnsRecords can contain each record type only once.")
        if "CNAME" in types and len(types) > 1:
            raise InvalidInput("A CNAME record cannot be combined with other record types in DnsConfig.")
        if any(record.ttl < 0 for record in records):
            raise InvalidInput("DnsRecords TTL must not be negative.")
        return cls(
            records=records, routing_policy=routing_policy or data.get("RoutingPolicy") or "MULTIVALUE"
        )

    def to_api(self, namespace_id: str) -> dict[str, Any]:
        return {
            "NamespaceId": namespace_id,
            "RoutingPolicy": self.routing_policy,
            "DnsRecords": [{"Type": r.type, "TTL": r.ttl} for r in self.records],
        }


@dataclass
class Service:
    id: str
    arn: str
    name: str
    namespace_id: str
    created: float
    type: str  # HTTP | DNS_HTTP
    description: str | None = None
    dns_config: DnsConfig | None = None
    health_check_config: dict[str, Any] | None = None
    health_check_custom_config: dict[str, Any] | None = None
    creator_request_id: str | None = None
    instances: dict[str, Instance] = field(default_factory=dict)
    revision: int = 0  # DiscoverInstances' InstancesRevision: bumps on every instance change

    @property
    def has_custom_health(self) -> bool:
        return self.health_check_custom_config is not None

    def health_of(self, instance: Instance) -> str:
        return instance.health(route53_checked=self.health_check_config is not None)

    def to_api(self, account_id: str) -> dict[str, Any]:
        """Service / ServiceSummary (the serializer drops what a summary lacks)."""
        return {
            "Id": self.id,
            "ResourceOwner": account_id,
            "CreatedByAccount": account_id,
            "NamespaceId": self.namespace_id,
            "CreatorRequestId": self.creator_request_id,
            "Arn": self.arn,
            "Name": self.name,
            "Type": self.type,
            "Description": self.description,
            "InstanceCount": len(self.instances),
            "DnsConfig": self.dns_config.to_api(self.namespace_id) if self.dns_config else None,
            "HealthCheckConfig": self.health_check_config,
            "HealthCheckCustomConfig": self.health_check_custom_config,
            "CreateDate": to_datetime(self.created),
        }


def service_type(namespace: Namespace, dns_config: DnsConfig | None, requested: str | None) -> str:
    """DNS namespaces give DNS_HTTP services unless asked for API-only (`Type: HTTP`)."""
    if not namespace.is_dns:
        if dns_config is not None:
            raise InvalidInput("DnsConfig cannot be specified for a service in an HTTP namespace.")
        return "HTTP"
    if requested == "HTTP":
        if dns_config is not None:
            raise InvalidInput("DnsConfig cannot be specified for a service of type HTTP.")
        return "HTTP"
    return "DNS_HTTP" if dns_config is not None else "HTTP"


def check_health_settings(
    namespace: Namespace, health_check: dict[str, Any] | None, custom: dict[str, Any] | None
) -> None:
    if health_check is not None and custom is not None:
        raise InvalidInput("HealthCheckConfig and HealthCheckCustomConfig cannot both be specified.")
    if health_check is not None and namespace.type == DNS_PRIVATE:
        raise InvalidInput("HealthCheckConfig is only supported for services in public DNS namespaces.")
    if health_check is not None and health_check.get("Type") == "TCP" and health_check.get("ResourcePath"):
        raise InvalidInput("ResourcePath cannot be specified for a TCP health check.")


def required_attributes(service: Service, attributes: dict[str, str]) -> None:
    """RegisterInstance: the attributes the service's DNS records need."""
    if service.dns_config is None:
        return
    types = service.dns_config.record_types
    needed = []
    if "A" in types:
        needed.append("AWS_INSTANCE_IPV4")
    if "AAAA" in types:
        needed.append("AWS_INSTANCE_IPV6")
    if "CNAME" in types:
        needed.append("AWS_INSTANCE_CNAME")
    if "SRV" in types:
        needed.append("AWS_INSTANCE_PORT")
        if "AWS_INSTANCE_IPV4" not in attributes and "AWS_INSTANCE_IPV6" not in attributes:
            needed.append("AWS_INSTANCE_IPV4")
    missing = [name for name in dict.fromkeys(needed) if name not in attributes]
    if missing:
        raise InvalidInput(
            f"The service's DNS records require the attribute(s) {', '.join(missing)} for each instance."
        )


def service_matches(service: Service, filters: Sequence[dict[str, Any]]) -> bool:
    """ListServices filters: NAMESPACE_ID (EQ, IN) and RESOURCE_OWNER."""
    for spec in filters:
        name, values, condition = spec["Name"], spec.get("Values") or [], spec.get("Condition", "EQ")
        if name == "RESOURCE_OWNER":
            if "SELF" not in values:
                return False
        elif name == "NAMESPACE_ID" and condition in ("EQ", "IN"):
            if condition == "EQ" and len(values) != 1:
                raise InvalidInput("The EQ condition takes exactly one value.")
            if service.namespace_id not in values:
                return False
        else:
            raise InvalidInput(f"Filter {name} with condition {condition} is not supported.")
    return True
