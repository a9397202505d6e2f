"""Listing and describing a service's tasks past the first hundred."""

from __future__ import annotations

import time

import pytest

from corral.aws.clients import Clients
from corral.aws.pagination import chunked, describe_tasks, list_service_tasks
from corral.aws.poller import ServicePoller
from corral.sandbox import Sandbox

from .conftest import make_cluster, make_service


@pytest.mark.sandbox(throttling=False)
def test_all_tasks_of_a_large_service(sandbox: Sandbox, clients: Clients) -> None:
    ecs = make_cluster(sandbox, "big")
    make_service(ecs, "big", "web", "web:1", desired=150)
    with ServicePoller.for_cluster(clients, "big").watch("web") as watch:
        watch.wait(lambda s: s["runningCount"] == 150, deadline=time.monotonic() + 20)
    start = sandbox.admin.last_call()

    tasks = list_service_tasks(clients, "big", "web", "RUNNING")

    assert len({t["taskArn"] for t in tasks}) == 150
    assert {t["lastStatus"] for t in tasks} == {"RUNNING"}
    operations = [c["operation"] for c in sandbox.admin.calls(start)]
    assert operations == ["ListTasks", "ListTasks", "DescribeTasks", "DescribeTasks"]
    assert list_service_tasks(clients, "big", "web", "STOPPED") == []


def test_describe_tasks_leaves_out_unknown_tasks(sandbox: Sandbox, clients: Clients) -> None:
    make_cluster(sandbox, "c1")
    assert describe_tasks(clients, "c1", ["0123456789abcdef0123456789abcdef"]) == []


def test_chunked() -> None:
    assert list(chunked(list(range(25)), 10)) == [list(range(10)), list(range(10, 20)), list(range(20, 25))]
    assert list(chunked([], 10)) == []
