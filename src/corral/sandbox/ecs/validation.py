"""The checks ECS makes on task definitions and on where a task definition may run."""

from __future__ import annotations

import re
from typing import Any

from .exceptions import ClientException, InvalidParameterException
from .fargate import cpu_units, is_fargate_size, memory_mib
from .task_definitions import ContainerDefinition, TaskDefinition

FAMILY = re.compile(r"^[A-Za-z0-9_-]{1,255}$")
NETWORK_MODES = ("bridge", "host", "awsvpc", "none")
FARGATE = "FARGATE"
LAUNCH_TYPES = ("EC2", "FARGATE", "EXTERNAL")
FARGATE_PROVIDERS = ("FARGATE", "FARGATE_SPOT")
HEALTH_LIMITS = {"interval": (5, 300), "timeout": (2, 60), "retries": (1, 10), "startPeriod": (0, 300)}


def check_registration(params: dict[str, Any], containers: list[ContainerDefinition]) -> None:
    """Raise ClientException as RegisterTaskDefinition does for an invalid request."""
    family = params.get("family", "")
    if not FAMILY.match(family):
        raise ClientException(
            "Family contains invalid characters. Up to 255 letters (uppercase and lowercase), "
            "numbers, hyphens, and underscores are allowed."
        )
    mode = params.get("networkMode")
    if mode is not None and mode not in NETWORK_MODES:
        raise ClientException(f"Invalid networkMode: {mode}. Valid values are {', '.join(NETWORK_MODES)}.")
    _check_containers(containers, mode or "bridge", has_task_memory=bool(params.get("memory")))
    if FARGATE in (params.get("requiresCompatibilities") or []):
        _check_fargate(params, containers)
    _check_execution_role(params, containers)


def _check_containers(containers: list[ContainerDefinition], mode: str, *, has_task_memory: bool) -> None:
    if not containers:
        raise ClientException("Container list cannot be empty.")
    names = [c.name for c in containers]
    for name in names:
        if names.count(name) > 1:
            raise ClientException(f"Duplicate container name found: {name}.")
    if not any(c.essential for c in containers):
        raise ClientException("Task definition must have at least one essential container.")
    for container in containers:
        if not has_task_memory and not (
            container.definition.get("memory") or container.definition.get("memoryReservation")
        ):
            raise ClientException(
                f"Invalid setting for container '{container.name}'. "
                "At least one of 'memory' or 'memoryReservation' must be specified."
            )
        if mode == "awsvpc":
            for mapping in container.port_mappings:
                if mapping.host_port not in (None, mapping.container_port):
                    raise ClientException(
                        "When networkMode=awsvpc, the host ports and container ports in port mappings must match."
                    )
        check = container.definition.get("healthCheck") or {}
        for key, (low, high) in HEALTH_LIMITS.items():
            if key in check and not low <= check[key] <= high:
                raise ClientException(
                    f"Invalid setting for container '{container.name}': healthCheck.{key} must be "
                    f"between {low} and {high}."
                )


def _check_fargate(params: dict[str, Any], containers: list[ContainerDefinition]) -> None:
    if params.get("networkMode") != "awsvpc":
        raise ClientException("Fargate only supports network mode \u2018awsvpc\u2019.")
    for member in ("cpu", "memory"):
        if not params.get(member):
            raise ClientException(f"Fargate requires that '{member}' be defined at the task level.")
    if not is_fargate_size(cpu_units(params["cpu"]), memory_mib(params["memory"])):
        raise ClientException("No Fargate configuration exists for given values.")
    if not params.get("executionRoleArn") and any(c.log_driver == "awslogs" for c in containers):
        raise ClientException(
            "Fargate requires task definition to have execution role ARN to support log driver awslogs."
        )


def _check_execution_role(params: dict[str, Any], containers: list[ContainerDefinition]) -> None:
    if params.get("executionRoleArn"):
        return
    if any(c.uses_secrets for c in containers):
        raise ClientException(
            "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'."
        )
    if any(c.uses_registry_credentials for c in containers):
        raise ClientException(
            "When you are using private registry authentication, you must also specify a value for "
            "'executionRoleArn'."
        )


