"""The resource types the sandbox's CloudFormation creates, by CloudFormation type name."""

from __future__ import annotations

from . import ec2, ecs, elbv2, iam, logs, servicediscovery
from .base import ResourceContext, ResourceFailure, ResourceType, guarded

TYPES: dict[str, ResourceType] = {
    kind.type_name: kind()
    for module in (ec2, iam, logs, ecs, elbv2, servicediscovery)
    for kind in module.TYPES
}

__all__ = ["TYPES", "ResourceContext", "ResourceFailure", "ResourceType", "guarded"]
