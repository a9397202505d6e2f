"""Service event messages (DescribeServices `events`) against the ECS Developer Guide's "service event
messages" and "service throttle logic" pages and the AWS CLI reference's example output
(aws_fixtures/service_event_messages.yaml)."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from corral.sandbox import Sandbox

from .aws_fixture_data import entry, fill
from .helpers import wait_until
from .test_ecs_support import (
    describe,
    ec2_definition,
    fargate_definition,
    fargate_service,
    messages,
    wait_completed,
)


def documented(entry_id: str, key: str = "template", **values: str) -> str:
    return fill(entry("service_event_messages", entry_id)[key], service="web", **values)


@pytest.fixture
def ecs(sandbox: Sandbox) -> Any:
    client = sandbox.client("ecs")
    client.create_cluster(clusterName="apps")
    return client


def starts(service: dict[str, Any]) -> list[float]:
    """Sandbox times of the "has started" events, oldest first."""
    return sorted(
        e["createdAt"].timestamp() for e in service["events"] if "has started 1 tasks" in e["message"]
    )


def test_every_message_has_the_api_prefix_and_steady_state_reads_as_documented(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", definition, 2)
    wait_completed(ecs, "apps", "web", definition)
    steady = documented("steady-state")
    service = wait_until(lambda: steady in messages(s := describe(ecs, "apps", "web")) and s, message=steady)
    prefix = documented("api-prefix", "prefix")
    assert all(m.startswith(prefix) for m in messages(service)), messages(service)


def test_bounds_that_allow_nothing_are_reported_as_documented(ecs: Any) -> None:
    first = fargate_definition(ecs, "web", "web:1")
    bounds = {"minimumHealthyPercent": 100, "maximumPercent": 100}
    fargate_service(ecs, "apps", "web", first, 2, deploymentConfiguration=bounds)
    wait_completed(ecs, "apps", "web", first)
    ecs.update_service(cluster="apps", service="web", taskDefinition=fargate_definition(ecs, "web", "web:2"))
    stuck = documented("deployment-configuration")
    wait_until(lambda: stuck in messages(describe(ecs, "apps", "web")), message=stuck)


def test_no_container_instance_is_reported_as_documented(ecs: Any) -> None:
    ecs.create_service(
        cluster="apps", serviceName="web", taskDefinition=ec2_definition(ecs, "web", "web:1"), desiredCount=1
    )
    placed = documented("no-container-instance", "starts_with")
    wait_until(
        lambda: any(m.startswith(placed) for m in messages(describe(ecs, "apps", "web"))), message=placed
    )


@pytest.mark.sandbox(speed=50)
def test_tasks_that_never_start_are_retried_at_most_15_minutes_apart(sandbox: Sandbox, ecs: Any) -> None:
    logic = entry("service_event_messages", "throttle-logic")
    sandbox.admin.set_images({"image": "web:missing", "pullFailure": "pull access denied for web"})
    fargate_service(ecs, "apps", "web", fargate_definition(ecs, "web", "web:missing"), 1)
    impaired = documented("unable-to-consistently-start")
    wait_until(lambda: impaired in messages(describe(ecs, "apps", "web")), message=impaired)
    sandbox.admin.advance(3 * 3600)

    service = describe(ecs, "apps", "web")
    assert any(m.startswith(documented("unable-to-place-reason", "starts_with")) for m in messages(service))
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts(service))]
    pull = min(gaps)  # the first retries come as soon as the pull has failed
    longest = max(gaps)
    limit = logic["max_retry_interval_minutes"] * 60
    assert limit <= longest <= limit + pull + 1, f"the wait grows to {limit} s and no further: {gaps}"
    assert gaps == sorted(gaps), "the wait only grows"


@pytest.mark.sandbox(speed=50)
def test_tasks_that_stop_after_running_do_not_start_the_throttle_logic(sandbox: Sandbox, ecs: Any) -> None:
    assert entry("service_event_messages", "throttle-logic")["running_then_stopped_throttles"] is False
    sandbox.admin.set_images({"image": "web:exits", "exitCode": 1, "exitAfter": 1})
    fargate_service(ecs, "apps", "web", fargate_definition(ecs, "web", "web:exits"), 1)
    wait_until(lambda: len(starts(describe(ecs, "apps", "web"))) >= 3, message="three tasks started")
    sandbox.admin.advance(120)

    service = describe(ecs, "apps", "web")
    assert documented("unable-to-consistently-start") not in messages(service)
    gaps = [later - earlier for earlier, later in itertools.pairwise(starts(service))]
    assert len(gaps) >= 5 and max(gaps) < 60, f"replaced without a growing wait: {gaps}"


@pytest.mark.sandbox(speed=50, throttling=False)
def test_the_100_most_recent_events_are_kept(ecs: Any) -> None:
    kept = entry("service_event_messages", "kept")["most_recent"]
    fargate_service(ecs, "apps", "web", fargate_definition(ecs, "web", "web:1"), 0)
    for toggle in range(kept // 2 + 1):  # each scale-out and scale-in is an event
        for desired, event in ((1, "has started 1 tasks"), (0, "has stopped 1 running tasks")):
            ecs.update_service(cluster="apps", service="web", desiredCount=desired)
            wait_until(
                lambda e=event: any(e in m for m in messages(describe(ecs, "apps", "web"))[-3:]),
                interval=0.005,
                message=f"{event} ({toggle})",
            )
    events = describe(ecs, "apps", "web")["events"]
    assert len(events) == kept
    assert any("has stopped 1 running tasks" in e["message"] for e in events[:3]), "the newest are kept"
