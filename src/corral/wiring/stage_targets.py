"""Preparing a stage's target (the executor's side of `PrepareStage`).

A Deployment stage renders its service for its environment and infrastructure once, here,
when the stage starts (the same `render_outcome` as `corral validate`, `render` and `plan`,
but with registry lookups for `tagRegex` and `digest: resolve`, the run's inputs and its
secrets). That gives what expressions read (`<+service.*>`, `<+env.*>`, `<+infra.*>`,
`<+artifact.*>`, `<+serviceVariables.*>`), the ECS service the stage deploys (locked for the
stage so that two executions never deploy one service at once) and, under `rendered`, the
requests every ECS step of the stage sends: steps read them, they never render again, and a
resumed execution reuses them from the journal.

The result is journaled, so it holds no secret: secrets stay `<+secrets.getValue("id")>`
references (each was checked now), filled in by the step that sends them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from corral.config.entities.common import Entity, is_runtime_input
from corral.config.entities.connector import AwsConnector
from corral.config.project import Project
from corral.config.provisioned_infrastructure import provisioned_infrastructure
from corral.config.runtime_inputs import LATER, InputTable
from corral.config.secrets import SecretResolver
from corral.config.stage_inputs import fixed_inputs
from corral.engine.messages import PreparedTarget, PrepareStage
from corral.errors import ConfigError, ExpressionError, Problem
from corral.expressions import find_inputs
from corral.expressions.context import MASK
from corral.manifests.service_rendering import RenderedService, RenderOptions, render_outcome

# (project, connector identifier, region) -> the account part of a lock key. The default is
# the connector's endpoint (the sandbox) or its identifier; an adapter that can ask STS for
# the account id may install a better one with `set_account_resolver`.
AccountResolver = Callable[[Project, str, str], str]


def _default_account(project: Project, connector_ref: str, region: str) -> str:
    connector = project.connector(connector_ref)
    if isinstance(connector, AwsConnector) and connector.spec.endpoint_url:
        return connector.spec.endpoint_url.rstrip("/")
    return f"connector:{connector_ref}"


_account_resolver: AccountResolver = _default_account


def set_account_resolver(resolver: AccountResolver | None) -> None:
    global _account_resolver
    _account_resolver = resolver or _default_account


def prepare_target(
    project: Project,
    command: PrepareStage,
    *,
    inputs: Mapping[str, Any] | None = None,
    sets: Mapping[str, Any] | None = None,
    secrets: SecretResolver | None = None,
) -> PreparedTarget:
    """The stage's target as plain data; ConfigError when the service does not render."""
    env = project.environments.get(command.environment)
    infra = project.infrastructures.get((command.environment, command.infrastructure or ""))
    if infra is not None and command.provisioners:  # what expressions read: the mapped fields
        infra = provisioned_infrastructure(infra, command.provisioners, strict=False)
    runtime: list[str] = []  # values that came from a run-time input: data in a script
    target: PreparedTarget = {
        "service": command.service,
        "environment": command.environment,
        "infrastructure": command.infrastructure,
        "values": {},
        "runtimeValues": runtime,
    }
    values = target["values"]
    fixed, problems = fixed_inputs(
        project, command.inputs, command.service or "", command.environment, command.infrastructure or ""
    )
    if problems:
        raise ConfigError(problems)
    inputs = {**(inputs or {}), **fixed}
    if env is not None:
        given = _input_values(env, inputs, "environment.variables")
        values["env"] = _header(env) | {
            "type": env.type,
            "envIdentifier": env.identifier,
            "variables": _variables(env.variables, given),
        }
        runtime += [f"env.variables.{env.variables[index].name}" for index in sorted(given)]
    if infra is not None:
        spec = infra.spec
        values["infra"] = _header(infra) | {
            "infraIdentifier": infra.identifier,
            "environmentRef": infra.environment_ref,
            "connectorRef": spec.connector_ref,
            "connector": {"name": spec.connector_ref},
            "region": spec.region,
            "cluster": spec.cluster,
            "launchType": spec.launch_type,
            "executionRoleArn": spec.execution_role_arn,
        }
        connector = project.connector(spec.connector_ref)
        target |= {
            "cluster": spec.cluster,
            "region": spec.region,
            "connectorRef": spec.connector_ref,
            "endpointUrl": connector.spec.endpoint_url if isinstance(connector, AwsConnector) else None,
        }
    if command.service is None:
        return target
    outcome = render_outcome(
        project,
        command.service,
        command.environment,
        command.infrastructure or "",
        inputs=inputs,
        sets=sets,
        options=RenderOptions(
            secrets=secrets,
            registry_lookups=True,
            secret_references=True,
            provisioners=command.provisioners if command.provisioners else None,
        ),
    )
    if outcome.problems or outcome.rendered is None:
        raise ConfigError(outcome.problems or [Problem("", "", "nothing to render")])
    rendered = outcome.rendered
    target["rendered"] = rendered.to_journal()
    service = project.services[command.service]
    values["service"] = _header(service) | {"type": "ECS", "gitOpsEnabled": False}
    values["serviceVariables"] = _service_variables(rendered, service)
    documents = [
        service,
        env,
        infra,
        *project.overrides_for(service.identifier, command.environment, command.infrastructure or ""),
    ]
    runtime += [
        f"serviceVariables.{name}"
        for name in sorted(_input_variable_names(documents))
        if name in values["serviceVariables"]
    ]
    if rendered.image:
        values["artifacts"] = {"primary": rendered.artifact or _artifact(rendered.image)}
        if _artifact_from_input(service):
            runtime += [f"artifacts.primary.{key}" for key in values["artifacts"]["primary"]]
    service_name = None
    if rendered.service_definition is not None:
        service_name = rendered.service_definition.request.get("serviceName")
    target |= {"serviceName": service_name, "image": rendered.image}
    if service_name:
        account = _account_resolver(project, rendered.connector_ref, rendered.region)
        key = f"{account}|{rendered.region}|{rendered.cluster}|{service_name}"
        target["lock"] = {
            "key": key,
            "description": {
                "account": account,
                "region": rendered.region,
                "cluster": rendered.cluster,
                "service": service_name,
            },
        }
    return target


