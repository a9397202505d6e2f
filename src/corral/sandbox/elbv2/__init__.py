"""Emulated elbv2 (placeholder until its models land)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..core.world import Backend as _Base

BOTOCORE_NAME = "elbv2"


class Backend(_Base):
    service = "elbv2"


OPERATIONS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {}
