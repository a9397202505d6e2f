"""An infrastructure definition mapped from a provisioner's outputs (`<+provisioner.KEY>`).

    infrastructureDefinition:
      spec:
        provisioner: ProvisionInfra          # the stage's ShellScriptProvision step, or a
        region: <+provisioner.region>        # CreateStack's provisionerIdentifier
        cluster: <+provisioner.cluster>

As Harness's dynamic provisioning does: the stage's `environment.provisioner` steps run first, then
the fields of the infrastructure definition that read `<+provisioner.*>` take the outputs of the
provisioner `spec.provisioner` names. `validate` and `plan` (no provisioner has run) keep those
fields as written. At run time an output the provisioner did not give, or a provisioner the stage
does not have, is one problem naming the infrastructure definition's file and field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from corral.errors import ConfigError, ExpressionError, Problem, format_path
from corral.expressions import ExpressionContext, Mode, render
from corral.expressions.scan import string_leaves

from .entities.common import is_expression
from .entities.infrastructure import InfrastructureDefinition
from .problems import problems_from_validation

ROOT = "provisioner"
_REFERENCE = re.compile(r"<\+\s*provisioner\.([^>]*)>")
KIND = "infrastructureDefinition"


def reads_provisioner(infra: InfrastructureDefinition) -> bool:
    return any(_REFERENCE.search(text) for _, text in string_leaves(infra.raw, ()))


def provisioned_infrastructure(
    infra: InfrastructureDefinition,
    provisioners: Mapping[str, Mapping[str, Any]],
    *,
    strict: bool = True,
) -> InfrastructureDefinition:
    """infra with `<+provisioner.*>` replaced by the outputs of the provisioner it names.
    strict=False: a provisioner name that is still a run-time input leaves infra as it is."""
    name = infra.spec.provisioner
    if not name and not reads_provisioner(infra):
        return infra
    if not name or is_expression(name):
        if not strict:
            return infra
        raise _problem(
            infra,
            ("spec", "provisioner"),
            "required when fields read <+provisioner.*>: the identifier of the stage's "
            f"provisioner step ({_known(provisioners)})",
        )
    outputs = provisioners.get(name)
    if outputs is None:
        raise _problem(
            infra,
            ("spec", "provisioner"),
            f"'{name}' is not a provisioner of this stage's environment.provisioner ({_known(provisioners)})",
        )
    for parts, text in string_leaves(infra.raw, ()):
        for match in _REFERENCE.finditer(text):
            key = match[1].split(".", 1)[0].strip()
            if any(_is_expression_text(v) for _, v in string_leaves(outputs.get(key), ())):
                # what a script or a stack gave is data: never rendered again (a secret reference
                # there would be filled in by the step that sends the request)
                raise _problem(
                    infra,
                    parts[1:],
                    f"<+provisioner.{match[1]}>: the provisioner '{name}' gave an expression; "
                    "provisioner outputs are data, never expressions",
                )
    ctx = ExpressionContext(values={ROOT: dict(outputs)}, keep=frozenset())
    try:
        raw = render(infra.raw, ctx, mode=Mode.KEEP, path="")
    except ExpressionError as error:
        raise ConfigError([Problem(infra.where(), KIND, str(error))]) from None
    for parts, text in string_leaves(raw, ()):
        missing = _REFERENCE.search(text)
        if missing:
            given = ", ".join(sorted(outputs)) or "none"
            raise _problem(
                infra,
                parts[1:],
                f"<+provisioner.{missing[1]}>: the provisioner '{name}' gave no such output (its outputs: {given})",
            )
    try:
        fresh = InfrastructureDefinition.model_validate(raw[KIND])
    except ValidationError as error:
        found = problems_from_validation(
            error, raw[KIND], root=KIND, locate=lambda p: infra.where(p), model=InfrastructureDefinition
        )
        raise ConfigError(
            [Problem(p.file, p.path, f"{p.message} (from the provisioner '{name}')") for p in found]
        ) from None
    fresh.located(infra.file, infra.line, raw, infra.line_of)
    return fresh


def _is_expression_text(value: str) -> bool:
    return "<+" in value or "${" in value


def _problem(infra: InfrastructureDefinition, parts: tuple[str | int, ...], message: str) -> ConfigError:
    where = (KIND, *parts)
    return ConfigError([Problem(infra.where(where), format_path(where), message)])


def _known(provisioners: Mapping[str, Any]) -> str:
    return f"its provisioners: {', '.join(sorted(provisioners))}" if provisioners else "the stage has none"
