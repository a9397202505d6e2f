"""Emulated AWS Lambda: Python functions created through the Lambda API and run in a child process.

The ECS emulation calls `invoke.invoke_function` for AWS_LAMBDA lifecycle hooks (see
docs/sandbox-internals.md). Named `lambda_` because `lambda` is a Python keyword.
"""

from __future__ import annotations

from .backend import Backend
from .responses import OPERATIONS, OUTSIDE_LOCK

BOTOCORE_NAME = "lambda"

__all__ = ["BOTOCORE_NAME", "OPERATIONS", "OUTSIDE_LOCK", "Backend"]
