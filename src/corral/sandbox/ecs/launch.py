"""Making a task: containers, ENI or host ports, tags; shared by RunTask and the service scheduler."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import events, events_bridge, ids, tagging
from .exceptions import InvalidParameterException
from .task_parts import Container, LoadBalancer, NetworkAttachment, ServiceRegistry, availability_zone
from .tasks import PENDING, PROVISIONING, Task

if TYPE_CHECKING:
    from .backend import Backend
    from .clusters import Cluster, ContainerInstance
    from .deployments import Deployment
    from .services import Service
    from .task_definitions import TaskDefinition

FARGATE_PLATFORM_VERSION = "1.4.0"


@dataclass
class LaunchSpec:
    """Everything about a task that does not depend on which copy it is."""

    definition: TaskDefinition
    launch_type: str
    group: str
    capacity_provider: str | None = None
    network_configuration: dict[str, Any] | None = None
    started_by: str | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    enable_execute_command: bool = False
    load_balancers: list[LoadBalancer] = field(default_factory=list)
    registries: list[ServiceRegistry] = field(default_factory=list)


def launch(
    backend: Backend,
    cluster: Cluster,
    spec: LaunchSpec,
    *,
    instance: ContainerInstance | None = None,
    owner: Service | None = None,
    deployment: Deployment | None = None,
) -> Task:
    task_id = ids.task_id()
    definition = spec.definition
    network = _network(backend, spec)
    containers = [
        Container(
            definition=c,
            arn=backend.arn("ecs", f"container/{cluster.name}/{task_id}/{ids.new_uuid()}"),
            image=backend.world.images.for_image(c.image),
            host_ports=_host_ports(backend, c.port_mappings, definition.effective_network_mode),
        )
        for c in definition.containers
    ]
    if network is not None:
        zone = availability_zone(backend.region_name, network.subnet_id)
    else:
        zone = instance.availability_zone if instance else f"{backend.region_name}a"
    overrides = spec.overrides
    task = Task(
        backend=backend,
        cluster=cluster,
        id=task_id,
        arn=backend.arn("ecs", f"task/{cluster.name}/{task_id}"),
        definition=definition,
        launch_type=spec.launch_type,
        group=spec.group,
        created_at=owner.now() if owner is not None else backend.world.timers.due_time(),
        containers=containers,
        last_status=PROVISIONING if network is not None else PENDING,
        started_by=spec.started_by,
        capacity_provider=spec.capacity_provider,
        platform_version=FARGATE_PLATFORM_VERSION if spec.launch_type == "FARGATE" else None,
        cpu=overrides.get("cpu") or definition.cpu,
        memory=overrides.get("memory") or definition.memory,
        overrides=overrides,
        network=network,
        container_instance=instance,
        availability_zone=zone,
        tags=dict(spec.tags),
        enable_execute_command=spec.enable_execute_command,
        owner=owner,
        deployment=deployment,
        load_balancers=list(spec.load_balancers),
        registries=list(spec.registries),
    )
    cluster.tasks[task_id] = task
    if deployment is not None:
        deployment.tasks.append(task)
    task.start()
    events_bridge.task_state_change(task)
    return task


def _network(backend: Backend, spec: LaunchSpec) -> NetworkAttachment | None:
    if spec.definition.effective_network_mode != "awsvpc":
        return None
    subnets = ((spec.network_configuration or {}).get("awsvpcConfiguration") or {}).get("subnets") or []
    subnet = subnets[backend.next_counter("subnet") % len(subnets)] if subnets else "subnet-sandbox"
    return NetworkAttachment(
        subnet_id=subnet, private_ip=backend.next_private_ip(), region=backend.region_name
    )


def _host_ports(backend: Backend, mappings: list[Any], mode: str) -> dict[int, int]:
    ports: dict[int, int] = {}
    for mapping in mappings:
        if mode in ("awsvpc", "host"):
            ports[mapping.container_port] = mapping.container_port
        elif mapping.host_port:
            ports[mapping.container_port] = mapping.host_port
        else:  # bridge with a dynamic host port
            ports[mapping.container_port] = 32768 + backend.next_counter("host-port") % 28000
    return ports


def place(cluster: Cluster, count: int) -> list[ContainerInstance]:
    """Spread `count` EC2 tasks over the cluster's ACTIVE instances, fewest tasks first."""
    instances = cluster.active_instances()
    if not instances:
        return []
    load = {i.id: sum(1 for t in cluster.tasks_on(i) if t.is_live) for i in instances}
    chosen = []
    for _ in range(count):
        best = min(instances, key=lambda i: load[i.id])
        load[best.id] += 1
        chosen.append(best)
    return chosen


def require_instances(cluster: Cluster, count: int) -> list[ContainerInstance]:
    chosen = place(cluster, count)
    if not chosen:
        raise InvalidParameterException("No Container Instances were found in your cluster.")
    return chosen


def service_spec(service: Service, deployment: Deployment) -> LaunchSpec:
    definition = deployment.task_definition
    tags = tagging.task_tags(
        explicit={},
        propagate=service.propagate_tags,
        definition=definition,
        service=service,
        managed=service.enable_ecs_managed_tags,
        cluster_name=service.cluster.name,
    )
    provider = None
    if deployment.capacity_provider_strategy:
        provider = deployment.capacity_provider_strategy[0].get("capacityProvider")
    return LaunchSpec(
        definition=definition,
        launch_type=deployment.launch_type,
        group=f"service:{service.name}",
        capacity_provider=provider,
        network_configuration=deployment.network_configuration,
        started_by=deployment.id,
        tags=tags,
        enable_execute_command=service.enable_execute_command,
        load_balancers=deployment.load_balancers,
        registries=deployment.registries,
    )


def start_service_tasks(
    service: Service, deployment: Deployment, count: int, instances: list[ContainerInstance] | None = None
) -> list[Task]:
    """Launch `count` tasks of `deployment` (on `instances`, or placed by spread for EC2)."""
    if instances is None and deployment.launch_type == "EC2":
        instances = place(service.cluster, count)
        if not instances:
            if service.add_event(events.no_container_instances(service.name), repeat=False):
                now = service.now()
                # the Developer Guide's EC2 sample names the instances tried and the cause; none was
                # tried here, and the cause is the service event's (AWS's own text is not published)
                events_bridge.service_action(
                    service,
                    events_bridge.TASK_PLACEMENT_FAILURE,
                    events_bridge.ERROR,
                    now,
                    containerInstanceArns=[],
                    reason=events.NO_CONTAINER_INSTANCES_REASON,
                )
            return []
    spec = service_spec(service, deployment)
    started = [
        launch(
            service.backend,
            service.cluster,
            spec,
            instance=instances[i] if instances else None,
            owner=service,
            deployment=deployment,
        )
        for i in range(count)
    ]
    replaced = min(service.replaced_unhealthy, len(started))
    service.replaced_unhealthy -= replaced
    service.add_event(events.started(service.name, [t.id for t in started], replaced))
    deployment.updated_at = service.now()
    return started
