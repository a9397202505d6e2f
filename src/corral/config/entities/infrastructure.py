"""`infrastructureDefinition:` documents: an ECS cluster in an account and region."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from .common import Entity, Model
from .overrides import Overrides, ServiceOverrides


class NetworkConfiguration(Model):
    """awsvpc settings that replace the service definition's at deploy time."""

    subnets: list[str] | None = None
    security_groups: list[str] | None = None
    assign_public_ip: Literal["ENABLED", "DISABLED"] | bool | None = None

    def awsvpc(self) -> dict[str, object]:
        out: dict[str, object] = {}
        if self.subnets is not None:
            out["subnets"] = list(self.subnets)
        if self.security_groups is not None:
            out["securityGroups"] = list(self.security_groups)
        if self.assign_public_ip is not None:
            value = self.assign_public_ip
            if isinstance(value, bool):
                value = "ENABLED" if value else "DISABLED"
            out["assignPublicIp"] = value
        return out


class EcsInfrastructureSpec(Model):
    connector_ref: str
    region: str
    cluster: str
    launch_type: Literal["FARGATE", "EC2", "EXTERNAL"] | None = None
    network_configuration: NetworkConfiguration | None = None
    execution_role_arn: str | None = None
    # the stage's provisioner (a ShellScriptProvision step's identifier or a CreateStack's
    # provisionerIdentifier) whose outputs `<+provisioner.NAME>` in these fields read
    provisioner: str | None = None


class InfrastructureDefinition(Entity):
    environment_ref: str
    deployment_type: Literal["ECS"] = "ECS"
    type: Literal["ECS"]
    spec: EcsInfrastructureSpec
    allow_simultaneous_deployments: bool | None = None
    # Corral extension: overrides that apply on this infrastructure only
    overrides: Overrides | None = None
    service_overrides: list[ServiceOverrides] = Field(default_factory=list)
