"""Load balancers (placeholder)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import LoadBalancerNotFound

if TYPE_CHECKING:
    from .backend import Backend


class LoadBalancerRegistry:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def get(self, arn: str) -> Any:
        raise LoadBalancerNotFound()