def compatibilities(params: dict[str, Any]) -> list[str]:
    """The launch types a task definition can run on, as DescribeTaskDefinition reports them."""
    found = ["EC2"]
    cpu, memory = params.get("cpu"), params.get("memory")
    if params.get("networkMode") == "awsvpc" and cpu and memory:
        try:
            if is_fargate_size(cpu_units(cpu), memory_mib(memory)):
                found.append(FARGATE)
        except ClientException:
            pass
    if "EXTERNAL" in (params.get("requiresCompatibilities") or []):
        found.append("EXTERNAL")
    return found


def required_attributes(params: dict[str, Any], containers: list[ContainerDefinition]) -> list[str]:
    names = ["com.amazonaws.ecs.capability.docker-remote-api.1.18"]
    if params.get("networkMode") == "awsvpc":
        names.append("ecs.capability.task-eni")
    if any(c.health_check for c in containers):
        names.append("ecs.capability.container-health-check")
    if any(c.log_driver == "awslogs" for c in containers):
        names.append("com.amazonaws.ecs.capability.logging-driver.awslogs")
        if params.get("executionRoleArn"):
            names.append("ecs.capability.execution-role-awslogs")
    if params.get("executionRoleArn") and any(".dkr.ecr." in c.image for c in containers):
        names.append("ecs.capability.execution-role-ecr-pull")
    if any(c.uses_secrets for c in containers):
        names.append("ecs.capability.secrets.asm.environment-variables")
    return names


# ---------------------------------------------------------------- where a task may run


def launch_type_for(launch_type: str | None, strategy: list[dict[str, Any]] | None) -> str:
    """The launch type tasks get from a launchType or a capacity provider strategy."""
    if launch_type and strategy:
        raise InvalidParameterException(
            "Specifying both a launch type and capacity provider strategy is not supported. "
            "Remove one and try again."
        )
    if strategy:
        providers = {item.get("capacityProvider") for item in strategy}
        return FARGATE if providers <= set(FARGATE_PROVIDERS) else "EC2"
    if launch_type is not None and launch_type not in LAUNCH_TYPES:
        raise InvalidParameterException(f"Invalid launch type: {launch_type}")
    return launch_type or "EC2"


def check_launch(definition: TaskDefinition, launch_type: str, network: dict[str, Any] | None) -> None:
    """What RunTask and CreateService check of a task definition, launch type and network."""
    if launch_type not in definition.compatibilities:
        raise InvalidParameterException(f"Task definition does not support launch_type {launch_type}.")
    if definition.effective_network_mode == "awsvpc":
        vpc = (network or {}).get("awsvpcConfiguration")
        if not vpc:
            raise InvalidParameterException(
                "Network Configuration must be provided when networkMode 'awsvpc' is specified."
            )
        if not vpc.get("subnets"):
            raise InvalidParameterException("subnets can not be empty.")
        if launch_type != FARGATE and vpc.get("assignPublicIp") == "ENABLED":
            raise InvalidParameterException("Assign public IP is not supported for this launch type.")
    elif network:
        raise InvalidParameterException(
            "Network Configuration is not valid for the given networkMode of this task definition."
        )


def check_network(backend: Any, network: dict[str, Any] | None) -> dict[str, Any] | None:
    """Subnets and security groups must exist in the sandbox's EC2 (moto), as on AWS; the answer
    carries ECS's default `assignPublicIp: DISABLED`."""
    vpc = (network or {}).get("awsvpcConfiguration")
    if not vpc:
        return network
    from moto.backends import get_backend

    ec2 = get_backend("ec2")[backend.account_id][backend.region_name]
    for subnet in vpc.get("subnets") or []:
        try:
            ec2.get_subnet(subnet)
        except Exception as exc:  # moto's InvalidSubnetIdError
            raise InvalidParameterException(
                f"Error retrieving subnet information for [{subnet}]: The subnet ID '{subnet}' does not exist"
            ) from exc
    groups = vpc.get("securityGroups") or []
    for group in groups:
        if ec2.get_security_group_from_id(group) is None:
            raise InvalidParameterException(
                f"Error retrieving security group information for [{group}]: The security group '{group}' does not exist"
            )
    return {"awsvpcConfiguration": {"assignPublicIp": "DISABLED", **vpc}}
