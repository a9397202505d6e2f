"""Emulated Application Auto Scaling: scalable targets, scaling policies, scheduled actions
(run on the sandbox clock, see docs/sandbox.md), activities, tags.

ECS services are scaled through the ECS contract; the admin API's `simulate_scaling` plays
the part of a policy's alarm (see docs/sandbox-internals.md).
"""

from __future__ import annotations

from .backend import Backend
from .responses import OPERATIONS

BOTOCORE_NAME = "application-autoscaling"

__all__ = ["BOTOCORE_NAME", "OPERATIONS", "Backend"]
