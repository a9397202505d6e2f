"""Emulated Elastic Load Balancing v2: load balancers, listeners, rules, target groups, target health.

Exports what the gateway needs (`BOTOCORE_NAME`, `Backend`, `OPERATIONS`); the ECS emulation
uses the backend's contract methods (`target_group`, `register_service_target`,
`deregister_service_target`, `probe_changed`), see docs/sandbox-internals.md.
"""

from __future__ import annotations

from .backend import Backend
from .responses import OPERATIONS

BOTOCORE_NAME = "elbv2"

__all__ = ["BOTOCORE_NAME", "OPERATIONS", "Backend"]
