"""Deployment states against the ECS API Reference (aws_fixtures/deployment_states.yaml): a rolling
deployment's rolloutState starts IN_PROGRESS and ends COMPLETED or FAILED, deployments are PRIMARY,
ACTIVE or INACTIVE, and a native service deployment moves through its lifecycle stages in the
documented order. States are sampled through DescribeServices / DescribeServiceDeployments while the
deployments run."""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from typing import Any

import pytest

from corral.sandbox import Sandbox

from .aws_fixture_data import entry
from .helpers import wait_until
from .test_ecs_blue_green import blue_service, deploy
from .test_ecs_native_support import describe_deployment
from .test_ecs_support import FAST_HEALTH_CHECK, describe, fargate_definition, fargate_service, task_ids


class States:
    """Each deployment's rolloutState and status as seen, in order, repeats left out."""

    def __init__(self) -> None:
        self.rollout: dict[str, list[str]] = defaultdict(list)
        self.status: set[str] = set()

    def see(self, service: dict[str, Any]) -> dict[str, Any]:
        for deployment in service["deployments"]:
            seen = self.rollout[deployment["id"]]
            if not seen or seen[-1] != deployment["rolloutState"]:
                seen.append(deployment["rolloutState"])
            self.status.add(deployment["status"])
        return service


def follows(sequence: list[str], order: list[str]) -> bool:
    positions = [order.index(item) for item in sequence]
    return positions == sorted(positions)


@pytest.mark.sandbox(speed=50, throttling=False)
def test_rollout_states_go_as_documented(sandbox: Sandbox) -> None:
    rollout = entry("deployment_states", "rollout-state")
    sandbox.admin.set_images({"image": "web:broken", "healthCheck": "fail"})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    states = States()

    def settled(definition: str, rollout_state: str) -> dict[str, Any] | None:
        primary = states.see(describe(ecs, "apps", "web"))["deployments"][0]
        return (
            primary
            if (primary["taskDefinition"], primary["rolloutState"]) == (definition, rollout_state)
            else None
        )

    good = fargate_definition(ecs, "web", "web:1", health_check=FAST_HEALTH_CHECK)
    states.see(fargate_service(ecs, "apps", "web", good, 2))
    wait_until(lambda: settled(good, "COMPLETED"), message="the first deployment COMPLETED")
    broken = fargate_definition(ecs, "web", "web:broken", health_check=FAST_HEALTH_CHECK)
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": False}}
    states.see(
        ecs.update_service(
            cluster="apps", service="web", taskDefinition=broken, deploymentConfiguration=breaker
        )["service"]
    )
    failed = wait_until(lambda: settled(broken, "FAILED"), message="the broken deployment FAILED")
    launched = len(task_ids(ecs, "apps", startedBy=failed["id"], desiredStatus="STOPPED"))
    sandbox.admin.advance(600)
    # "A deployment in FAILED state doesn't launch any new tasks."
    assert task_ids(ecs, "apps", startedBy=failed["id"]) == []
    assert len(task_ids(ecs, "apps", startedBy=failed["id"], desiredStatus="STOPPED")) == launched
    fixed = fargate_definition(ecs, "web", "web:2", health_check=FAST_HEALTH_CHECK)
    states.see(ecs.update_service(cluster="apps", service="web", taskDefinition=fixed)["service"])
    wait_until(lambda: settled(fixed, "COMPLETED"), message="the fixed deployment COMPLETED")

    assert len(states.rollout) == 3
    for deployment, seen in states.rollout.items():
        assert set(seen) <= set(rollout["values"]), seen
        assert seen[0] == rollout["first"], (deployment, seen)
        for before, after in itertools.pairwise(seen):
            assert after in rollout["transitions"].get(before, []), (deployment, seen)
    assert sorted(seen[-1] for seen in states.rollout.values()) == ["COMPLETED", "COMPLETED", "FAILED"]
    assert states.status <= set(entry("deployment_states", "deployment-status")["values"])
    assert {"PRIMARY", "ACTIVE"} <= states.status


@pytest.mark.sandbox(speed=50, throttling=False)
def test_a_blue_green_deployment_goes_through_the_stages_in_order(sandbox: Sandbox) -> None:
    stages = entry("deployment_states", "lifecycle-stages")["order"]
    statuses = entry("deployment_states", "service-deployment-status")["values"]
    ecs, _, _ = blue_service(sandbox, bakeTimeInMinutes=1)
    _, arn = deploy(ecs, "web:2")
    seen_stages: list[str] = []
    seen_statuses: list[str] = []

    def successful() -> bool:
        found = describe_deployment(ecs, arn)
        for seen, value in ((seen_stages, found.get("lifecycleStage")), (seen_statuses, found["status"])):
            if value and (not seen or seen[-1] != value):
                seen.append(value)
        return found["status"] == "SUCCESSFUL"

    wait_until(successful, timeout=60, interval=0.01, message="the blue/green deployment SUCCESSFUL")
    assert set(seen_statuses) <= set(statuses) and seen_statuses[-1] == "SUCCESSFUL", seen_statuses
    assert set(seen_stages) <= set(stages), seen_stages
    assert follows(seen_stages, stages), seen_stages
    assert {"BAKE_TIME", "CLEAN_UP"} <= set(seen_stages), "a minute of bake time is seen, then the clean-up"


@pytest.mark.sandbox(speed=50, throttling=False)
def test_the_circuit_breaker_threshold_follows_the_documented_formula(sandbox: Sandbox) -> None:
    rule = entry("deployment_states", "circuit-breaker-threshold")
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    sandbox.admin.set_images({"image": "web:slow", "startDelay": 600})  # tasks stay PENDING: cheap
    definition = fargate_definition(ecs, "web", "web:slow")
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    for desired in (2, 7):  # 3 (the minimum), 4 (3.5 rounded up)
        name = f"web-{desired}"
        arn = fargate_service(ecs, "apps", name, definition, desired, deploymentConfiguration=breaker)[
            "currentServiceDeployment"
        ]
        shown = describe_deployment(ecs, arn)["deploymentCircuitBreaker"]
        assert rule["rounding"] == "up"
        expected = min(rule["maximum"], max(rule["minimum"], math.ceil(rule["factor"] * desired)))
        assert shown["threshold"] == expected, (desired, shown)
        assert shown["status"] in rule["statuses"]
