"""Cloud Map errors, one class per error code the service model names (all HTTP 400, as AWS answers)."""

from __future__ import annotations

from ..core.errors import AwsError


class InvalidInput(AwsError):
    code = "InvalidInput"


class NamespaceNotFound(AwsError):
    code = "NamespaceNotFound"


class NamespaceAlreadyExists(AwsError):
    code = "NamespaceAlreadyExists"


class ServiceNotFound(AwsError):
    code = "ServiceNotFound"


class ServiceAlreadyExists(AwsError):
    code = "ServiceAlreadyExists"


class InstanceNotFound(AwsError):
    code = "InstanceNotFound"


class OperationNotFound(AwsError):
    code = "OperationNotFound"


class ResourceInUse(AwsError):
    code = "ResourceInUse"


class CustomHealthNotFound(AwsError):
    code = "CustomHealthNotFound"


class ResourceNotFoundException(AwsError):
    code = "ResourceNotFoundException"
