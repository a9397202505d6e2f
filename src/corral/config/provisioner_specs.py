"""The provisioner steps' `spec`, in Harness's shapes, checked when the pipeline loads.

    ShellScriptProvision  source {type: Inline, spec: {script}}, environmentVariables
    CreateStack           provisionerIdentifier, configuration {stackName, connectorRef, region,
                          templateFile {type: Inline|Remote|S3URL}, parameters, parameterOverrides,
                          roleArn, capabilities, tags {type: Inline, spec: {content}},
                          skipOnStackStatuses}
    DeleteStack           configuration {type: Inline, spec: {connectorRef, region, stackName,
                          roleArn}} or {type: Inherited|InheritFromCreate} with provisionerIdentifier
    RollbackStack         configuration {provisionerIdentifier} (or provisionerIdentifier beside it)

Shapes follow Harness's CloudFormation and Shell Script provisioning pages
(developer.harness.io/docs/continuous-delivery/cd-infrastructure/...) and Harness's step classes
(CloudformationCreateStackStepConfiguration). Capabilities and stack statuses are checked against
botocore's CloudFormation model. A field holding an expression is checked once rendered, when the
step runs. Terraform steps are refused: this build has no Terraform binary and cannot install
providers.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from .entities.common import Model, field_error, is_expression
from .entities.stores import GitStore, HarnessStore
from .problems import problems_from_validation

SHELL_SCRIPT_PROVISION = "ShellScriptProvision"
CLOUDFORMATION_STEP_TYPES = ("CreateStack", "DeleteStack", "RollbackStack")
PROVISIONER_STEP_TYPES = (SHELL_SCRIPT_PROVISION, *CLOUDFORMATION_STEP_TYPES)
TERRAFORM_STEP_TYPES = ("TerraformPlan", "TerraformApply", "TerraformDestroy", "TerraformRollback")
TERRAFORM_REFUSAL = (
    "{type} is not available in this build: Corral has no Terraform binary and cannot install "
    "Terraform providers here; provision with CloudFormation (CreateStack) or ShellScriptProvision"
)
ALWAYS_ALLOWED = ("delegateSelectors",)


class _Variable(Model):
    name: str
    type: Literal["String", "Secret", "Number"] = "String"
    value: Any = None


class _InlineScript(Model):
    script: str


class _ScriptSource(Model):
    type: Literal["Inline"]
    spec: _InlineScript


class ShellScriptProvisionSpec(Model):
    source: _ScriptSource
    environment_variables: list[_Variable] | None = None
    delegate_selectors: list[str] | str | None = None


class _InlineTemplate(Model):
    template_body: str


class _RemoteTemplate(Model):
    store: Annotated[HarnessStore | GitStore, Field(discriminator="type")]


class _S3UrlTemplate(Model):
    template_url: str


class _InlineTemplateFile(Model):
    type: Literal["Inline"]
    spec: _InlineTemplate


class _RemoteTemplateFile(Model):
    type: Literal["Remote"]
    spec: _RemoteTemplate


class _S3UrlTemplateFile(Model):
    type: Literal["S3URL", "S3Url"]
    spec: _S3UrlTemplate


TemplateFile = Annotated[
    _InlineTemplateFile | _RemoteTemplateFile | _S3UrlTemplateFile, Field(discriminator="type")
]


class _ParametersFile(Model):
    identifier: str
    store: Annotated[HarnessStore | GitStore, Field(discriminator="type")]


class _InlineTags(Model):
    content: str


class _Tags(Model):
    type: Literal["Inline"]
    spec: _InlineTags


class CreateStackConfiguration(Model):
    stack_name: str
    connector_ref: str
    region: str
    template_file: TemplateFile
    parameters: list[_ParametersFile] | None = None
    parameter_overrides: list[_Variable] | None = None
    role_arn: str | None = None
    capabilities: list[str] | str | None = None
    tags: _Tags | None = None
    skip_on_stack_statuses: list[str] | str | None = None

    @model_validator(mode="after")
    def _known_values(self) -> CreateStackConfiguration:
        for name, values, known in (
            ("capabilities", self.capabilities, cloudformation_enum("Capability")),
            ("skipOnStackStatuses", self.skip_on_stack_statuses, cloudformation_enum("StackStatus")),
        ):
            if not isinstance(values, list):
                continue  # an expression: checked when the step runs
            for index, value in enumerate(values):
                if not is_expression(value) and value not in known:
                    raise field_error(
                        f"{name}[{index}]", f"expected one of {', '.join(known)}, got {value!r}"
                    )
        return self


class CreateStackSpec(Model):
    provisioner_identifier: str
    configuration: CreateStackConfiguration
    delegate_selectors: list[str] | str | None = None


class _InlineDelete(Model):
    connector_ref: str
    region: str
    stack_name: str
    role_arn: str | None = None
    provisioner_identifier: str | None = None


class _InheritedDelete(Model):
    provisioner_identifier: str


class DeleteStackConfiguration(Model):
    type: Literal["Inline", "Inherited", "InheritFromCreate"]
    spec: dict[str, Any] | None = None
    connector_ref: str | None = None  # Harness's examples repeat it here

    @model_validator(mode="after")
    def _spec_of_type(self) -> DeleteStackConfiguration:
        if self.type == "Inline":
            if self.spec is None:
                raise field_error("spec", "required for type Inline: {connectorRef, region, stackName}")
            _nested(_InlineDelete, self.spec, "spec")
        elif self.spec is not None:
            _nested(_InheritedDelete, self.spec, "spec")
        return self


class DeleteStackSpec(Model):
    configuration: DeleteStackConfiguration
    provisioner_identifier: str | None = None
    delegate_selectors: list[str] | str | None = None

    @model_validator(mode="after")
    def _names_a_provisioner(self) -> DeleteStackSpec:
        inherited = self.configuration.type != "Inline"
        if inherited and not (
            self.provisioner_identifier or (self.configuration.spec or {}).get("provisionerIdentifier")
        ):
            raise field_error(
                "provisionerIdentifier",
                "required when configuration.type is Inherited: the Provisioner Identifier of the CreateStack step",
            )
        return self


class _RollbackConfiguration(Model):
    provisioner_identifier: str


class RollbackStackSpec(Model):
    configuration: _RollbackConfiguration | None = None
    provisioner_identifier: str | None = None
    delegate_selectors: list[str] | str | None = None

    @model_validator(mode="after")
    def _names_a_provisioner(self) -> RollbackStackSpec:
        if self.configuration is None and not self.provisioner_identifier:
            raise field_error(
                "configuration.provisionerIdentifier",
                "required: the Provisioner Identifier of the CreateStack step to roll back",
            )
        return self


SPEC_MODELS: dict[str, type[Model]] = {
    SHELL_SCRIPT_PROVISION: ShellScriptProvisionSpec,
    "CreateStack": CreateStackSpec,
    "DeleteStack": DeleteStackSpec,
    "RollbackStack": RollbackStackSpec,
}


def provisioner_spec_problem(step_type: str, spec: Any) -> tuple[str, str] | None:
    """(path from the step, message) of the first thing wrong with a provisioner step's spec."""
    if step_type in TERRAFORM_STEP_TYPES:
        return "type", TERRAFORM_REFUSAL.format(type=step_type)
    model = SPEC_MODELS.get(step_type)
    if model is None:
        return None
    try:
        model.model_validate(spec)
    except ValidationError as error:
        found = problems_from_validation(error, spec, root="spec", locate=lambda _: "", model=model)
        # a misspelt field also makes the right one missing: name the misspelling
        first = next((p for p in found if p.message.startswith("unknown field")), found[0])
        return first.path, first.message
    return None


