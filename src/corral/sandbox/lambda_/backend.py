"""The Lambda backend of one account and Region: functions, and the invocations made of them."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from ..core.world import Backend as BaseBackend
from ..core.world import RegionState
from . import functions as checks
from .code import check_zip
from .exceptions import (
    InvalidParameterValueException,
    PreconditionFailedException,
    ResourceConflictException,
    function_not_found,
)
from .functions import LATEST, Function
from .runner import Code

# a full or partial function ARN, or a name, each with an optional qualifier
# ("FunctionName", Invoke, Lambda API Reference)
FULL_ARN = re.compile(
    r"^arn:aws[a-zA-Z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$"
)
PARTIAL_ARN = re.compile(r"^(?P<account>\d{12}):function:(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
NAME = re.compile(r"^(?P<name>[^:]+)(?::(?P<qualifier>[^:]+))?$")
INVOCATIONS_KEPT = 1000


@dataclass(frozen=True)
class Invocation:
    """One invocation, as the admin API lists it (tests check what a function was called with)."""

    function_name: str
    sandbox_time: float
    event: Any
    function_error: str | None
    answer: Any
    via: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "functionName": self.function_name,
            "sandboxTime": self.sandbox_time,
            "event": self.event,
            "functionError": self.function_error,
            "answer": self.answer,
            "via": self.via,
        }


class Backend(BaseBackend):
    service = "lambda"

    def __init__(self, region: RegionState) -> None:
        super().__init__(region)
        self.functions: dict[str, Function] = {}
        self.invocations: list[Invocation] = []

    def function_arn(self, name: str) -> str:
        return self.arn("lambda", f"function:{name}")

    # ---------------------------------------------------------------- finding

    def find(self, reference: str, qualifier: str | None = None) -> Function:
        """A function by name or ARN; only `$LATEST` exists (no versions or aliases)."""
        match = FULL_ARN.match(reference) or PARTIAL_ARN.match(reference) or NAME.match(reference)
        if match is None:
            raise function_not_found(reference)
        parts = match.groupdict()
        name = parts["name"]
        qualifier = qualifier or parts.get("qualifier")
        arn = self.function_arn(name) + (f":{qualifier}" if qualifier else "")
        elsewhere = (parts.get("account") or self.account_id, parts.get("region") or self.region_name)
        if elsewhere != (self.account_id, self.region_name):  # another account's or Region's function
            raise function_not_found(reference)
        found = self.functions.get(name)
        if found is None or qualifier not in (None, LATEST):
            raise function_not_found(arn)
        return found

    def list_functions(self) -> list[Function]:
        return [self.functions[name] for name in sorted(self.functions)]

    # ---------------------------------------------------------------- changing

    def create_function(self, params: dict[str, Any]) -> Function:
        reference = str(params.get("FunctionName") or "")
        match = FULL_ARN.match(reference) or PARTIAL_ARN.match(reference)
        name = checks.check_name(match.group("name") if match else reference)
        if params.get("PackageType", "Zip") != "Zip":
            raise InvalidParameterValueException(
                "The Corral sandbox runs .zip packages only (PackageType Zip)."
            )
        role = checks.check_role(params.get("Role"))
        runtime = checks.check_runtime(params.get("Runtime"))
        handler = checks.check_handler(params.get("Handler"))
        zipped = _zip_file(params.get("Code") or {})
        check_zip(zipped, "CreateFunction")
        timeout = checks.check_timeout(params.get("Timeout", checks.DEFAULT_TIMEOUT))
        memory = checks.check_memory(params.get("MemorySize", checks.DEFAULT_MEMORY))
        variables = checks.check_environment(params.get("Environment"))
        if name in self.functions:
            raise ResourceConflictException(f"Function already exist: {name}")
        function = Function(
            name=name,
            arn=self.function_arn(name),
            runtime=runtime,
            role=role,
            handler=handler,
            code=zipped,
            last_modified=self.now(),
            timeout=timeout,
            memory_size=memory,
            description=str(params.get("Description") or ""),
            environment=variables,
            tags=dict(params.get("Tags") or {}),
            architectures=list(params.get("Architectures") or ["x86_64"]),
        )
        self.functions[name] = function
        return function

    def update_code(self, reference: str, params: dict[str, Any]) -> Function:
        function = self.find(reference)
        _check_revision(function, params)
        zipped = _zip_file(params)
        check_zip(zipped, "UpdateFunctionCode")
        function.code = zipped
        if params.get("Architectures"):
            function.architectures = list(params["Architectures"])
        self._changed(function)
        return function

    def update_configuration(self, reference: str, params: dict[str, Any]) -> Function:
        function = self.find(reference)
        _check_revision(function, params)
        # check everything before changing anything
        role = checks.check_role(params["Role"]) if "Role" in params else function.role
        runtime = checks.check_runtime(params["Runtime"]) if "Runtime" in params else function.runtime
        handler = checks.check_handler(params["Handler"]) if "Handler" in params else function.handler
        timeout = checks.check_timeout(params["Timeout"]) if "Timeout" in params else function.timeout
        memory = checks.check_memory(params["MemorySize"]) if "MemorySize" in params else function.memory_size
        variables = (
            checks.check_environment(params["Environment"])
            if "Environment" in params
            else function.environment
        )
        function.role, function.runtime, function.handler = role, runtime, handler
        function.timeout, function.memory_size, function.environment = timeout, memory, variables
        if "Description" in params:
            function.description = str(params["Description"] or "")
        self._changed(function)
        return function

    def delete_function(self, reference: str, qualifier: str | None = None) -> None:
        function = self.find(reference, qualifier)
        del self.functions[function.name]

    def _changed(self, function: Function) -> None:
        function.last_modified = self.now()
        function.revision_id = str(uuid.uuid4())

    # ---------------------------------------------------------------- invoking

    def code_of(self, function: Function) -> Code:
        return Code(
            name=function.name,
            arn=function.arn,
            region=self.region_name,
            handler=function.handler,
            zip=function.code,
            timeout=function.timeout,
            memory_size=function.memory_size,
            variables=dict(function.environment),
            endpoint_url=self.world.endpoint_url,
        )

    def record(self, invocation: Invocation) -> None:
        self.invocations.append(invocation)
        del self.invocations[:-INVOCATIONS_KEPT]


def _zip_file(code: dict[str, Any]) -> bytes:
    data = code.get("ZipFile")
    if data is None:
        if code.get("S3Bucket") or code.get("ImageUri"):
            raise InvalidParameterValueException(
                "The Corral sandbox takes function code as Code.ZipFile only (not from S3 or an image)."
            )
        raise InvalidParameterValueException("Please provide a source for function code.")
    return bytes(data)


def _check_revision(function: Function, params: dict[str, Any]) -> None:
    expected = params.get("RevisionId")
    if expected and expected != function.revision_id:
        raise PreconditionFailedException(
            "The Revision Id provided does not match the latest Revision Id. "
            "Call the GetFunction/GetAlias API to retrieve the latest Revision Id"
        )
