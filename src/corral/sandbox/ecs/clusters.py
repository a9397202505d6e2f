"""Clusters and their simulated EC2 container instances.

A cluster gets N simulated container instances (ACTIVE, with an `ec2InstanceId`) when it is
created or tagged with `corral:sandbox:containerInstances=N`; EC2 and DAEMON services place
their tasks on them. Changing the tag later adds or removes instances.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import ids

if TYPE_CHECKING:
    from .services import Service
    from .tasks import Task

ACTIVE = "ACTIVE"
INACTIVE = "INACTIVE"
INSTANCES_TAG = "corral:sandbox:containerInstances"
MAX_SIMULATED_INSTANCES = 100

# a simulated m5.large: 2 vCPU, 8 GiB less what the agent keeps
INSTANCE_CPU = 2048
INSTANCE_MEMORY = 7680


@dataclass(eq=False)
class ContainerInstance:
    id: str
    arn: str
    ec2_instance_id: str
    availability_zone: str
    registered_at: float
    status: str = ACTIVE


@dataclass(eq=False)
class Cluster:
    name: str
    arn: str
    created_at: float
    status: str = ACTIVE
    tags: dict[str, str] = field(default_factory=dict)
    settings: list[dict[str, Any]] = field(default_factory=list)
    configuration: dict[str, Any] | None = None
    capacity_providers: list[str] = field(default_factory=list)
    default_strategy: list[dict[str, Any]] = field(default_factory=list)
    services: dict[str, Service] = field(default_factory=dict)
    tasks: dict[str, Task] = field(default_factory=dict)  # by task id, oldest first
    instances: dict[str, ContainerInstance] = field(default_factory=dict)

    def active_instances(self) -> list[ContainerInstance]:
        return [i for i in self.instances.values() if i.status == ACTIVE]

    def count_tasks(self, statuses: tuple[str, ...]) -> int:
        return sum(1 for t in self.tasks.values() if t.last_status in statuses)

    def active_services_count(self) -> int:
        return sum(1 for s in self.services.values() if s.status == ACTIVE)

    def live_services(self) -> list[Service]:
        return [s for s in self.services.values() if s.status != INACTIVE]

    def tasks_on(self, instance: ContainerInstance) -> list[Task]:
        return [t for t in self.tasks.values() if t.container_instance is instance]


def wanted_instances(tags: dict[str, str]) -> int | None:
    """The simulated instance count a cluster's tags ask for (None: the tag is absent)."""
    value = tags.get(INSTANCES_TAG)
    if value is None:
        return None
    if not value.strip().isdigit() or int(value) > MAX_SIMULATED_INSTANCES:
        from .exceptions import InvalidParameterException

        raise InvalidParameterException(
            f"Tag {INSTANCES_TAG} must be a whole number from 0 to {MAX_SIMULATED_INSTANCES}."
        )
    return int(value)


def sync_instances(cluster: Cluster, count: int, *, arn_prefix: str, region: str, now: float) -> bool:
    """Add or retire simulated instances until `count` are ACTIVE; True if anything changed."""
    active = cluster.active_instances()
    changed = False
    for instance in active[count:]:
        instance.status = INACTIVE
        changed = True
    for index in range(len(active), count):
        instance_id = ids.container_instance_id()
        cluster.instances[instance_id] = ContainerInstance(
            id=instance_id,
            arn=f"{arn_prefix}:container-instance/{cluster.name}/{instance_id}",
            ec2_instance_id=ids.ec2_instance_id(),
            availability_zone=f"{region}{'abc'[index % 3]}",
            registered_at=now,
        )
        changed = True
    return changed
