"""A template checked as CloudFormation checks it before anything is created.

AWS User Guide sections followed: "Template anatomy" (top-level sections), "Parameters" (types,
AllowedValues, AllowedPattern, Min/MaxLength, Min/MaxValue, NoEcho), "Resources" (Type,
DependsOn, Condition, DeletionPolicy), "Conditions", "Outputs" (Export), and "Acknowledging IAM
resources" (CAPABILITY_IAM, CAPABILITY_NAMED_IAM).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .exceptions import InsufficientCapabilitiesException, ValidationError

SECTIONS = {
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
}
PARAMETER_TYPES = re.compile(
    r"^(String|Number|List<Number>|CommaDelimitedList|AWS::[A-Za-z0-9:]+|List<AWS::[A-Za-z0-9:]+>)$"
)
RESOURCE_TYPE = re.compile(r"^(AWS|Alexa)::[A-Za-z0-9]+::[A-Za-z0-9]+$|^Custom::[A-Za-z0-9_@-]+$")
# IAM resources that need an acknowledgement; a custom name needs CAPABILITY_NAMED_IAM
# ("Acknowledging IAM resources in CloudFormation templates").
IAM_TYPES = {
    "AWS::IAM::AccessKey": None,
    "AWS::IAM::Group": "GroupName",
    "AWS::IAM::InstanceProfile": "InstanceProfileName",
    "AWS::IAM::ManagedPolicy": "ManagedPolicyName",
    "AWS::IAM::Policy": None,
    "AWS::IAM::Role": "RoleName",
    "AWS::IAM::User": "UserName",
    "AWS::IAM::UserToGroupAddition": None,
}
PSEUDO_PARAMETERS = {
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
}


@dataclass
class Parameter:
    name: str
    type: str
    default: str | None
    no_echo: bool
    description: str
    spec: dict[str, Any]

    @property
    def is_list(self) -> bool:
        return self.type.startswith("List<") or self.type == "CommaDelimitedList"


@dataclass
class Template:
    body: dict[str, Any]
    parameters: dict[str, Parameter]
    resources: dict[str, dict[str, Any]]
    # logical id -> the logical ids it needs first (references and DependsOn)
    dependencies: dict[str, set[str]] = field(default_factory=dict)

    @property
    def description(self) -> str | None:
        description = self.body.get("Description")
        return str(description) if description is not None else None

    def required_capabilities(self) -> tuple[list[str], str | None]:
        """(capabilities, reason) as ValidateTemplate reports them."""
        iam = [name for name, spec in self.resources.items() if spec["Type"] in IAM_TYPES]
        if not iam:
            return [], None
        named = any(
            IAM_TYPES[self.resources[name]["Type"]] in (self.resources[name].get("Properties") or {})
            for name in iam
        )
        capability = "CAPABILITY_NAMED_IAM" if named else "CAPABILITY_IAM"
        return (
            [capability],
            f"The following resource(s) require capabilities: [{', '.join(sorted({self.resources[n]['Type'] for n in iam}))}]",
        )

    def check_capabilities(self, given: list[str]) -> None:
        needed, _ = self.required_capabilities()
        if not needed:
            return
        if needed == ["CAPABILITY_NAMED_IAM"] and "CAPABILITY_NAMED_IAM" not in given:
            raise InsufficientCapabilitiesException("Requires capabilities : [CAPABILITY_NAMED_IAM]")
        if needed == ["CAPABILITY_IAM"] and not {"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"} & set(given):
            raise InsufficientCapabilitiesException("Requires capabilities : [CAPABILITY_IAM]")


def _format_error(message: str) -> ValidationError:
    return ValidationError(f"Template format error: {message}")


def load(body: dict[str, Any]) -> Template:
    unknown = sorted(set(body) - SECTIONS)
    if unknown:
        raise _format_error(f"Invalid template property or properties [{', '.join(unknown)}]")
    if body.get("Transform"):
        raise ValidationError("Transforms are not supported by the Corral sandbox")
    resources = body.get("Resources")
    if not isinstance(resources, dict) or not resources:
        raise _format_error("At least one Resources member must be defined.")
    unrecognized = []
    for name, spec in resources.items():
        if not isinstance(spec, dict) or "Type" not in spec:
            raise _format_error(f"[/Resources/{name}] Every Resources object must contain a Type member.")
        if not isinstance(spec["Type"], str) or not RESOURCE_TYPE.match(spec["Type"]):
            unrecognized.append(str(spec["Type"]))
    if unrecognized:
        raise _format_error(f"Unrecognized resource types: [{', '.join(unrecognized)}]")
    parameters = _parameters(body.get("Parameters") or {})
    template = Template(body=body, parameters=parameters, resources=resources)
    conditions = body.get("Conditions") or {}
    _check_sections(body, conditions)
    template.dependencies = _dependencies(resources, set(parameters), conditions)
    _check_cycles(template.dependencies)
    return template


def _parameters(section: Any) -> dict[str, Parameter]:
    if not isinstance(section, dict):
        raise _format_error("Parameters must be an object")
    found = {}
    for name, spec in section.items():
        if not isinstance(spec, dict) or "Type" not in spec:
            raise _format_error("Every Parameters object must contain a Type member.")
        if not PARAMETER_TYPES.match(str(spec["Type"])):
            raise _format_error(f"Unrecognized parameter type: {spec['Type']}")
        default = spec.get("Default")
        found[name] = Parameter(
            name=name,
            type=str(spec["Type"]),
            default=None if default is None else _text(default),
            no_echo=str(spec.get("NoEcho", "false")).lower() == "true",
            description=str(spec.get("Description", "")),
            spec=spec,
        )
    return found


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    return str(value)


def _check_sections(body: dict[str, Any], conditions: Any) -> None:
    if not isinstance(conditions, dict):
        raise _format_error("Conditions must be an object")
    for spec in (body.get("Resources") or {}).values():
        condition = spec.get("Condition")
        if condition is not None and condition not in conditions:
            raise _format_error(
                f"Unresolved dependencies [{condition}]. Cannot reference resources in the Conditions block of the template"
            )
        depends = spec.get("DependsOn", [])
        for target in [depends] if isinstance(depends, str) else depends:
            if target not in body["Resources"]:
                raise _format_error(
                    f"Unresolved resource dependencies [{target}] in the Resources block of the template"
                )
    outputs = body.get("Outputs") or {}
    if not isinstance(outputs, dict):
        raise _format_error("Outputs must be an object")
    for name, spec in outputs.items():
        if not isinstance(spec, dict) or "Value" not in spec:
            raise _format_error(f"Every Outputs member must contain a Value object (Outputs/{name})")


def references(value: Any) -> set[str]:
    """Every name a value refers to with Ref, Fn::GetAtt or a ${} in Fn::Sub."""
    found: set[str] = set()
    if isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                return {arg}
            if key == "Fn::GetAtt":
                if isinstance(arg, list) and arg and isinstance(arg[0], str):
                    return {arg[0]} | references(arg[1:])
                if isinstance(arg, str):
                    return {arg.split(".", 1)[0]}
            if key == "Fn::Sub":
                text, variables = (
                    (arg, {}) if isinstance(arg, str) else (arg[0], arg[1] if len(arg) > 1 else {})
                )
                local = set(variables) if isinstance(variables, dict) else set()
                for match in re.finditer(r"\$\{([^!}][^}]*)\}", text if isinstance(text, str) else ""):
                    name = match.group(1).split(".", 1)[0]
                    if name not in local:
                        found.add(name)
                return found | references(variables)
        for item in value.values():
            found |= references(item)
    elif isinstance(value, list):
        for item in value:
            found |= references(item)
    return found


def _dependencies(
    resources: dict[str, dict[str, Any]], parameters: set[str], conditions: dict[str, Any]
) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, spec in resources.items():
        needed: set[str] = set()
        for ref in references(spec.get("Properties") or {}):
            if ref in resources:
                needed.add(ref)
            elif ref not in parameters and ref not in PSEUDO_PARAMETERS:
                raise _format_error(
                    f"Unresolved resource dependencies [{ref}] in the Resources block of the template"
                )
        depends = spec.get("DependsOn", [])
        needed |= {depends} if isinstance(depends, str) else set(depends)
        needed.discard(name)
        graph[name] = needed
    return graph


def _check_cycles(graph: dict[str, set[str]]) -> None:
    done: set[str] = set()
    visiting: list[str] = []

    def visit(node: str) -> None:
        if node in done:
            return
        if node in visiting:
            cycle = visiting[visiting.index(node) :]
            raise ValidationError(f"Circular dependency between resources: [{', '.join(sorted(cycle))}]")
        visiting.append(node)
        for target in sorted(graph[node]):
            visit(target)
        visiting.pop()
        done.add(node)

    for node in sorted(graph):
        visit(node)


def resolve_parameters(template: Template, given: list[dict[str, Any]]) -> dict[str, str]:
    """Parameter values (text) from CreateStack's Parameters, checked against the declarations."""
    values: dict[str, str] = {}
    unknown = [p["ParameterKey"] for p in given if p.get("ParameterKey") not in template.parameters]
    if unknown:
        raise ValidationError(f"Parameters: [{', '.join(unknown)}] do not exist in the template")
    for item in given:
        if item.get("UsePreviousValue"):
            raise ValidationError("UsePreviousValue can only be used when updating a stack")
        values[item["ParameterKey"]] = str(item.get("ParameterValue", ""))
    missing = []
    for name, parameter in template.parameters.items():
        if name not in values:
            if parameter.default is None:
                missing.append(name)
                continue
            values[name] = parameter.default
        _check_value(parameter, values[name])
    if missing:
        raise ValidationError(f"Parameters: [{', '.join(missing)}] must have values")
    return values


