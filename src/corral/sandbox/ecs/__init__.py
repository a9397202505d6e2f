"""Emulated Amazon ECS: clusters, task definitions, services with the rolling scheduler, tasks.

See clusters.py for simulated container instances, tasks.py for the task lifecycle,
scheduler.py for rolling deployments, and docs/sandbox-internals.md for the contracts with
the ELBv2, Cloud Map and Application Auto Scaling emulations.
"""

from __future__ import annotations

from .backend import Backend
from .responses import OPERATIONS

BOTOCORE_NAME = "ecs"

__all__ = ["BOTOCORE_NAME", "OPERATIONS", "Backend"]
