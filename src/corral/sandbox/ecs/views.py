"""Models as the ECS API shows them (DescribeClusters, DescribeServices, DescribeTasks, ...)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from ..core.clock import to_datetime
from . import tagging
from .clusters import INSTANCE_CPU, INSTANCE_MEMORY, Cluster, ContainerInstance
from .service_deployments import current_revisions
from .tasks import RUNNING, STARTING

if TYPE_CHECKING:
    from .deployments import Deployment
    from .services import Service
    from .task_definitions import TaskDefinition
    from .task_parts import Container
    from .tasks import Task

AGENT_VERSION = "1.87.0"


def _time(seconds: float | None) -> Any:
    return None if seconds is None else to_datetime(seconds)


def cluster(c: Cluster, include: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "clusterArn": c.arn,
        "clusterName": c.name,
        "status": c.status,
        "registeredContainerInstancesCount": len(c.active_instances()),
        "runningTasksCount": c.count_tasks((RUNNING,)),
        "pendingTasksCount": c.count_tasks(STARTING),
        "activeServicesCount": c.active_services_count(),
        "statistics": [],
        "capacityProviders": list(c.capacity_providers),
        "defaultCapacityProviderStrategy": copy.deepcopy(c.default_strategy),
    }
    if "TAGS" in include:
        out["tags"] = tagging.to_api(c.tags)
    if "SETTINGS" in include:
        out["settings"] = copy.deepcopy(c.settings)
    if "CONFIGURATIONS" in include and c.configuration is not None:
        out["configuration"] = copy.deepcopy(c.configuration)
    return out


def container_instance(c: Cluster, instance: ContainerInstance) -> dict[str, Any]:
    tasks = [t for t in c.tasks_on(instance) if t.is_live]
    used_cpu = sum(_units(t.cpu) for t in tasks)
    used_memory = sum(_units(t.memory) for t in tasks)

    def resources(cpu: int, memory: int) -> list[dict[str, Any]]:
        return [
            {"name": "CPU", "type": "INTEGER", "integerValue": cpu},
            {"name": "MEMORY", "type": "INTEGER", "integerValue": memory},
            {
                "name": "PORTS",
                "type": "STRINGSET",
                "stringSetValue": ["22", "2375", "2376", "51678", "51679"],
            },
            {"name": "PORTS_UDP", "type": "STRINGSET", "stringSetValue": []},
        ]

    return {
        "containerInstanceArn": instance.arn,
        "ec2InstanceId": instance.ec2_instance_id,
        "version": 1,
        "versionInfo": {
            "agentVersion": AGENT_VERSION,
            "agentHash": "sandbox",
            "dockerVersion": "DockerVersion: 20.10.25",
        },
        "remainingResources": resources(
            max(0, INSTANCE_CPU - used_cpu), max(0, INSTANCE_MEMORY - used_memory)
        ),
        "registeredResources": resources(INSTANCE_CPU, INSTANCE_MEMORY),
        "status": instance.status,
        "agentConnected": instance.status == "ACTIVE",
        "runningTasksCount": sum(1 for t in tasks if t.last_status == RUNNING),
        "pendingTasksCount": sum(1 for t in tasks if t.last_status in STARTING),
        "attributes": [
            {"name": "ecs.availability-zone", "value": instance.availability_zone},
            {"name": "ecs.instance-type", "value": "m5.large"},
            {"name": "ecs.os-type", "value": "linux"},
            {"name": "ecs.cpu-architecture", "value": "x86_64"},
        ],
        "registeredAt": _time(instance.registered_at),
        "attachments": [],
        "tags": [],
    }


def _units(value: str | None) -> int:
    return int(value) if value and value.isdigit() else 0


def task_definition(d: TaskDefinition) -> dict[str, Any]:
    out: dict[str, Any] = {
        "taskDefinitionArn": d.arn,
        "containerDefinitions": [copy.deepcopy(c.definition) for c in d.containers],
        "family": d.family,
        "taskRoleArn": d.task_role_arn,
        "executionRoleArn": d.execution_role_arn,
        "networkMode": d.network_mode,
        "revision": d.revision,
        "volumes": [],
        "status": d.status,
        "requiresAttributes": [{"name": n} for n in d.requires_attributes],
        "placementConstraints": [],
        "compatibilities": list(d.compatibilities),
        "requiresCompatibilities": list(d.requires_compatibilities),
        "cpu": d.cpu,
        "memory": d.memory,
        "registeredAt": _time(d.registered_at),
        "deregisteredAt": _time(d.deregistered_at),
        "registeredBy": d.registered_by,
    }
    out.update(copy.deepcopy(d.echoed))
    return out


def service(s: Service, include: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "serviceArn": s.arn,
        "serviceName": s.name,
        "clusterArn": s.cluster.arn,
        "loadBalancers": [lb.to_api() for lb in s.load_balancers],
        "serviceRegistries": [r.to_api() for r in s.registries],
        "status": s.status,
        "desiredCount": s.desired_count if s.status == "ACTIVE" else 0,
        "runningCount": s.running_count(),
        "pendingCount": s.pending_count(),
        "taskDefinition": s.task_definition.arn,
        "deploymentConfiguration": s.deployment_configuration.to_api(),
        "deployments": [deployment(s, d) for d in s.deployments],
        "roleArn": s.role_arn,
        "events": s.event_dicts(),
        "createdAt": _time(s.created_at),
        "placementConstraints": copy.deepcopy(s.placement_constraints),
        "placementStrategy": copy.deepcopy(s.placement_strategy),
        "networkConfiguration": copy.deepcopy(s.network_configuration),
        "healthCheckGracePeriodSeconds": s.health_check_grace_period,
        "schedulingStrategy": s.scheduling_strategy,
        "deploymentController": {"type": "ECS"},
        "createdBy": s.created_by,
        "enableECSManagedTags": s.enable_ecs_managed_tags,
        "propagateTags": s.propagate_tags,
        "enableExecuteCommand": s.enable_execute_command,
    }
    if s.service_deployments:
        out["currentServiceDeployment"] = s.service_deployments[0].arn
        out["currentServiceRevisions"] = current_revisions(s)
    _launch_fields(out, s.launch_type, s.capacity_provider_strategy, s.task_launch_type, s.platform_version)
    if "TAGS" in include:
        out["tags"] = tagging.to_api(s.tags)
    return out


def _launch_fields(
    out: dict[str, Any], launch_type: str | None, strategy: Any, task_launch_type: str, platform: str | None
) -> None:
    if strategy:
        out["capacityProviderStrategy"] = copy.deepcopy(strategy)
    else:
        out["launchType"] = launch_type or task_launch_type
    if task_launch_type == "FARGATE":
        out["platformVersion"] = platform or "LATEST"
        out["platformFamily"] = "Linux"


def deployment(s: Service, d: Deployment) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": d.id,
        "status": d.status,
        "taskDefinition": d.task_definition.arn,
        "desiredCount": d.desired_count if s.status == "ACTIVE" else 0,
        "pendingCount": d.pending_count(),
        "runningCount": d.running_count(),
        "failedTasks": d.failed_tasks,
        "createdAt": _time(d.created_at),
        "updatedAt": _time(d.updated_at),
        "networkConfiguration": copy.deepcopy(d.network_configuration),
        "rolloutState": d.rollout_state,
        "rolloutStateReason": d.rollout_state_reason,
    }
    # the ECS API Reference's Deployment carries these (the Service shape has no such members)
    if d.service_connect is not None:
        out["serviceConnectConfiguration"] = copy.deepcopy(d.service_connect)
    if d.vpc_lattice:
        out["vpcLatticeConfigurations"] = copy.deepcopy(d.vpc_lattice)
    _launch_fields(out, s.launch_type, d.capacity_provider_strategy, d.launch_type, d.platform_version)
    return out


def task(t: Task, include: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "attachments": [t.network.to_api()] if t.network else [],
        "attributes": [{"name": "ecs.cpu-architecture", "value": "x86_64"}],
        "availabilityZone": t.availability_zone,
        "capacityProviderName": t.capacity_provider,
        "clusterArn": t.cluster.arn,
        "connectivity": "CONNECTED" if t.connectivity_at is not None else None,
        "connectivityAt": _time(t.connectivity_at),
        "containerInstanceArn": t.container_instance.arn if t.container_instance else None,
        "containers": [container(t, c) for c in t.containers],
        "cpu": t.cpu,
        "memory": t.memory,
        "createdAt": _time(t.created_at),
        "desiredStatus": t.desired_status,
        "enableExecuteCommand": t.enable_execute_command,
        "executionStoppedAt": _time(t.execution_stopped_at),
        "group": t.group,
        "healthStatus": t.health_status,
        "lastStatus": t.last_status,
        "launchType": t.launch_type,
        "overrides": _overrides(t),
        "pullStartedAt": _time(t.pull_started_at),
        "pullStoppedAt": _time(t.pull_stopped_at),
        "startedAt": _time(t.started_at),
        "startedBy": t.started_by,
        "stopCode": t.stop_code,
        "stoppedAt": _time(t.stopped_at),
        "stoppedReason": t.stopped_reason,
        "stoppingAt": _time(t.stopping_at),
        "taskArn": t.arn,
        "taskDefinitionArn": t.definition.arn,
        "version": t.version,
    }
    if t.launch_type == "FARGATE":
        out["platformVersion"] = t.platform_version
        out["platformFamily"] = "Linux"
        out["ephemeralStorage"] = {"sizeInGiB": 20}
    if "TAGS" in include:
        out["tags"] = tagging.to_api(t.tags)
    return out


def _overrides(t: Task) -> dict[str, Any]:
    out = copy.deepcopy(t.overrides)
    out.setdefault("containerOverrides", [{"name": c.name} for c in t.containers])
    out.setdefault("inferenceAcceleratorOverrides", [])
    return out


def container(t: Task, c: Container) -> dict[str, Any]:
    out: dict[str, Any] = {
        "containerArn": c.arn,
        "taskArn": t.arn,
        "name": c.name,
        "image": c.definition.image,
        "imageDigest": c.image_digest,
        "runtimeId": c.runtime_id,
        "lastStatus": c.last_status,
        "exitCode": c.exit_code,
        "reason": c.reason,
        "healthStatus": c.health_status,
        "cpu": str(c.definition.definition.get("cpu", 0)),
        "networkInterfaces": [],
        "networkBindings": [],
    }
    if "memory" in c.definition.definition:
        out["memory"] = str(c.definition.definition["memory"])
    if "memoryReservation" in c.definition.definition:
        out["memoryReservation"] = str(c.definition.definition["memoryReservation"])
    if t.network is not None:
        out["networkInterfaces"] = [
            {"attachmentId": t.network.id, "privateIpv4Address": t.network.private_ip}
        ]
    elif c.last_status == RUNNING:
        out["networkBindings"] = [
            {"bindIP": "0.0.0.0", "containerPort": cp, "hostPort": hp, "protocol": "tcp"}
            for cp, hp in c.host_ports.items()
        ]
    return out
