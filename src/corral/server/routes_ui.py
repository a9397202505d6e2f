"""What the web UI needs beyond the REST API: the run form of a pipeline (its `<+input>` fields,
those of the services and infrastructures its stages deploy, and which of them AWS can fill in)
and look-ups through a project's AWS connector (clusters, load balancers, listeners, listener
rules, target groups) for the form's choices.

Mounted by `app.py` through `corral.server.ui.routes`; paths are absolute (`/api/v1/...`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel

from corral.config.entities.common import strip_scope
from corral.config.project import Project
from corral.errors import CorralError, ExpressionError

from .auth import CallerDep, can_view

router = APIRouter(prefix="/api/v1", tags=["ui"])
ProjectName = Annotated[str, Path(max_length=64)]

# The last name of a field's path says what AWS could fill it with.
_AWS_KINDS = (
    (re.compile(r"(?i)^(cluster|clusterName|clusterArn)$"), "clusters"),
    (re.compile(r"(?i)^loadBalancer(Arn|Name)?$"), "load-balancers"),
    (re.compile(r"(?i)rule(Arn)?$"), "rules"),
    (re.compile(r"(?i)listener(Arn)?$"), "listeners"),
    (re.compile(r"(?i)targetGroup(Arn|Name)?$"), "target-groups"),
)
_LAST_NAME = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)(\[\d+\])*$")


class FormField(BaseModel):
    key: str  # what to send in `inputs` (a unique tail of the path)
    path: str
    label: str
    source: str  # "pipeline", "service demo_bg", "infrastructure sandbox/sandbox", ...
    stage: str | None
    default: Any | None
    allowed_values: list[str] | None
    required: bool
    aws: str | None  # clusters, load-balancers, listeners, rules, target-groups
    depends_on: str | None  # the key of the field this one's choices follow (listener -> lb)
    connector: str | None
    region: str | None


class RunForm(BaseModel):
    pipeline: str
    name: str
    fields: list[FormField]


class Choice(BaseModel):
    value: str
    label: str


@router.get("/projects/{project}/pipelines/{pipeline}/form", response_model=RunForm)
def run_form(
    request: Request,
    who: CallerDep,
    project: ProjectName,
    pipeline: Annotated[str, Path(max_length=128)],
) -> RunForm:
    """The runtime inputs a run of the pipeline asks for, with defaults, allowed values and
    which AWS look-up can offer choices."""
    loaded = _project(request, who, project)
    found = loaded.pipelines.get(pipeline)
    if found is None:
        raise HTTPException(404, f"no pipeline {pipeline!r} in project {project}")
    raw = found.raw["pipeline"]
    rows: list[dict[str, Any]] = []
    try:
        rows += _inputs({"pipeline": raw}, "pipeline", None, None, None, project=loaded)
        for stage_name, service, environment, infra in _deployments(raw):
            connector = region = None
            infra_entity = loaded.infrastructures.get((environment, infra)) if environment and infra else None
            if infra_entity is not None:
                spec = infra_entity.raw.get("infrastructureDefinition", {}).get("spec", {})
                connector, region = spec.get("connectorRef"), spec.get("region")
            if service and service in loaded.services:
                rows += _inputs(
                    loaded.services[service].raw, f"service {service}", stage_name, connector, region
                )
            if environment and environment in loaded.environments:
                env = loaded.environments[environment].raw
                rows += _inputs(env, f"environment {environment}", stage_name, connector, region)
            if infra_entity is not None:
                rows += _inputs(
                    infra_entity.raw, f"infrastructure {environment}/{infra}", stage_name, connector, region
                )
            # the pipeline's own fields in this stage use this stage's connector too
            for row in rows:
                if row["source"] == "pipeline" and row["stage"] == stage_name and row["connector"] is None:
                    row["connector"], row["region"] = connector, region
    except ExpressionError as error:
        raise HTTPException(422, str(error)) from None
    _keys(rows)
    _variables(raw, rows)
    _dependencies(rows)
    return RunForm(pipeline=pipeline, name=found.name, fields=[FormField(**row) for row in rows])


@router.get("/projects/{project}/aws/{resource}", response_model=list[Choice])
def aws_lookup(
    request: Request,
    who: CallerDep,
    project: ProjectName,
    resource: Annotated[str, Path(pattern="^(clusters|load-balancers|listeners|rules|target-groups)$")],
    connector: Annotated[str, Query(max_length=128)],
    region: Annotated[str | None, Query(max_length=32)] = None,
    load_balancer: Annotated[str | None, Query(alias="loadBalancer", max_length=512)] = None,
    listener: Annotated[str | None, Query(max_length=512)] = None,
) -> list[Choice]:
    """Choices for a form field, asked of AWS through the project's connector."""
    loaded = _project(request, who, project)
    clients = _clients(loaded, connector, region)
    try:
        return _lookup(clients, resource, load_balancer, listener)
    except HTTPException:
        raise
    except Exception as error:  # any AWS failure is shown to the user as text
        raise HTTPException(502, f"AWS did not answer the {resource} look-up: {_short(error)}") from None


