"""Reading a template body: JSON or YAML, YAML's short-form intrinsic functions as their long form.

AWS: "Template anatomy" and "Intrinsic function reference" in the CloudFormation User Guide
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/template-anatomy.html,
https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html):
`!Ref X` is `{"Ref": "X"}`, `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`, `!Condition C` is
`{"Condition": "C"}`, every other `!Name v` is `{"Fn::Name": v}`.

Written here rather than reusing moto's CloudFormation parser: moto's parser provisions
resources into moto's own backends while it resolves the template (parsing and creating are one
pass in its ResourceMap), and the sandbox's ECS, ELBv2 and Cloud Map are not moto's; only its YAML
tag constructor could be taken alone, and that is the few lines below.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from .exceptions import ValidationError

SHORT_FORMS = (
    "Base64",
    "Cidr",
    "FindInMap",
    "GetAZs",
    "ImportValue",
    "Join",
    "Select",
    "Split",
    "Sub",
    "Transform",
    "And",
    "Equals",
    "If",
    "Not",
    "Or",
)


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1 timestamps: `AWSTemplateFormatVersion: 2010-09-09` stays a string."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    raise TypeError(f"not a YAML node: {node!r}")  # PyYAML makes only these three


def _short_form(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    value = _node_value(loader, node)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "Condition":
        return {"Condition": value}
    if suffix == "GetAtt":
        if isinstance(value, str):
            resource, _, attribute = value.partition(".")
            return {"Fn::GetAtt": [resource, attribute]}
        return {"Fn::GetAtt": value}
    if suffix in SHORT_FORMS:
        return {f"Fn::{suffix}": value}
    raise yaml.constructor.ConstructorError(None, None, f"unknown tag !{suffix}", node.start_mark)


_Loader.add_multi_constructor("!", _short_form)


def parse(body: str) -> dict[str, Any]:
    """The template as a dict; ValidationError with AWS's wording when it is not well formed."""
    text = body.strip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationError(
                f"Template format error: JSON not well-formed. (line {exc.lineno}, column {exc.colno})"
            ) from exc
    else:
        try:
            data = yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
            raise ValidationError(f"Template format error: YAML not well-formed.{where}") from exc
    if not isinstance(data, dict):
        raise ValidationError("Template format error: JSON not well-formed. (line 1, column 1)")
    return data
