"""Task definitions: families of numbered revisions, ACTIVE or INACTIVE."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from .exceptions import ClientException

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"

# request members echoed back unchanged by DescribeTaskDefinition
ECHOED_MEMBERS = (
    "volumes",
    "placementConstraints",
    "pidMode",
    "ipcMode",
    "proxyConfiguration",
    "inferenceAccelerators",
    "ephemeralStorage",
    "runtimePlatform",
    "enableFaultInjection",
)


@dataclass(frozen=True)
class HealthCheck:
    command: tuple[str, ...]
    interval: float = 30.0
    timeout: float = 5.0
    retries: int = 3
    start_period: float = 0.0


@dataclass(frozen=True)
class PortMapping:
    container_port: int
    host_port: int | None
    protocol: str = "tcp"
    name: str | None = None


@dataclass
class ContainerDefinition:
    """What the sandbox needs to know of a container; `definition` is echoed as registered."""

    name: str
    image: str
    essential: bool
    port_mappings: list[PortMapping]
    health_check: HealthCheck | None
    stop_timeout: float | None
    log_driver: str | None
    uses_secrets: bool
    uses_registry_credentials: bool
    definition: dict[str, Any]

    @classmethod
    def from_request(cls, raw: dict[str, Any], network_mode: str) -> ContainerDefinition:
        definition = copy.deepcopy(raw)
        definition.setdefault("essential", True)
        definition.setdefault("cpu", 0)
        for key in ("environment", "mountPoints", "volumesFrom", "systemControls"):
            definition.setdefault(key, [])
        mappings = []
        for mapping in definition.setdefault("portMappings", []):
            mapping.setdefault("protocol", "tcp")
            if network_mode in ("awsvpc", "host") and "containerPort" in mapping:
                mapping.setdefault("hostPort", mapping["containerPort"])
            mappings.append(
                PortMapping(
                    container_port=int(mapping.get("containerPort", 0)),
                    host_port=mapping.get("hostPort"),
                    protocol=mapping["protocol"],
                    name=mapping.get("name"),
                )
            )
        check = definition.get("healthCheck")
        health = None
        if check:
            check.setdefault("interval", 30)
            check.setdefault("timeout", 5)
            check.setdefault("retries", 3)
            health = HealthCheck(
                command=tuple(check.get("command", ())),
                interval=float(check["interval"]),
                timeout=float(check["timeout"]),
                retries=int(check["retries"]),
                start_period=float(check.get("startPeriod", 0)),
            )
        log = definition.get("logConfiguration") or {}
        return cls(
            name=definition.get("name", ""),
            image=definition.get("image", ""),
            essential=bool(definition["essential"]),
            port_mappings=mappings,
            health_check=health,
            stop_timeout=definition.get("stopTimeout"),
            log_driver=log.get("logDriver"),
            uses_secrets=bool(definition.get("secrets")) or bool(log.get("secretOptions")),
            uses_registry_credentials=bool(definition.get("repositoryCredentials")),
            definition=definition,
        )

    def port(self, container_port: int) -> PortMapping | None:
        return next((m for m in self.port_mappings if m.container_port == container_port), None)


@dataclass(eq=False)
class TaskDefinition:
    family: str
    revision: int
    arn: str
    containers: list[ContainerDefinition]
    network_mode: str | None  # None: not given (bridge on Linux)
    requires_compatibilities: list[str]
    compatibilities: list[str]
    cpu: str | None
    memory: str | None
    execution_role_arn: str | None
    task_role_arn: str | None
    requires_attributes: list[str]
    registered_at: float
    registered_by: str
    echoed: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    status: str = ACTIVE
    deregistered_at: float | None = None

    @property
    def effective_network_mode(self) -> str:
        return self.network_mode or "bridge"

    @property
    def family_revision(self) -> str:
        return f"{self.family}:{self.revision}"

    def container(self, name: str) -> ContainerDefinition | None:
        return next((c for c in self.containers if c.name == name), None)

    def has_container_health_check(self) -> bool:
        return any(c.essential and c.health_check is not None for c in self.containers)


class TaskDefinitions:
    """All revisions of all families in one account and Region."""

    def __init__(self) -> None:
        self.families: dict[str, list[TaskDefinition]] = {}

    def next_revision(self, family: str) -> int:
        return len(self.families.get(family, [])) + 1

    def add(self, definition: TaskDefinition) -> None:
        self.families.setdefault(definition.family, []).append(definition)

    def all(self) -> list[TaskDefinition]:
        return [d for revisions in self.families.values() for d in revisions]

    def resolve(self, reference: str) -> TaskDefinition:
        """`family` (latest ACTIVE revision), `family:revision` or an ARN."""
        text = reference.split("task-definition/", 1)[1] if reference.startswith("arn:") else reference
        family, _, revision = text.partition(":")
        revisions = self.families.get(family, [])
        if not revision:
            active = [d for d in revisions if d.status == ACTIVE]
            if active:
                return active[-1]
        elif revision.isdigit() and 1 <= int(revision) <= len(revisions):
            return revisions[int(revision) - 1]
        raise ClientException("Unable to describe task definition.")

    def resolve_for_launch(self, reference: str) -> TaskDefinition:
        definition = self.resolve(reference)
        if definition.status != ACTIVE:
            raise ClientException(f"TaskDefinition is inactive: {definition.arn}")
        return definition
