"""Emulated AWS CloudFormation: stacks whose resources land in the sandbox's own backends.

A stack's VPC, subnets and security groups are moto's EC2 ones, its roles and log groups moto's
IAM and Logs, and its cluster, load balancers, listeners, target groups and Cloud Map namespaces
are the sandbox's ECS, ELBv2 and Cloud Map emulations: every resource is created through the
owning service's API (see resources/base.py), so ECS and blue green deployments use them.
"""

from __future__ import annotations

from .backend import Backend
from .responses import OPERATIONS

BOTOCORE_NAME = "cloudformation"

__all__ = ["BOTOCORE_NAME", "OPERATIONS", "Backend"]