def _check_value(parameter: Parameter, value: str) -> None:
    spec = parameter.spec
    items = [v.strip() for v in value.split(",")] if parameter.is_list else [value]
    name = parameter.name
    for item in items:
        allowed = spec.get("AllowedValues")
        if allowed is not None and item not in [_text(a) for a in allowed]:
            raise ValidationError(
                f"Parameter '{name}' must be one of AllowedValues"
                if "ConstraintDescription" not in spec
                else f"Parameter '{name}' failed to satisfy constraint: {spec['ConstraintDescription']}"
            )
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), item):
            raise ValidationError(
                f"Parameter '{name}' must match pattern {pattern}"
                if "ConstraintDescription" not in spec
                else f"Parameter '{name}' failed to satisfy constraint: {spec['ConstraintDescription']}"
            )
        if parameter.type in ("Number", "List<Number>"):
            try:
                number = float(item)
            except ValueError as exc:
                raise ValidationError(f"Parameter '{name}' must be a number") from exc
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise ValidationError(f"Parameter '{name}' must be a number not less than {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise ValidationError(
                    f"Parameter '{name}' must be a number not greater than {spec['MaxValue']}"
                )
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        raise ValidationError(f"Parameter '{name}' must contain at least {spec['MinLength']} characters")
    if "MaxLength" in spec and len(value) > int(spec["MaxLength"]):
        raise ValidationError(f"Parameter '{name}' must contain at most {spec['MaxLength']} characters")
