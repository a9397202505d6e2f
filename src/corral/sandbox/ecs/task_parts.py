"""The parts of a task: its containers, its network attachment, its load balancer targets."""

from __future__ import annotations

import secrets
import zlib
from dataclasses import dataclass, field
from typing import Any

from ..core.images import ImageBehaviour
from . import ids
from .health import UNKNOWN
from .task_definitions import ContainerDefinition


@dataclass(frozen=True)
class AdvancedConfiguration:
    """`loadBalancers[].advancedConfiguration`: what BLUE_GREEN, LINEAR and CANARY shift traffic with."""

    alternate_target_group_arn: str
    production_listener_rule: str
    test_listener_rule: str | None
    role_arn: str

    def to_api(self) -> dict[str, Any]:
        out = {
            "alternateTargetGroupArn": self.alternate_target_group_arn,
            "productionListenerRule": self.production_listener_rule,
            "roleArn": self.role_arn,
        }
        if self.test_listener_rule:
            out["testListenerRule"] = self.test_listener_rule
        return out


@dataclass(frozen=True)
class LoadBalancer:
    target_group_arn: str
    container_name: str
    container_port: int
    advanced: AdvancedConfiguration | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "targetGroupArn": self.target_group_arn,
            "containerName": self.container_name,
            "containerPort": self.container_port,
        }
        if self.advanced is not None:
            out["advancedConfiguration"] = self.advanced.to_api()
        return out


@dataclass(frozen=True)
class ServiceRegistry:
    registry_arn: str
    port: int | None = None
    container_name: str | None = None
    container_port: int | None = None

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"registryArn": self.registry_arn}
        if self.port is not None:
            out["port"] = self.port
        if self.container_name is not None:
            out["containerName"] = self.container_name
        if self.container_port is not None:
            out["containerPort"] = self.container_port
        return out


@dataclass(eq=False)
class Container:
    definition: ContainerDefinition
    arn: str
    image: ImageBehaviour
    host_ports: dict[int, int] = field(default_factory=dict)  # container port -> host port
    last_status: str = "PENDING"
    exit_code: int | None = None
    reason: str | None = None
    health_status: str = UNKNOWN
    health_timeline: list[tuple[float, str]] = field(default_factory=list)
    runtime_id: str | None = None
    image_digest: str | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    def pulled(self) -> None:
        self.image_digest = "sha256:" + secrets.token_hex(32)

    def started(self, task_id: str) -> None:
        self.last_status = "RUNNING"
        self.runtime_id = f"{task_id}-{zlib.crc32(self.name.encode()):010d}"

    def stopped(self, exit_code: int | None, reason: str | None = None) -> None:
        if self.last_status == "STOPPED":
            return
        self.last_status = "STOPPED"
        self.exit_code = exit_code if self.runtime_id else None
        self.reason = reason if reason is not None else self.reason


@dataclass(eq=False)
class NetworkAttachment:
    """The ENI of an awsvpc task."""

    subnet_id: str
    private_ip: str
    region: str
    id: str = field(default_factory=ids.new_uuid)
    eni_id: str = field(default_factory=ids.eni_id)
    mac: str = field(default_factory=ids.mac_address)
    status: str = "PRECREATED"

    @property
    def private_dns_name(self) -> str:
        dashed = self.private_ip.replace(".", "-")
        if self.region == "us-east-1":
            return f"ip-{dashed}.ec2.internal"
        return f"ip-{dashed}.{self.region}.compute.internal"

    def to_api(self) -> dict[str, Any]:
        details = {
            "subnetId": self.subnet_id,
            "networkInterfaceId": self.eni_id,
            "macAddress": self.mac,
            "privateDnsName": self.private_dns_name,
            "privateIPv4Address": self.private_ip,
        }
        return {
            "id": self.id,
            "type": "ElasticNetworkInterface",
            "status": self.status,
            "details": [{"name": k, "value": v} for k, v in details.items()],
        }


def availability_zone(region: str, subnet_id: str) -> str:
    """A stable zone per subnet (the sandbox does not ask EC2 where a subnet lives)."""
    return f"{region}{'abc'[zlib.crc32(subnet_id.encode()) % 3]}"


@dataclass(eq=False)
class TaskTarget:
    """One registration of a task in a target group."""

    target_group_arn: str
    target_id: str
    port: int
    container_name: str
    state: str = "unregistered"
    reason: str | None = None
    description: str | None = None


@dataclass(frozen=True)
class HealthFailure:
    """Why a running task failed a health check: its container's, or a target group's."""

    target: TaskTarget | None = None  # None: the container health check

    @property
    def is_elb(self) -> bool:
        return self.target is not None
