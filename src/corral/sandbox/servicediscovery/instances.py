"""Instances registered in a service: attributes and (custom) health status."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

HEALTHY = "HEALTHY"
UNHEALTHY = "UNHEALTHY"
UNKNOWN = "UNKNOWN"

INIT_HEALTH_ATTRIBUTE = "AWS_INIT_HEALTH_STATUS"


@dataclass
class Instance:
    id: str
    attributes: dict[str, str]
    registered: float
    creator_request_id: str | None = None
    # set only for services with HealthCheckCustomConfig; None means no health checking
    custom_health: str | None = None

    def health(self, *, route53_checked: bool) -> str:
        if self.custom_health is not None:
            return self.custom_health
        # Route 53 health checks are not run by the sandbox: such instances count as healthy
        return HEALTHY if route53_checked else UNKNOWN

    def to_api(self) -> dict[str, Any]:
        return {
            "Id": self.id,
            "Attributes": dict(self.attributes),
            "CreatorRequestId": self.creator_request_id,
        }


def initial_custom_health(attributes: dict[str, str]) -> str:
    status = attributes.get(INIT_HEALTH_ATTRIBUTE, HEALTHY)
    return status if status in (HEALTHY, UNHEALTHY) else HEALTHY


def wanted(status: str, requested: str) -> bool:
    """DiscoverInstances' HealthStatus filter; instances without health checks count as healthy."""
    if requested == "ALL":
        return True
    healthy = status in (HEALTHY, UNKNOWN)
    return healthy if requested == HEALTHY else not healthy


def select(
    instances: list[Instance],
    health: Callable[[Instance], str],
    requested: str,
    query: dict[str, str],
    optional: dict[str, str],
) -> list[Instance]:
    """DiscoverInstances: QueryParameters must match; OptionalParameters narrow when they match any."""
    found = [i for i in instances if _has_attributes(i, query)]
    found = [i for i in found if _has_attributes(i, optional)] or found
    if requested == "HEALTHY_OR_ELSE_ALL":
        return [i for i in found if wanted(health(i), HEALTHY)] or found
    return [i for i in found if wanted(health(i), requested)]


def _has_attributes(instance: Instance, attributes: dict[str, str]) -> bool:
    return all(instance.attributes.get(key) == value for key, value in attributes.items())
