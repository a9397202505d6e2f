"""ECS error responses, one class per error code ECS answers with."""

from __future__ import annotations

from ..core.errors import AwsError


class ClientException(AwsError):
    code = "ClientException"


class InvalidParameterException(AwsError):
    code = "InvalidParameterException"


class ClusterNotFoundException(AwsError):
    code = "ClusterNotFoundException"

    def __init__(self, message: str = "Cluster not found.") -> None:
        super().__init__(message)


class ServiceNotFoundException(AwsError):
    code = "ServiceNotFoundException"

    def __init__(self, message: str = "Service not found.") -> None:
        super().__init__(message)


class ServiceNotActiveException(AwsError):
    code = "ServiceNotActiveException"

    def __init__(self, message: str = "Service was not ACTIVE.") -> None:
        super().__init__(message)


class ResourceNotFoundException(AwsError):
    code = "ResourceNotFoundException"


class ClusterContainsServicesException(AwsError):
    code = "ClusterContainsServicesException"

    def __init__(self) -> None:
        super().__init__("The Cluster cannot be deleted while Services are active.")


class ClusterContainsTasksException(AwsError):
    code = "ClusterContainsTasksException"

    def __init__(self) -> None:
        super().__init__("The Cluster cannot be deleted while Tasks are active.")


class PlatformUnknownException(AwsError):
    code = "PlatformUnknownException"


class UnsupportedFeatureException(AwsError):
    code = "UnsupportedFeatureException"


class ConflictException(AwsError):
    code = "ConflictException"


class ServiceDeploymentNotFoundException(AwsError):
    code = "ServiceDeploymentNotFoundException"

    def __init__(self, message: str = "The service deployment does not exist.") -> None:
        super().__init__(message)