def _header(entity: Entity) -> dict[str, Any]:
    return {
        "identifier": entity.identifier,
        "name": entity.name,
        "description": entity.description or "",
        "tags": dict(entity.tags),
    }


def _input_variable_names(documents: list[Any]) -> set[str]:
    """Names of the `{name, value: <+input>}` variables (and overrides of them) in documents."""
    names: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "name" in node and is_runtime_input(node.get("value")):
                names.add(str(node["name"]))
            for item in node.values():
                walk(item)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    for document in documents:
        if document is not None:
            walk(document.raw)
    return names


def _artifact_from_input(service: Any) -> bool:
    """True when the primary artifact (its source, tag, path or digest) is a run-time input."""
    raw = service.raw["service"].get("serviceDefinition", {}).get("spec", {}).get("artifacts")
    try:
        return bool(find_inputs(raw))
    except ExpressionError:
        return True


def _input_values(entity: Entity, inputs: Mapping[str, Any], under: str) -> dict[int, Any]:
    """The run's values (else defaults) for the entity's `<+input>` variables, by position:
    `<+env.variables.NAME>` reads what the run gave, as the render did."""
    table = InputTable()
    table.add(entity.raw, prefix="", where=entity.file)
    table.assign({k: v for k, v in inputs.items() if table.match(k) is not None}, satisfiable=True)
    found = {}
    for path, value in table.values.items():
        match = re.fullmatch(re.escape(under) + r"\[(\d+)\]\.value", path)
        if match and value != LATER:
            found[int(match.group(1))] = value
    return found


def _variables(variables: list[Any], given: Mapping[int, Any] | None = None) -> dict[str, Any]:
    out = {}
    for index, variable in enumerate(variables):
        value = (given or {}).get(index, variable.typed_value())
        if variable.type == "Secret" and isinstance(value, str) and "<+" not in value:
            value = f'<+secrets.getValue("{value}")>'
        out[variable.name] = value
    return out


def _service_variables(rendered: RenderedService, service: Any) -> dict[str, Any]:
    """The rendered variables, with each secret value put back as the reference it came from."""
    declared = {v.name: v for v in service.service_definition.spec.variables}
    out = {}
    for name, value in rendered.variables.items():
        if isinstance(value, str) and value in rendered.used_secrets:
            source = declared.get(name)
            if source is not None and source.type == "Secret" and isinstance(source.value, str):
                value = f'<+secrets.getValue("{source.value}")>'
            else:
                value = MASK
        out[name] = value
    return out


def _artifact(image: str) -> dict[str, Any]:
    name, _, digest = image.partition("@")
    path, tag = name, None
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        path, tag = name.rsplit(":", 1)
    out: dict[str, Any] = {
        "image": image,
        "imagePath": path,
        "tag": tag,
        "metadata": {"image": image, "tag": tag},
    }
    if digest:
        out["digest"] = digest
    return out
