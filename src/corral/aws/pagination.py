"""Listing and describing ECS tasks over all pages, in the API's chunks.

ListTasks answers at most 100 ARNs a page and DescribeTasks takes at most 100 tasks a call; tools
that forget either stop seeing tasks past the hundredth. These helpers do both:

    tasks = list_service_tasks(clients, "prod", "web", "RUNNING")

Tasks that stop and disappear between the listing and the describing are left out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from .clients import Clients

T = TypeVar("T")

LIST_TASKS_PAGE = 100
DESCRIBE_TASKS_CHUNK = 100
DESCRIBE_SERVICES_CHUNK = 10
DESCRIBE_SERVICE_DEPLOYMENTS_CHUNK = 20  # DescribeServiceDeployments takes at most 20 ARNs


def chunked(items: Sequence[T], size: int) -> Iterator[list[T]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


def list_task_arns(
    clients: Clients,
    cluster: str,
    *,
    service: str | None = None,
    family: str | None = None,
    started_by: str | None = None,
    desired_status: str = "RUNNING",
) -> list[str]:
    """Every task ARN ListTasks has for these filters, over all pages."""
    params: dict[str, Any] = {"cluster": cluster, "desiredStatus": desired_status}
    if service is not None:
        params["serviceName"] = service
    if family is not None:
        params["family"] = family
    if started_by is not None:
        params["startedBy"] = started_by
    arns: list[str] = []
    while True:
        page = clients.ecs.list_tasks(maxResults=LIST_TASKS_PAGE, **params)
        arns.extend(page.get("taskArns", []))
        token = page.get("nextToken")
        if not token:
            return arns
        params["nextToken"] = token


def describe_tasks(
    clients: Clients, cluster: str, task_arns: Sequence[str], *, include: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """DescribeTasks in chunks of 100, in the order given; tasks ECS no longer knows are left out."""
    tasks: list[dict[str, Any]] = []
    for chunk in chunked(list(dict.fromkeys(task_arns)), DESCRIBE_TASKS_CHUNK):
        params: dict[str, Any] = {"cluster": cluster, "tasks": chunk}
        if include:
            params["include"] = list(include)
        tasks.extend(clients.ecs.describe_tasks(**params).get("tasks", []))
    return tasks


def list_service_tasks(
    clients: Clients, cluster: str, service: str, desired_status: str = "RUNNING"
) -> list[dict[str, Any]]:
    """The described tasks of one service with this desired status (RUNNING, PENDING or STOPPED)."""
    arns = list_task_arns(clients, cluster, service=service, desired_status=desired_status)
    return describe_tasks(clients, cluster, arns)
