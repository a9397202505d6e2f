"""Lambda errors, one class per error code, with the HTTP status the Lambda API Reference gives
each (https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html#API_CreateFunction_Errors,
https://docs.aws.amazon.com/lambda/latest/api/API_Invoke.html#API_Invoke_Errors)."""

from __future__ import annotations

from ..core.errors import AwsError


class ResourceNotFoundException(AwsError):
    code = "ResourceNotFoundException"
    status = 404


class ResourceConflictException(AwsError):
    code = "ResourceConflictException"
    status = 409


class InvalidParameterValueException(AwsError):
    code = "InvalidParameterValueException"


class ValidationException(AwsError):
    """Lambda's request validation ("1 validation error detected: ..."), not in botocore's model."""

    code = "ValidationException"


class InvalidRequestContentException(AwsError):
    code = "InvalidRequestContentException"


class RequestTooLargeException(AwsError):
    code = "RequestTooLargeException"
    status = 413


class RequestEntityTooLargeException(AwsError):
    """What Lambda answers a CreateFunction or UpdateFunctionCode request over its size limit."""

    code = "RequestEntityTooLargeException"
    status = 413


def function_not_found(arn: str) -> ResourceNotFoundException:
    return ResourceNotFoundException(f"Function not found: {arn}")


class PreconditionFailedException(AwsError):
    code = "PreconditionFailedException"
    status = 412
