"""Application Auto Scaling errors, one class per error code the service model names (all HTTP 400)."""

from __future__ import annotations

from ..core.errors import AwsError


class ValidationException(AwsError):
    code = "ValidationException"


class ObjectNotFoundException(AwsError):
    code = "ObjectNotFoundException"


class InvalidNextTokenException(AwsError):
    code = "InvalidNextTokenException"


class ResourceNotFoundException(AwsError):
    code = "ResourceNotFoundException"
