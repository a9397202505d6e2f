"""ELBv2 errors, one class per AWS error code (codes from the botocore model's error shapes).

All are HTTP 400 sender faults, as the model declares them.
"""

from __future__ import annotations

from ..core.errors import AwsError, ValidationError


class LoadBalancerNotFound(AwsError):
    code = "LoadBalancerNotFound"

    def __init__(self, message: str = "One or more load balancers not found") -> None:
        super().__init__(message)


class TargetGroupNotFound(AwsError):
    code = "TargetGroupNotFound"

    def __init__(self, message: str = "One or more target groups not found") -> None:
        super().__init__(message)


class ListenerNotFound(AwsError):
    code = "ListenerNotFound"

    def __init__(self, message: str = "One or more listeners not found") -> None:
        super().__init__(message)


class RuleNotFound(AwsError):
    code = "RuleNotFound"

    def __init__(self, message: str = "One or more rules not found") -> None:
        super().__init__(message)


class DuplicateLoadBalancerName(AwsError):
    code = "DuplicateLoadBalancerName"


class DuplicateTargetGroupName(AwsError):
    code = "DuplicateTargetGroupName"


class DuplicateListener(AwsError):
    code = "DuplicateListener"


class DuplicateTagKeys(AwsError):
    code = "DuplicateTagKeys"


class TooManyTags(AwsError):
    code = "TooManyTags"


class PriorityInUse(AwsError):
    code = "PriorityInUse"


class ResourceInUse(AwsError):
    code = "ResourceInUse"


class InvalidConfigurationRequest(AwsError):
    code = "InvalidConfigurationRequest"


class InvalidLoadBalancerAction(AwsError):
    code = "InvalidLoadBalancerAction"


class TargetGroupAssociationLimit(AwsError):
    code = "TargetGroupAssociationLimit"


class TooManyTargetGroups(AwsError):
    code = "TooManyTargetGroups"


class TooManyActions(AwsError):
    code = "TooManyActions"


class IncompatibleProtocols(AwsError):
    code = "IncompatibleProtocols"


class UnsupportedProtocol(AwsError):
    code = "UnsupportedProtocol"


class InvalidTarget(AwsError):
    code = "InvalidTarget"


class SubnetNotFound(AwsError):
    code = "SubnetNotFound"


class InvalidSubnet(AwsError):
    code = "InvalidSubnet"


class InvalidScheme(AwsError):
    code = "InvalidScheme"


class OperationNotPermitted(AwsError):
    code = "OperationNotPermitted"


class InvalidSecurityGroup(AwsError):
    code = "InvalidSecurityGroup"


__all__ = [
    "DuplicateListener",
    "DuplicateLoadBalancerName",
    "DuplicateTagKeys",
    "DuplicateTargetGroupName",
    "IncompatibleProtocols",
    "InvalidConfigurationRequest",
    "InvalidLoadBalancerAction",
    "InvalidScheme",
    "InvalidSecurityGroup",
    "InvalidSubnet",
    "InvalidTarget",
    "ListenerNotFound",
    "LoadBalancerNotFound",
    "OperationNotPermitted",
    "PriorityInUse",
    "ResourceInUse",
    "RuleNotFound",
    "SubnetNotFound",
    "TargetGroupAssociationLimit",
    "TargetGroupNotFound",
    "TooManyActions",
    "TooManyTags",
    "TooManyTargetGroups",
    "UnsupportedProtocol",
    "ValidationError",
]
