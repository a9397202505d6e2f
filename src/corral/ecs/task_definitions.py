"""Register a task definition, or reuse the family's latest revision when nothing changed.

Reuse saves a RegisterTaskDefinition call (the scarcest ECS bucket: 1 per second) and a useless
revision. Equality is judged on a normalized form: ECS adds fields and defaults when it stores a
task definition, and those must not count as a change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from corral.errors import DeploymentError

from .context import StepContext

if TYPE_CHECKING:
    from .target import EcsTarget

# Fields ECS adds to a stored task definition; never part of a request.
SERVER_FIELDS = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
        "deleteRequestedAt",
    }
)


def _prune(value: Any) -> Any:
    """Drop None, empty lists and empty maps, recursively: ECS omits them when it answers."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, [], {})}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def _container_defaults(container: dict[str, Any], network_mode: str | None) -> dict[str, Any]:
    container = dict(container)
    container.setdefault("essential", True)
    if container.get("cpu") == 0:
        container.pop("cpu")
    mappings = []
    for mapping in container.get("portMappings", []):
        mapping = dict(mapping)
        mapping.setdefault("protocol", "tcp")
        if network_mode == "awsvpc" and "containerPort" in mapping:
            mapping.setdefault("hostPort", mapping["containerPort"])
        mappings.append(mapping)
    if mappings:
        container["portMappings"] = mappings
    return container


def normalize(definition: dict[str, Any]) -> dict[str, Any]:
    """The parts of a task definition that a registration request decides, in one canonical form."""
    body = {k: v for k, v in definition.items() if k not in SERVER_FIELDS and k != "tags"}
    for key in ("cpu", "memory"):
        if body.get(key) is not None:
            body[key] = str(body[key])
    mode = body.get("networkMode")
    body["containerDefinitions"] = [
        _container_defaults(c, mode) for c in body.get("containerDefinitions", [])
    ]
    normalized: dict[str, Any] = _prune(body)
    return normalized


def _tags(tags: list[dict[str, str]] | None) -> dict[str, str]:
    return {t["key"]: t["value"] for t in tags or []}


def latest_revision(ctx: StepContext, family: str) -> dict[str, Any] | None:
    """The family's latest ACTIVE revision with its tags, or None if the family has none."""
    try:
        answer = ctx.clients.ecs.describe_task_definition(taskDefinition=family, include=["TAGS"])
    except ClientError as error:
        if error.response["Error"]["Code"] in ("ClientException", "InvalidParameterException"):
            return None
        raise
    definition = dict(answer["taskDefinition"])
    definition["tags"] = answer.get("tags", [])
    return definition


def register_or_reuse(ctx: StepContext, request: dict[str, Any]) -> tuple[str, bool]:
    """Returns (task definition ARN, reused). Logs in the reference's words."""
    family = request["family"]
    latest = latest_revision(ctx, family)
    if (
        latest is not None
        and normalize(latest) == normalize(request)
        and _tags(latest.get("tags")) == _tags(request.get("tags"))
    ):
        arn = latest["taskDefinitionArn"]
        ctx.log.info(f"Task definition {arn} already matches the manifest; reusing it")
        return arn, True
    ctx.log.info(f"Creating Task Definition with family {family}")
    answer = ctx.clients.ecs.register_task_definition(**request)
    arn = answer["taskDefinition"]["taskDefinitionArn"]
    ctx.log.info(f"Created Task Definition {family}:{answer['taskDefinition']['revision']} with Arn {arn}")
    return arn, False


def for_target(ctx: StepContext, target: EcsTarget) -> tuple[str, bool]:
    """The task definition a step runs: the manifest registered (or its equal latest revision
    reused), or the target's existing ARN. Returns (ARN, from_manifest)."""
    if target.task_definition is not None:
        arn, _ = register_or_reuse(ctx, target.task_definition)
        return arn, True
    if target.task_definition_arn:
        ctx.log.info(f"Using task definition {target.task_definition_arn}")
        return target.task_definition_arn, False
    raise DeploymentError("The service has neither a task definition manifest nor a task definition ARN.")
