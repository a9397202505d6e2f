"""A Lambda function as the sandbox keeps it, and the checks Lambda makes on its configuration.

Fields and defaults as in the Lambda API Reference's FunctionConfiguration and CreateFunction
(https://docs.aws.amazon.com/lambda/latest/api/API_CreateFunction.html): Timeout 3 s (1 to 900),
MemorySize 128 MB (128 to 10240), Version `$LATEST`, PackageType Zip. Functions are Active as
soon as they are created or updated (on AWS they are Pending for a moment).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from .code import sha256
from .exceptions import InvalidParameterValueException, ValidationException

DEFAULT_TIMEOUT = 3
DEFAULT_MEMORY = 128
LATEST = "$LATEST"

ROLE_PATTERN = re.compile(r"^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$")
NAME_PATTERN = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")
ENV_KEY_PATTERN = re.compile(r"^[a-zA-Z]([a-zA-Z0-9_])+$")
PYTHON_RUNTIME = re.compile(r"^python3\.\d+$")
ENVIRONMENT_LIMIT = 4 * 1024

# "Defined runtime environment variables" (Lambda Developer Guide,
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html#configuration-envvars-runtime):
# Lambda sets these and refuses them in a function's configuration.
RESERVED_ENVIRONMENT = (
    "_HANDLER",
    "_X_AMZN_TRACE_ID",
    "AWS_DEFAULT_REGION",
    "AWS_REGION",
    "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE",
    "AWS_LAMBDA_LOG_GROUP_NAME",
    "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "LAMBDA_TASK_ROOT",
    "LAMBDA_RUNTIME_DIR",
)


@dataclass
class Function:
    name: str
    arn: str
    runtime: str
    role: str
    handler: str
    code: bytes
    last_modified: float
    timeout: int = DEFAULT_TIMEOUT
    memory_size: int = DEFAULT_MEMORY
    description: str = ""
    environment: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    revision_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    architectures: list[str] = field(default_factory=lambda: ["x86_64"])

    def configuration(self) -> dict[str, Any]:
        """FunctionConfiguration, as CreateFunction, GetFunction and ListFunctions answer it."""
        config: dict[str, Any] = {
            "FunctionName": self.name,
            "FunctionArn": self.arn,
            "Runtime": self.runtime,
            "Role": self.role,
            "Handler": self.handler,
            "CodeSize": len(self.code),
            "Description": self.description,
            "Timeout": self.timeout,
            "MemorySize": self.memory_size,
            "LastModified": last_modified_text(self.last_modified),
            "CodeSha256": sha256(self.code),
            "Version": LATEST,
            "TracingConfig": {"Mode": "PassThrough"},
            "RevisionId": self.revision_id,
            "State": "Active",
            "LastUpdateStatus": "Successful",
            "PackageType": "Zip",
            "Architectures": list(self.architectures),
            "EphemeralStorage": {"Size": 512},
            "SnapStart": {"ApplyOn": "None", "OptimizationStatus": "Off"},
            "LoggingConfig": {"LogFormat": "Text", "LogGroup": f"/aws/lambda/{self.name}"},
        }
        if self.environment:
            config["Environment"] = {"Variables": dict(self.environment)}
        return config


def last_modified_text(moment: float) -> str:
    """LastModified is a string in Lambda's answers: `2026-12-07T12:00:00.000+0000`."""
    when = dt.datetime.fromtimestamp(moment, tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}+0000"


# ---------------------------------------------------------------- checks


def _invalid(value: Any, where: str, constraint: str) -> ValidationException:
    return ValidationException(
        f"1 validation error detected: Value '{value}' at '{where}' failed to satisfy constraint: {constraint}"
    )


def check_role(role: Any) -> str:
    if not role:
        raise _invalid(None, "role", "Member must not be null")
    if not ROLE_PATTERN.match(str(role)):
        raise _invalid(
            role, "role", f"Member must satisfy regular expression pattern: {ROLE_PATTERN.pattern[1:-1]}"
        )
    return str(role)


def check_runtime(runtime: Any) -> str:
    if not runtime:
        raise InvalidParameterValueException(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages."
        )
    if not PYTHON_RUNTIME.match(str(runtime)):
        # a sandbox limit, not Lambda's: it runs function code with its own Python only
        raise InvalidParameterValueException(
            f"The Corral sandbox runs only Python functions (python3.x runtimes); runtime {runtime} is not supported."
        )
    return str(runtime)


def check_handler(handler: Any) -> str:
    if not handler:
        raise InvalidParameterValueException(
            "Runtime and Handler are mandatory parameters for functions created with deployment packages."
        )
    text = str(handler)
    if len(text) > 128:
        raise _invalid(text, "handler", "Member must have length less than or equal to 128")
    if re.search(r"\s", text):
        raise _invalid(text, "handler", "Member must satisfy regular expression pattern: [^\\s]+")
    return text


def check_timeout(timeout: Any) -> int:
    value = int(timeout)
    if value < 1:
        raise _invalid(value, "timeout", "Member must have value greater than or equal to 1")
    if value > 900:
        raise _invalid(value, "timeout", "Member must have value less than or equal to 900")
    return value


def check_memory(memory: Any) -> int:
    value = int(memory)
    if value < 128:
        raise _invalid(value, "memorySize", "Member must have value greater than or equal to 128")
    if value > 10240:
        raise _invalid(value, "memorySize", "Member must have value less than or equal to 10240")
    return value


def check_environment(environment: Any) -> dict[str, str]:
    variables: dict[str, str] = dict((environment or {}).get("Variables") or {})
    reserved = [key for key in variables if key in RESERVED_ENVIRONMENT]
    if reserved:
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided contains reserved keys that are currently not supported for modification. "
            f"Reserved keys used in this request: {', '.join(reserved)}"
        )
    for key in variables:
        if not ENV_KEY_PATTERN.match(key):
            raise _invalid(
                key,
                "environment.variables",
                "Map keys must satisfy constraint: [Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]",
            )
    if len(json.dumps(variables, separators=(",", ":"))) > ENVIRONMENT_LIMIT:
        # the message does not repeat the values: they may be secrets
        raise InvalidParameterValueException(
            "Lambda was unable to configure your environment variables because the environment variables "
            "you have provided exceeded the 4KB limit."
        )
    return variables


def check_name(name: Any) -> str:
    if not name:
        raise _invalid(None, "functionName", "Member must not be null")
    if not NAME_PATTERN.match(str(name)):
        raise _invalid(
            name,
            "functionName",
            "Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ (at most 64 characters)",
        )
    return str(name)
