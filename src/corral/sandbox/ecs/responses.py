"""ECS API handlers: read the parameters, call the backend, shape the answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ids, service_deployment_operations, service_operations, tagging, views
from .backend import Backend
from .clusters import ACTIVE as CLUSTER_ACTIVE
from .exceptions import ClusterNotFoundException, InvalidParameterException
from .pagination import page
from .services import ACTIVE as SERVICE_ACTIVE
from .task_definitions import ACTIVE as DEFINITION_ACTIVE

Result = dict[str, Any]
ALL_CLUSTER_DETAILS = ["TAGS", "SETTINGS", "CONFIGURATIONS"]
MAX_DESCRIBE_SERVICES = 10
MAX_DESCRIBE_TASKS = 100


def _limit(items: list[Any], name: str, most: int) -> None:
    if not items:
        raise InvalidParameterException(f"{name} cannot be empty.")
    if len(items) > most:
        raise InvalidParameterException(f"{name} can have at most {most} items.")


def _missing(arn: str) -> dict[str, str]:
    return {"arn": arn, "reason": "MISSING"}


# ---------------------------------------------------------------- clusters


def create_cluster(b: Backend, p: Result) -> Result:
    return {"cluster": views.cluster(b.create_cluster(p), ALL_CLUSTER_DETAILS)}


def describe_clusters(b: Backend, p: Result) -> Result:
    found, failures = [], []
    for reference in p.get("clusters") or ["default"]:
        name = ids.short_name(reference)
        try:
            cluster = b.cluster(name) if name == "default" else b.clusters[name]
        except KeyError:
            failures.append(
                _missing(reference if reference.startswith("arn:") else f"{b.arn_prefix}:cluster/{name}")
            )
            continue
        found.append(views.cluster(cluster, p.get("include") or []))
    return {"clusters": found, "failures": failures}


def list_clusters(b: Backend, p: Result) -> Result:
    arns = [c.arn for c in b.clusters.values() if c.status == CLUSTER_ACTIVE]
    chunk, token = page(
        arns, next_token=p.get("nextToken"), max_results=p.get("maxResults"), default=100, limit=100
    )
    return {"clusterArns": chunk, "nextToken": token}


def delete_cluster(b: Backend, p: Result) -> Result:
    return {"cluster": views.cluster(b.delete_cluster(p["cluster"]), ALL_CLUSTER_DETAILS)}


def update_cluster(b: Backend, p: Result) -> Result:
    cluster = b.cluster(p["cluster"])
    if p.get("settings") is not None:
        cluster.settings = p["settings"]
    if p.get("configuration") is not None:
        cluster.configuration = p["configuration"]
    return {"cluster": views.cluster(cluster, ALL_CLUSTER_DETAILS)}


def put_cluster_capacity_providers(b: Backend, p: Result) -> Result:
    cluster = b.cluster(p["cluster"])
    cluster.capacity_providers = list(p.get("capacityProviders") or [])
    cluster.default_strategy = list(p.get("defaultCapacityProviderStrategy") or [])
    return {"cluster": views.cluster(cluster, ALL_CLUSTER_DETAILS)}


def list_container_instances(b: Backend, p: Result) -> Result:
    cluster = b.cluster(p.get("cluster"))
    statuses = [p["status"]] if p.get("status") else ["ACTIVE", "DRAINING"]
    arns = [i.arn for i in cluster.instances.values() if i.status in statuses]
    chunk, token = page(
        arns, next_token=p.get("nextToken"), max_results=p.get("maxResults"), default=100, limit=100
    )
    return {"containerInstanceArns": chunk, "nextToken": token}


def describe_container_instances(b: Backend, p: Result) -> Result:
    cluster = b.cluster(p.get("cluster"))
    references = p.get("containerInstances") or []
    _limit(references, "containerInstances", 100)
    found, failures = [], []
    for reference in references:
        instance = cluster.instances.get(ids.short_name(reference))
        if instance is None:
            failures.append(_missing(reference))
        else:
            found.append(views.container_instance(cluster, instance))
    return {"containerInstances": found, "failures": failures}


# ---------------------------------------------------------------- task definitions


def register_task_definition(b: Backend, p: Result) -> Result:
    definition = b.register_task_definition(p)
    return {"taskDefinition": views.task_definition(definition), "tags": tagging.to_api(definition.tags)}


def describe_task_definition(b: Backend, p: Result) -> Result:
    definition = b.task_definitions.resolve(p["taskDefinition"])
    out: Result = {"taskDefinition": views.task_definition(definition)}
    if "TAGS" in (p.get("include") or []):
        out["tags"] = tagging.to_api(definition.tags)
    return out


def list_task_definitions(b: Backend, p: Result) -> Result:
    status = p.get("status") or DEFINITION_ACTIVE
    found = [
        d
        for d in b.task_definitions.all()
        if d.status == status and (not p.get("familyPrefix") or d.family == p["familyPrefix"])
    ]
    found.sort(key=lambda d: (d.family, d.revision), reverse=p.get("sort") == "DESC")
    arns = [d.arn for d in found]
    chunk, token = page(
        arns, next_token=p.get("nextToken"), max_results=p.get("maxResults"), default=100, limit=100
    )
    return {"taskDefinitionArns": chunk, "nextToken": token}


def list_task_definition_families(b: Backend, p: Result) -> Result:
    status = p.get("status") or "ALL"
    families = []
    for family, revisions in sorted(b.task_definitions.families.items()):
        active = any(d.status == DEFINITION_ACTIVE for d in revisions)
        if p.get("familyPrefix") and not family.startswith(p["familyPrefix"]):
            continue
        if status == "ALL" or (status == "ACTIVE") == active:
            families.append(family)
    chunk, token = page(
        families, next_token=p.get("nextToken"), max_results=p.get("maxResults"), default=100, limit=100
    )
    return {"families": chunk, "nextToken": token}


def deregister_task_definition(b: Backend, p: Result) -> Result:
    return {"taskDefinition": views.task_definition(b.deregister_task_definition(p["taskDefinition"]))}


# ---------------------------------------------------------------- services


def create_service(b: Backend, p: Result) -> Result:
    return {"service": views.service(service_operations.create_service(b, p), ["TAGS"])}


def update_service(b: Backend, p: Result) -> Result:
    return {"service": views.service(service_operations.update_service(b, p), [])}


def delete_service(b: Backend, p: Result) -> Result:
    return {"service": views.service(service_operations.delete_service(b, p), [])}


def describe_services(b: Backend, p: Result) -> Result:
    references = p.get("services") or []
    _limit(references, "services", MAX_DESCRIBE_SERVICES)
    cluster = b.cluster(p.get("cluster"))
    found, failures = [], []
    for reference in references:
        service = cluster.services.get(ids.short_name(reference))
        if service is None:
            name = ids.short_name(reference)
            failures.append(
                _missing(
                    reference
                    if reference.startswith("arn:")
                    else f"{b.arn_prefix}:service/{cluster.name}/{name}"
                )
            )
        else:
            found.append(views.service(service, p.get("include") or []))
    return {"services": found, "failures": failures}


def list_services(b: Backend, p: Result) -> Result:
    cluster = b.cluster(p.get("cluster"))
    found = [s for s in cluster.services.values() if s.status == SERVICE_ACTIVE]
    if p.get("launchType"):
        found = [s for s in found if s.task_launch_type == p["launchType"]]
    if p.get("schedulingStrategy"):
        found = [s for s in found if s.scheduling_strategy == p["schedulingStrategy"]]
    arns = [s.arn for s in found]
    chunk, token = page(
        arns, next_token=p.get("nextToken"), max_results=p.get("maxResults"), default=10, limit=100
    )
    return {"serviceArns": chunk, "nextToken": token}


# ---------------------------------------------------------------- tasks


def run_task(b: Backend, p: Result) -> Result:
    return {"tasks": [views.task(t, ["TAGS"]) for t in b.run_task(p)], "failures": []}


def stop_task(b: Backend, p: Result) -> Result:
    return {"task": views.task(b.stop_task(p), ["TAGS"])}


def describe_tasks(b: Backend, p: Result) -> Result:
    references = p.get("tasks") or []
    _limit(references, "tasks", MAX_DESCRIBE_TASKS)
    cluster = b.cluster(p.get("cluster"))
    found, failures = [], []
    for reference in references:
        task = b.task(cluster, reference)
        if task is None:
            name = ids.short_name(reference)
            failures.append(
                _missing(
                    reference
                    if reference.startswith("arn:")
                    else f"{b.arn_prefix}:task/{cluster.name}/{name}"
                )
            )
        else:
            found.append(views.task(task, p.get("include") or []))
    return {"tasks": found, "failures": failures}


def list_tasks(b: Backend, p: Result) -> Result:
    arns = [t.arn for t in b.list_tasks(p)]
    chunk, token = page(
        arns, next_token=p.get("nextToken"), max_results=p.get("maxResults"), default=100, limit=100
    )
    return {"taskArns": chunk, "nextToken": token}


# ---------------------------------------------------------------- tags


def tag_resource(b: Backend, p: Result) -> Result:
    b.tag_resource(p["resourceArn"], tagging.from_api(p.get("tags")))
    return {}


def untag_resource(b: Backend, p: Result) -> Result:
    resource = b.tagged(p["resourceArn"])
    for key in p.get("tagKeys") or []:
        resource.tags.pop(key, None)
    return {}


def list_tags_for_resource(b: Backend, p: Result) -> Result:
    try:
        resource = b.tagged(p["resourceArn"])
    except ClusterNotFoundException:
        raise
    return {"tags": tagging.to_api(resource.tags)}


OPERATIONS: dict[str, Callable[[Any, dict[str, Any]], dict[str, Any]]] = {
    "CreateCluster": create_cluster,
    "DescribeClusters": describe_clusters,
    "ListClusters": list_clusters,
    "DeleteCluster": delete_cluster,
    "UpdateCluster": update_cluster,
    "UpdateClusterSettings": update_cluster,
    "PutClusterCapacityProviders": put_cluster_capacity_providers,
    "ListContainerInstances": list_container_instances,
    "DescribeContainerInstances": describe_container_instances,
    "RegisterTaskDefinition": register_task_definition,
    "DescribeTaskDefinition": describe_task_definition,
    "ListTaskDefinitions": list_task_definitions,
    "ListTaskDefinitionFamilies": list_task_definition_families,
    "DeregisterTaskDefinition": deregister_task_definition,
    "CreateService": create_service,
    "UpdateService": update_service,
    "DeleteService": delete_service,
    "DescribeServices": describe_services,
    "ListServices": list_services,
    "ListServiceDeployments": service_deployment_operations.list_service_deployments,
    "DescribeServiceDeployments": service_deployment_operations.describe_service_deployments,
    "DescribeServiceRevisions": service_deployment_operations.describe_service_revisions,
    "StopServiceDeployment": service_deployment_operations.stop_service_deployment,
    "ContinueServiceDeployment": service_deployment_operations.continue_service_deployment,
    "RunTask": run_task,
    "StopTask": stop_task,
    "DescribeTasks": describe_tasks,
    "ListTasks": list_tasks,
    "TagResource": tag_resource,
    "UntagResource": untag_resource,
    "ListTagsForResource": list_tags_for_resource,
}
