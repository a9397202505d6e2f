"""The ECS backend of one account and Region: its state, lookups, and what other services call."""

from __future__ import annotations

from typing import Any

from ..core.world import Backend as BaseBackend
from ..core.world import RegionState
from . import clusters, ids, launch, service_operations, tagging, validation
from .clusters import Cluster
from .exceptions import (
    ClusterContainsServicesException,
    ClusterContainsTasksException,
    ClusterNotFoundException,
    InvalidParameterException,
    ResourceNotFoundException,
    ServiceNotFoundException,
)
from .fargate import cpu_units, memory_mib
from .service_deployments import ServiceDeployment, ServiceRevision
from .services import Service
from .task_definitions import ECHOED_MEMBERS, INACTIVE, ContainerDefinition, TaskDefinition, TaskDefinitions
from .tasks import STOPPED, USER_INITIATED, Task

DEFAULT_CLUSTER = "default"
MAX_RUN_TASK_COUNT = 10


class Backend(BaseBackend):
    service = "ecs"

    def __init__(self, region: RegionState) -> None:
        super().__init__(region)
        self.clusters: dict[str, Cluster] = {}
        self.task_definitions = TaskDefinitions()
        self._counters: dict[str, int] = {}
        self.service_deployments: dict[str, ServiceDeployment] = {}
        self.service_revisions: dict[str, ServiceRevision] = {}

    # ------------------------------------------------------------------ small helpers

    @property
    def arn_prefix(self) -> str:
        return f"arn:aws:ecs:{self.region_name}:{self.account_id}"

    def next_counter(self, name: str) -> int:
        value = self._counters.get(name, 0)
        self._counters[name] = value + 1
        return value

    def next_private_ip(self) -> str:
        n = self.next_counter("ip")
        return f"10.0.{1 + (n // 250) % 250}.{4 + n % 250}"

    # ------------------------------------------------------------------ clusters

    def create_cluster(self, params: dict[str, Any]) -> Cluster:
        name = params.get("clusterName") or DEFAULT_CLUSTER
        tags = tagging.from_api(params.get("tags"))
        wanted = clusters.wanted_instances(tags)
        found = self.clusters.get(name)
        if found is None or found.status == clusters.INACTIVE:
            found = self.clusters[name] = Cluster(
                name=name, arn=f"{self.arn_prefix}:cluster/{name}", created_at=self.now()
            )
            found.tags = tags
            found.settings = params.get("settings") or [{"name": "containerInsights", "value": "disabled"}]
            found.configuration = params.get("configuration")
            found.capacity_providers = params.get("capacityProviders") or []
            found.default_strategy = params.get("defaultCapacityProviderStrategy") or []
        if wanted is not None:
            self._sync_instances(found, wanted)
        return found

    def cluster(self, reference: str | None) -> Cluster:
        """An ACTIVE cluster by name or ARN; `default` exists as soon as someone uses it."""
        name = ids.short_name(reference) if reference else DEFAULT_CLUSTER
        found = self.clusters.get(name)
        if found is None and name == DEFAULT_CLUSTER:
            found = self.create_cluster({"clusterName": DEFAULT_CLUSTER})
        if found is None:
            raise ClusterNotFoundException()
        if found.status != clusters.ACTIVE:
            raise ClusterNotFoundException("The referenced cluster was inactive.")
        return found

    def delete_cluster(self, reference: str) -> Cluster:
        found = self.cluster(reference)
        if found.live_services():
            raise ClusterContainsServicesException()
        if any(t.last_status != STOPPED for t in found.tasks.values()):
            raise ClusterContainsTasksException()
        clusters.sync_instances(found, 0, arn_prefix=self.arn_prefix, region=self.region_name, now=self.now())
        found.status = clusters.INACTIVE
        return found

    def _sync_instances(self, cluster: Cluster, count: int) -> None:
        if clusters.sync_instances(
            cluster, count, arn_prefix=self.arn_prefix, region=self.region_name, now=self.now()
        ):
            for service in cluster.services.values():
                service.request_evaluation()

    # ------------------------------------------------------------------ task definitions

    def register_task_definition(self, params: dict[str, Any]) -> TaskDefinition:
        family = params.get("family", "")
        mode = params.get("networkMode") or "bridge"
        containers = [
            ContainerDefinition.from_request(c, mode) for c in params.get("containerDefinitions") or []
        ]
        validation.check_registration(params, containers)
        revision = self.task_definitions.next_revision(family)
        definition = TaskDefinition(
            family=family,
            revision=revision,
            arn=f"{self.arn_prefix}:task-definition/{family}:{revision}",
            containers=containers,
            network_mode=params.get("networkMode"),
            requires_compatibilities=list(params.get("requiresCompatibilities") or []),
            compatibilities=validation.compatibilities(params),
            cpu=_normalized(params.get("cpu"), "cpu"),
            memory=_normalized(params.get("memory"), "memory"),
            execution_role_arn=params.get("executionRoleArn"),
            task_role_arn=params.get("taskRoleArn"),
            requires_attributes=validation.required_attributes(params, containers),
            registered_at=self.now(),
            registered_by=f"arn:aws:iam::{self.account_id}:root",
            echoed={k: params[k] for k in ECHOED_MEMBERS if k in params},
            tags=tagging.from_api(params.get("tags")),
        )
        self.task_definitions.add(definition)
        return definition

    def deregister_task_definition(self, reference: str) -> TaskDefinition:
        text = reference.split("task-definition/", 1)[-1]
        if ":" not in text:
            raise InvalidParameterException("A revision must be given: family:revision or a full ARN.")
        definition = self.task_definitions.resolve(reference)
        if definition.status != INACTIVE:
            definition.status = INACTIVE
            definition.deregistered_at = self.now()
        return definition

    # ------------------------------------------------------------------ services and tasks

    def get_service(self, cluster: Cluster, reference: str) -> Service:
        found = cluster.services.get(ids.short_name(reference))
        if found is None:
            raise ServiceNotFoundException()
        return found

    def task(self, cluster: Cluster, reference: str) -> Task | None:
        return cluster.tasks.get(ids.short_name(reference))

    def run_task(self, params: dict[str, Any]) -> list[Task]:
        cluster = self.cluster(params.get("cluster"))
        count = int(params.get("count") or 1)
        if not 1 <= count <= MAX_RUN_TASK_COUNT:
            raise InvalidParameterException(f"count must be between 1 and {MAX_RUN_TASK_COUNT}.")
        definition = self.task_definitions.resolve_for_launch(params["taskDefinition"])
        strategy = params.get("capacityProviderStrategy")
        if not strategy and not params.get("launchType"):
            strategy = cluster.default_strategy or None
        launch_type = validation.launch_type_for(params.get("launchType"), strategy)
        network = params.get("networkConfiguration")
        validation.check_launch(definition, launch_type, network)
        network = validation.check_network(self, network)
        propagate = tagging.check_propagate(params.get("propagateTags"), allowed=("TASK_DEFINITION", "NONE"))
        instances = launch.require_instances(cluster, count) if launch_type == "EC2" else [None] * count
        spec = launch.LaunchSpec(
            definition=definition,
            launch_type=launch_type,
            group=params.get("group") or f"family:{definition.family}",
            capacity_provider=strategy[0].get("capacityProvider") if strategy else None,
            network_configuration=network,
            started_by=params.get("startedBy"),
            overrides=params.get("overrides") or {},
            tags=tagging.task_tags(
                explicit=tagging.from_api(params.get("tags")),
                propagate=propagate,
                definition=definition,
                service=None,
                managed=bool(params.get("enableECSManagedTags")),
                cluster_name=cluster.name,
            ),
            enable_execute_command=bool(params.get("enableExecuteCommand")),
        )
        return [launch.launch(self, cluster, spec, instance=instance) for instance in instances]

    def stop_task(self, params: dict[str, Any]) -> Task:
        cluster = self.cluster(params.get("cluster"))
        task = self.task(cluster, params["task"])
        if task is None:
            raise InvalidParameterException("The referenced task was not found.")
        reason = params.get("reason") or "Task stopped by user"
        if task.owner is not None:
            task.owner.stop_tasks([task], USER_INITIATED, reason, announce=False)  # type: ignore[attr-defined]
        else:
            task.request_stop(USER_INITIATED, reason)
        return task

    def list_tasks(self, params: dict[str, Any]) -> list[Task]:
        cluster = self.cluster(params.get("cluster"))
        found = list(cluster.tasks.values())
        if params.get("serviceName"):
            service = self.get_service(cluster, params["serviceName"])
            found = [t for t in found if t.owner is service]
        if params.get("family"):
            found = [t for t in found if t.definition.family == params["family"]]
        if params.get("startedBy"):
            found = [t for t in found if t.started_by == params["startedBy"]]
        if params.get("launchType"):
            found = [t for t in found if t.launch_type == params["launchType"]]
        if params.get("containerInstance"):
            wanted = ids.short_name(params["containerInstance"])
            found = [
                t for t in found if t.container_instance is not None and t.container_instance.id == wanted
            ]
        desired = params.get("desiredStatus") or "RUNNING"
        return [t for t in found if t.desired_status == desired]

    # ------------------------------------------------------------------ tags

    def tagged(self, arn: str) -> Any:
        """The resource an ARN names (cluster, service, task, task definition, container instance)."""
        parsed = ids.parse_arn(arn)
        if parsed.kind == "task-definition":
            return self.task_definitions.resolve(parsed.parts[0])
        if parsed.kind == "cluster":
            found = self.clusters.get(parsed.parts[0])
            if found is None:
                raise ClusterNotFoundException()
            return found
        if parsed.kind in ("service", "task") and len(parsed.parts) == 2:
            cluster = self.cluster(parsed.parts[0])
            if parsed.kind == "service":
                return self.get_service(cluster, parsed.parts[1])
            task = self.task(cluster, parsed.parts[1])
            if task is not None:
                return task
        raise ResourceNotFoundException("The specified resource could not be found.")

    def tag_resource(self, arn: str, tags: dict[str, str]) -> None:
        resource = self.tagged(arn)
        resource.tags.update(tags)
        if isinstance(resource, Cluster):
            wanted = clusters.wanted_instances(resource.tags)
            if wanted is not None:
                self._sync_instances(resource, wanted)

    # ------------------------------------------------------------------ contract with the other emulations

    def find_service(self, cluster: str, service: str) -> Service | None:
        found = self.clusters.get(ids.short_name(cluster))
        return None if found is None else found.services.get(ids.short_name(service))

    def scale_from_autoscaling(self, cluster: str, service: str, desired: int) -> None:
        found = self.find_service(cluster, service)
        if found is not None:
            service_operations.scale(found, desired)

    def deployment_in_progress(self, cluster: str, service: str) -> bool:
        found = self.find_service(cluster, service)
        return found is not None and found.deployment_in_progress()

    def steady_states(self) -> list[dict[str, Any]]:
        return [
            s.steady_state_record(self.region_name)
            for c in self.clusters.values()
            for s in c.services.values()
            if s.steady_at
        ]


def _normalized(value: str | None, field: str) -> str | None:
    if not value:
        return None
    return str(cpu_units(value) if field == "cpu" else memory_mib(value))
