"""Emulated AWS Cloud Map (servicediscovery): namespaces, services, instances, health, tags.

ECS uses `Backend.service_by_arn`, `register_instance` and `deregister_instance` (see
docs/sandbox-internals.md).
"""

from __future__ import annotations

from .backend import Backend
from .responses import OPERATIONS

BOTOCORE_NAME = "servicediscovery"

__all__ = ["BOTOCORE_NAME", "OPERATIONS", "Backend"]
