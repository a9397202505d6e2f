"""The shared poller: one batched DescribeServices per 10 watched services, each waiter woken by its own service."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from corral.aws.clients import Clients
from corral.aws.poller import PollPolicy, ServicePoller, TaskPoller, cluster_name
from corral.aws.retry import Aborted
from corral.sandbox import Sandbox

from .conftest import make_cluster, make_service, wait_until

SERVICES = 20


def describe_calls(sandbox: Sandbox, since: int = 0) -> int:
    return sum(1 for c in sandbox.admin.calls(since) if c["operation"] == "DescribeServices")


@pytest.mark.sandbox(throttling=False)
def test_twenty_waiters_share_one_poller_and_each_wakes_on_its_own_service(
    sandbox: Sandbox, clients: Clients
) -> None:
    ecs = make_cluster(sandbox, "shared")
    # service i's task starts 1 s + 0.1 s * i (real time at speed 50) after it is created
    sandbox.admin.set_images(*({"image": f"app:{i}", "startDelay": 50 + 5 * i} for i in range(SERVICES)))
    names = [f"svc-{i:02d}" for i in range(SERVICES)]
    for i, name in enumerate(names):
        make_service(ecs, "shared", name, f"app:{i}")
    poller = ServicePoller.for_cluster(clients, "shared")
    start = sandbox.admin.last_call()
    evaluations = dict.fromkeys(names, 0)

    def wait_for(name: str) -> dict[str, object]:
        def running(service: dict[str, object]) -> bool:
            evaluations[name] += 1
            return service.get("runningCount") == 1

        with poller.watch(name) as watch:
            return watch.wait(running, deadline=time.monotonic() + 20)

    with ThreadPoolExecutor(max_workers=SERVICES) as pool:
        answers = list(pool.map(wait_for, names))

    assert [a["serviceName"] for a in answers] == names
    assert all(a["runningCount"] == 1 for a in answers)
    calls = describe_calls(sandbox, start)
    assert calls == poller.calls, "every DescribeServices of the test came from the one poller"
    assert calls <= 2 * poller.rounds, "20 services cost at most 2 calls a round"
    # each waiter slept through the other services' changes: it looked at its own few changes only
    assert max(evaluations.values()) <= 4, evaluations
    wait_until(lambda: not poller.polling)


def test_missing_services_are_reported_as_such(sandbox: Sandbox, clients: Clients) -> None:
    make_cluster(sandbox, "c1")
    with ServicePoller.for_cluster(clients, "c1").watch("ghost") as watch:
        found = watch.wait(lambda s: s["status"] == "MISSING", deadline=time.monotonic() + 10)
    assert found == {"status": "MISSING"}


def test_a_missing_cluster_surfaces_the_aws_error(sandbox: Sandbox, clients: Clients) -> None:
    with (
        ServicePoller.for_cluster(clients, "nope").watch("web") as watch,
        pytest.raises(ClientError) as raised,
    ):
        watch.wait(lambda s: True, deadline=time.monotonic() + 10)
    assert raised.value.response["Error"]["Code"] == "ClusterNotFoundException"


def test_deadline_and_abort(sandbox: Sandbox, clients: Clients) -> None:
    ecs = make_cluster(sandbox, "c1")
    make_service(ecs, "c1", "web", "web:1")
    poller = ServicePoller.for_cluster(clients, "c1")
    with poller.watch("web") as watch:
        with pytest.raises(TimeoutError, match="web in cluster c1"):
            watch.wait(lambda s: s["status"] == "INACTIVE", deadline=time.monotonic() + 0.3)
        stop = threading.Event()
        threading.Timer(0.2, stop.set).start()
        with pytest.raises(Aborted):
            watch.wait(lambda s: False, abort=stop)
        assert watch.latest() is not None and watch.latest()["serviceName"] == "web"  # type: ignore[index]


def test_the_thread_runs_only_while_something_is_watched(sandbox: Sandbox, clients: Clients) -> None:
    make_cluster(sandbox, "c1")
    poller = ServicePoller.for_cluster(clients, "arn:aws:ecs:us-east-1:123456789012:cluster/c1")
    assert poller is ServicePoller.for_cluster(clients, "c1"), "one poller per cluster, by name or ARN"
    assert poller is not ServicePoller.for_cluster(clients, "c2")
    assert not poller.polling
    first, second = poller.watch("a"), poller.watch("a")
    assert poller.polling and poller.watched() == ["a"], "two watches of one service share its entry"
    # this poller's own thread: a poller of an earlier test (same cluster name, a sandbox now gone)
    # may still be retrying its last round under the same thread name
    thread = poller._thread
    assert thread is not None and thread.name == "corral-service-poller-c1"
    first.close()
    assert poller.polling
    second.close()
    wait_until(lambda: not poller.polling)
    wait_until(lambda: not thread.is_alive())
    with poller.watch("b") as watch:
        assert poller.polling
        assert watch.wait(lambda s: True, deadline=time.monotonic() + 10) == {"status": "MISSING"}


def test_waits_look_at_fresh_answers_and_hints_bring_rounds_forward(
    sandbox: Sandbox, clients: Clients
) -> None:
    ecs = make_cluster(sandbox, "quiet")
    make_service(ecs, "quiet", "web", "web:1")
    slow = PollPolicy(fast=60, slowest=60, min_gap=0.01)  # without a request, no second round for a minute
    poller = ServicePoller.for_cluster(clients, "quiet", policy=slow)
    with poller.watch("web") as watch:
        wait_until(lambda: poller.rounds == 1)
        watch.wait(lambda s: True, deadline=time.monotonic() + 10)
        assert poller.rounds == 2, "a wait only accepts a description fetched after it began"
        watch.hint_soon(0.05)
        wait_until(lambda: poller.rounds == 3)


def test_the_interval_grows_while_nothing_changes(sandbox: Sandbox, clients: Clients) -> None:
    ecs = make_cluster(sandbox, "quiet")
    make_service(ecs, "quiet", "web", "web:1")
    policy = PollPolicy(fast=0.01, growth=2, slowest=0.16, min_gap=0.0)
    poller = ServicePoller.for_cluster(clients, "quiet", policy=policy)
    with poller.watch("web") as watch:
        watch.wait(lambda s: s["runningCount"] == 1, deadline=time.monotonic() + 10)
        wait_until(lambda: poller.interval == 0.16)


def test_task_poller_waits_for_standalone_tasks(sandbox: Sandbox, clients: Clients) -> None:
    ecs = make_cluster(sandbox, "jobs")
    sandbox.admin.set_images({"image": "job:ok", "exitCode": 0, "exitAfter": 5})
    definition = ecs.register_task_definition(
        family="job",
        containerDefinitions=[{"name": "job", "image": "job:ok", "memory": 32, "essential": True}],
    )["taskDefinition"]["taskDefinitionArn"]
    arns = [t["taskArn"] for t in ecs.run_task(cluster="jobs", taskDefinition=definition, count=3)["tasks"]]
    ghost = "arn:aws:ecs:us-east-1:123456789012:task/jobs/0123456789abcdef0123456789abcdef"
    poller = TaskPoller.for_cluster(clients, "jobs")
    start = sandbox.admin.last_call()

    def wait_for(arn: str) -> dict[str, object]:
        with poller.watch(arn) as watch:
            return watch.wait(
                lambda t: t["lastStatus"] in ("STOPPED", "MISSING"), deadline=time.monotonic() + 10
            )

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(wait_for, [*arns, ghost]))
    assert [a["containers"][0]["exitCode"] for a in answers[:3]] == [0, 0, 0]  # type: ignore[index]
    assert answers[3] == {"lastStatus": "MISSING"}
    calls = sum(1 for c in sandbox.admin.calls(start) if c["operation"] == "DescribeTasks")
    assert calls == poller.calls <= poller.rounds, "one DescribeTasks a round for all four"


def test_cluster_names() -> None:
    assert cluster_name("arn:aws:ecs:eu-west-1:111122223333:cluster/prod") == "prod"
    assert cluster_name("prod") == "prod"
    assert cluster_name(None) == "default"