# ---------------------------------------------------------------------------------------------


def _project(request: Request, who: Any, name: str) -> Project:
    server = request.app.state.server
    if not server.projects.exists(name) or not can_view(server, who, name):
        raise HTTPException(404, f"no project {name!r}")
    project: Project = server.projects.load(name)
    return project


def _deployments(raw: dict[str, Any]) -> list[tuple[str, str | None, str | None, str | None]]:
    """(stage identifier, service, environment, infrastructure) of every Deployment stage."""
    found = []
    for entry in _stages(raw.get("stages") or []):
        stage = entry.get("stage") or {}
        spec = stage.get("spec") or {}
        service = (spec.get("service") or {}).get("serviceRef")
        env = spec.get("environment") or {}
        environment = env.get("environmentRef")
        infras = env.get("infrastructureDefinitions") or []
        infra = infras[0].get("identifier") if infras and isinstance(infras[0], dict) else None
        found.append(
            (
                str(stage.get("identifier", "")),
                _ref(service),
                _ref(environment),
                _ref(infra),
            )
        )
    return found


def _stages(items: list[Any]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        if isinstance(item, dict) and "parallel" in item:
            out += _stages(item["parallel"] or [])
        elif isinstance(item, dict):
            out.append(item)
    return out


def _ref(value: Any) -> str | None:
    if not isinstance(value, str) or value.startswith("<+"):
        return None
    return strip_scope(value)


def _inputs(
    document: dict[str, Any],
    source: str,
    stage: str | None,
    connector: str | None,
    region: str | None,
    *,
    project: Project | None = None,
) -> list[dict[str, Any]]:
    """project (the pipeline's): serviceInputs: <+input> and the like are left to the entities'
    own fields, and serviceRef / environmentRef / infrastructureDefinitions offer the project's."""
    from corral.config.stage_inputs import with_choices
    from corral.expressions import find_inputs

    specs = find_inputs(document)
    if project is not None:
        specs = with_choices(project, document, specs)
    rows = []
    for spec in specs:
        stage_of = stage
        if source == "pipeline":
            match = re.search(r"stages\[\d+\]\.stage\b", spec.path)
            if match:
                stage_of = _stage_identifier(document, spec.path[: match.end()])
        name = _last_name(spec.path)
        rows.append(
            {
                "key": spec.path,
                "path": spec.path,
                "label": name,
                "source": source,
                "stage": stage_of,
                "default": spec.default,
                "allowed_values": spec.allowed_values,
                "required": spec.required,
                "aws": next((kind for pattern, kind in _AWS_KINDS if pattern.search(name)), None),
                "depends_on": None,
                "connector": connector,
                "region": region,
            }
        )
    return rows


def _stage_identifier(document: dict[str, Any], path: str) -> str | None:
    value: Any = document
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        index = part.startswith("[")
        try:
            value = value[int(part[1:-1])] if index else value[part]
        except (KeyError, IndexError, TypeError):
            return None
    return str(value.get("identifier")) if isinstance(value, dict) else None


def _last_name(path: str) -> str:
    match = _LAST_NAME.search(path)
    return match.group(0) if match else path


def _keys(rows: list[dict[str, Any]]) -> None:
    """The shortest dotted tail of each path that names no other input (what a run accepts)."""
    paths = [row["path"] for row in rows]
    for row in rows:
        parts = row["path"].split(".")
        for size in range(1, len(parts) + 1):
            tail = ".".join(parts[-size:])
            if sum(1 for p in paths if p == tail or p.endswith("." + tail)) == 1:
                row["key"] = tail
                break


def _variables(raw: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """A variable's input is named by the variable (`variables.NAME`, `STAGE.variables.NAME`),
    as a run accepts it, not by `value`."""
    named: dict[str, tuple[str, str]] = {}
    for position, variable in enumerate(raw.get("variables") or []):
        if isinstance(variable, dict):
            name = str(variable.get("name"))
            named[f"pipeline.variables[{position}].value"] = (f"pipeline.variables.{name}", name)
    for index, stage in enumerate(raw.get("stages") or []):
        body = stage.get("stage") if isinstance(stage, dict) else None
        for position, variable in enumerate((body or {}).get("variables") or []):
            if isinstance(variable, dict):
                name = str(variable.get("name"))
                key = f"{body.get('identifier')}.variables.{name}" if body else name
                named[f"pipeline.stages[{index}].stage.variables[{position}].value"] = (key, name)
    for row in rows:
        if row["source"] == "pipeline" and row["path"] in named:
            row["key"], row["label"] = named[row["path"]]


def _dependencies(rows: list[dict[str, Any]]) -> None:
    """A listener's choices follow the load balancer field of its stage; a rule's the listener
    whose name it starts with (prodListenerRuleArn -> prodListener)."""
    for row in rows:
        same_stage = [r for r in rows if r["stage"] == row["stage"] and r is not row]
        if row["aws"] == "listeners":
            parent = next((r for r in same_stage if r["aws"] == "load-balancers"), None)
            row["depends_on"] = parent["key"] if parent else None
        elif row["aws"] == "rules":
            listeners = [r for r in same_stage if r["aws"] == "listeners"]
            named = [r for r in listeners if row["label"].lower().startswith(r["label"].lower())]
            parent = next(iter(named or listeners), None)
            row["depends_on"] = parent["key"] if parent else None


def _clients(project: Project, connector_ref: str, region: str | None) -> Any:
    from corral.aws.clients import Clients
    from corral.config.connections import aws_settings
    from corral.config.entities.connector import AwsConnector
    from corral.config.secrets import SecretResolver

    connector = project.connector(strip_scope(connector_ref))
    if not isinstance(connector, AwsConnector):
        raise HTTPException(404, f"no AWS connector {connector_ref!r} in project {project.name}")
    try:
        resolved = aws_settings(connector, SecretResolver(project), region=region)
    except CorralError as error:
        raise HTTPException(409, f"connector {connector_ref}: {error}") from None
    # as a step would: the connector's endpoint, else the standard AWS settings of the server
    return Clients.shared(resolved.for_clients())


def _lookup(clients: Any, resource: str, load_balancer: str | None, listener: str | None) -> list[Choice]:
    if resource == "clusters":
        ecs = clients.client("ecs")
        arns = ecs.list_clusters().get("clusterArns", [])
        names = sorted(arn.rsplit("/", 1)[-1] for arn in arns)
        return [Choice(value=name, label=name) for name in names]
    elb = clients.client("elbv2")
    if resource == "load-balancers":
        found = elb.describe_load_balancers().get("LoadBalancers", [])
        return [
            Choice(
                value=lb["LoadBalancerName"],
                label=f"{lb['LoadBalancerName']} ({lb.get('Type', 'application')})",
            )
            for lb in sorted(found, key=lambda lb: lb["LoadBalancerName"])
        ]
    if resource == "target-groups":
        found = elb.describe_target_groups().get("TargetGroups", [])
        return [
            Choice(
                value=tg["TargetGroupArn"],
                label=f"{tg['TargetGroupName']} ({tg.get('Protocol', '')}:{tg.get('Port', '')})",
            )
            for tg in sorted(found, key=lambda tg: tg["TargetGroupName"])
        ]
    if resource == "listeners":
        if not load_balancer:
            raise HTTPException(422, "choose a load balancer first")
        arn = _load_balancer_arn(elb, load_balancer)
        found = elb.describe_listeners(LoadBalancerArn=arn).get("Listeners", [])
        return [
            Choice(value=item["ListenerArn"], label=f"{item.get('Protocol', '')}:{item['Port']}")
            for item in sorted(found, key=lambda item: item["Port"])
        ]
    if not listener:
        raise HTTPException(422, "choose a listener first")
    rules = elb.describe_rules(ListenerArn=listener).get("Rules", [])
    return [Choice(value=rule["RuleArn"], label=_rule_label(rule)) for rule in rules]


def _load_balancer_arn(elb: Any, value: str) -> str:
    if value.startswith("arn:"):
        return value
    found = elb.describe_load_balancers(Names=[value]).get("LoadBalancers", [])
    if not found:
        raise HTTPException(404, f"no load balancer {value!r}")
    return str(found[0]["LoadBalancerArn"])


def _rule_label(rule: dict[str, Any]) -> str:
    if rule.get("IsDefault"):
        return "default rule"
    conditions = []
    for condition in rule.get("Conditions", []):
        values = condition.get("Values") or []
        for key in ("PathPatternConfig", "HostHeaderConfig"):
            values = values or (condition.get(key) or {}).get("Values") or []
        conditions.append(f"{condition.get('Field', '')} {', '.join(values)}".strip())
    return f"priority {rule.get('Priority', '?')}: {'; '.join(conditions) or 'no condition'}"


def _short(error: Exception) -> str:
    text = str(error).splitlines()[0] if str(error) else type(error).__name__
    return text[:300]
