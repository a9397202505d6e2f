"""Amazon ECS API request throttling: the token buckets per account and Region.

Shared by the client-side rate budget (so Corral stays under the account's limits) and the
sandbox (which enforces them). Source: the ECS API reference's request throttling table.
"""

from __future__ import annotations

# bucket -> (burst, refill per second)
BUCKETS: dict[str, tuple[float, float]] = {
    "service-read": (100, 20),
    "service-modify": (50, 5),
    "task-definition-modify": (20, 1),
    "task-definition-read": (50, 20),
    "cluster-resource-read": (100, 20),
    "cluster-resource-modify": (100, 40),
    "cluster-read": (50, 20),
    "cluster-modify": (20, 1),
    "tag-modify": (20, 10),
    "tag-read": (50, 20),
    "service-deployments": (50, 20),
}

ECS_OPERATION_BUCKETS: dict[str, str] = {
    "DescribeServices": "service-read",
    "ListServices": "service-read",
    "CreateService": "service-modify",
    "UpdateService": "service-modify",
    "DeleteService": "service-modify",
    "RegisterTaskDefinition": "task-definition-modify",
    "DeregisterTaskDefinition": "task-definition-modify",
    "DescribeTaskDefinition": "task-definition-read",
    "ListTaskDefinitions": "task-definition-read",
    "ListTaskDefinitionFamilies": "task-definition-read",
    "DescribeTasks": "cluster-resource-read",
    "ListTasks": "cluster-resource-read",
    "DescribeContainerInstances": "cluster-resource-read",
    "ListContainerInstances": "cluster-resource-read",
    "RunTask": "cluster-resource-modify",
    "StartTask": "cluster-resource-modify",
    "StopTask": "cluster-resource-modify",
    "DescribeClusters": "cluster-read",
    "ListClusters": "cluster-read",
    "CreateCluster": "cluster-modify",
    "DeleteCluster": "cluster-modify",
    "UpdateCluster": "cluster-modify",
    "TagResource": "tag-modify",
    "UntagResource": "tag-modify",
    "ListTagsForResource": "tag-read",
    "DescribeServiceDeployments": "service-deployments",
    "ListServiceDeployments": "service-deployments",
}
