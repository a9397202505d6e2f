"""CloudFormation's error codes (API Reference, each action's "Errors" section)."""

from __future__ import annotations

from ..core.errors import AwsError
from ..core.errors import ValidationError as ValidationError


class AlreadyExistsException(AwsError):
    code = "AlreadyExistsException"


class InsufficientCapabilitiesException(AwsError):
    code = "InsufficientCapabilitiesException"


class TokenAlreadyExistsException(AwsError):
    code = "TokenAlreadyExistsException"


class LimitExceededException(AwsError):
    code = "LimitExceededException"


__all__ = [
    "AlreadyExistsException",
    "InsufficientCapabilitiesException",
    "LimitExceededException",
    "TokenAlreadyExistsException",
    "ValidationError",
]
