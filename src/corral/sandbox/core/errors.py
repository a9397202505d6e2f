"""AWS error responses. One class per AWS error code, as the real services name them."""

from __future__ import annotations


class AwsError(Exception):
    """An error the sandbox answers with: code, message and HTTP status."""

    code = "InternalFailure"
    status = 400
    sender_fault = True

    def __init__(self, message: str = "", *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class ValidationError(AwsError):
    code = "ValidationError"


class ThrottlingException(AwsError):
    code = "ThrottlingException"

    def __init__(self, message: str = "Rate exceeded") -> None:
        super().__init__(message)


class InternalFailure(AwsError):
    code = "InternalFailure"
    status = 500
    sender_fault = False


class ServiceUnavailable(AwsError):
    code = "ServiceUnavailable"
    status = 503
    sender_fault = False


class UnknownOperation(AwsError):
    code = "UnknownOperationException"
