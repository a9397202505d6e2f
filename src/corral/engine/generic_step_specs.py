"""The spec models of the generic steps (ShellScript, Http, Wait, Verify), in Harness's field
names: what `corral validate`, `plan` and the start of `run` check (engine/step_specs.py).

Fields Harness has that Corral reads but does not act on (executionTarget, onDelegate,
includeInfraSelectors, outputAlias, certificate) are allowed, so a Harness pipeline loads as written.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from .step_specs import Duration, SpecPart, StepSpec


class NamedValue(SpecPart):
    """`{name, type, value}`: a script's environment or output variable, an input variable."""

    name: str
    type: Literal["String", "Number", "Secret"] = "String"
    value: Any = None
    description: str | None = None
    default: Any = None
    required: bool | str | None = None


class ScriptText(SpecPart):
    script: str | None = None
    file: str | None = None


class ScriptSource(SpecPart):
    type: Literal["Inline", "Harness"] = "Inline"
    spec: ScriptText


class ShellScriptSpec(StepSpec):
    shell: Literal["Bash", "Sh", "bash", "sh"] = "Bash"
    source: ScriptSource
    environment_variables: list[NamedValue] | None = None
    output_variables: list[NamedValue] | None = None
    execution_target: dict[str, Any] | str | None = None
    on_delegate: bool | str | None = None
    include_infra_selectors: bool | str | None = None
    output_alias: dict[str, Any] | None = None
    metadata: str | None = None


class Header(SpecPart):
    key: str
    value: Any = ""


class HttpSpec(StepSpec):
    url: str
    method: Literal["GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH"] = "GET"
    headers: list[Header] | None = None
    request_body: str | None = None
    assertion: str | None = None
    output_variables: list[NamedValue] | None = None
    input_variables: list[NamedValue] | None = None
    certificate: str | None = None
    certificate_key: str | None = None
    include_infra_selectors: bool | str | None = None


class WaitSpec(StepSpec):
    duration: Duration


class VerifyCheck(SpecPart):
    name: str | None = None
    type: Literal["Http", "CloudWatch"]
    spec: dict[str, Any] = Field(default_factory=dict)


class VerifySpec(StepSpec):
    duration: Duration = "5m"
    interval: Duration = "30s"
    failure_limit: int = 0
    consecutive_error_limit: int = 4
    inconclusive_limit: int = 0
    checks: list[VerifyCheck] = Field(min_length=1)
