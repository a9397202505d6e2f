"""Listeners and rules (placeholder: the registry's attachment queries)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .exceptions import ListenerNotFound, RuleNotFound

if TYPE_CHECKING:
    from .backend import Backend


class ListenerRegistry:
    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def listener(self, arn: str) -> Any:
        raise ListenerNotFound()

    def rule(self, arn: str) -> Any:
        raise RuleNotFound()

    def users_of(self, tg_arn: str) -> list[str]:
        return []

    def load_balancers_by_target_group(self) -> dict[str, list[str]]:
        return {}
