"""Emulated servicediscovery (placeholder until its models land)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.world import Backend as _Base

BOTOCORE_NAME = "servicediscovery"


class Backend(_Base):
    service = "servicediscovery"


OPERATIONS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {}