def _nested(model: type[Model], data: Any, at: str) -> None:
    try:
        model.model_validate(data)
    except ValidationError as error:
        first = problems_from_validation(error, data, root=at, locate=lambda _: "", model=model)[0]
        raise field_error(first.path, first.message) from None


@cache
def cloudformation_enum(shape: str) -> tuple[str, ...]:
    """The values botocore's CloudFormation model allows for an enum shape."""
    import botocore.session
    from botocore.model import StringShape

    model = botocore.session.get_session().get_service_model("cloudformation")
    found = model.shape_for(shape)
    if not isinstance(found, StringShape):
        raise TypeError(f"CloudFormation's {shape} is not a string shape")
    return tuple(found.enum)


def provisioner_identifier(step_type: str, spec: Any) -> str | None:
    """The Provisioner Identifier a CloudFormation step names (None for others or when absent)."""
    if not isinstance(spec, dict) or step_type not in CLOUDFORMATION_STEP_TYPES:
        return None
    configuration = given if isinstance(given := spec.get("configuration"), dict) else {}
    inner = given if isinstance(given := configuration.get("spec"), dict) else {}
    found = (
        spec.get("provisionerIdentifier")
        or configuration.get("provisionerIdentifier")
        or inner.get("provisionerIdentifier")
    )
    return str(found) if found else None
