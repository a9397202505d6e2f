"""ECS Canary Deploy and Canary Delete against the sandbox, alone and in the default canary pipeline."""

from __future__ import annotations

from typing import Any
from unittest.mock import ANY

import pytest

from corral.ecs.canary import (
    CanaryDeleteOptions,
    CanaryDeployOptions,
    canary_delete,
    canary_deploy,
    canary_rollback,
)
from corral.ecs.context import OwnDeployments, StepContext
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy, rolling_rollback
from corral.errors import DeploymentError
from corral.step_log import LogLine, StepLog

from .support import FAILURES, EcsEnv, assert_same, snapshot

pytestmark = pytest.mark.sandbox(speed=200)


def live(env: EcsEnv, image: str = "web:1", **changes: Any) -> Any:
    settings: dict[str, Any] = {"load_balancer": env.alb().groups[0], "tags": {"team": "payments"}}
    return env.target("web", image, **{**settings, **changes})


def test_canary_deploy_runs_one_task_of_the_release_beside_the_service(env: EcsEnv) -> None:
    registry = env.cloud_map_service("web")
    env.create_live_service(live(env, registry=registry))
    before = snapshot(env, "web")
    ctx = env.context()

    result = canary_deploy(ctx, live(env, "web:2", registry=registry), CanaryDeployOptions())

    canary = env.describe("webCanary")
    assert canary is not None and canary["status"] == "ACTIVE"
    assert canary["desiredCount"] == canary["runningCount"] == 1
    assert canary["taskDefinition"].endswith("task-definition/web:2")
    assert canary["loadBalancers"] == before["service"]["loadBalancers"]
    assert {t["key"]: t["value"] for t in canary["tags"]} == {"team": "payments"}
    after = snapshot(env, "web")
    group = env.alb().groups[0]
    assert after["healthyTargets"] == {group: 3}  # the canary takes its share of the traffic
    assert after["cloudMapInstances"] == {registry: 3}
    before["healthyTargets"], before["cloudMapInstances"] = (
        after["healthyTargets"],
        after["cloudMapInstances"],
    )
    assert_same(before, after)  # the service itself is untouched

    assert result.outputs["canaryServiceName"] == result.outputs["serviceName"] == "webCanary"
    assert result.outputs["taskDefinitionArn"] == canary["taskDefinition"]
    assert len(result.outputs["instances"]) == 1
    marks = {"ecsDeployments": {"started": [result.outputs["deploymentId"]], "starting": [ANY]}}
    assert (
        result.checkpoint
        == env.checkpoint
        == {"cluster": env.cluster, "canaryServiceName": "webCanary", **marks}
    )
    log = ctx.log.text()
    assert (
        f"Creating Service webCanary with task definition {canary['taskDefinition']} and desired count 1"
        in log
    )
    assert "Service webCanary reached steady state" in log and "Deployment Successful." in log


class Crash(Exception):
    """The step's process dying right after it journaled the deployment it started."""


def test_a_re_run_after_a_crash_keeps_the_canary_its_first_attempt_created(env: EcsEnv) -> None:
    env.create_live_service(live(env))

    def checkpoint_then_die(data: dict[str, Any]) -> None:
        env.checkpoints.append(data)
        if data.get("ecsDeployments", {}).get("started"):  # CreateService answered and journaled
            raise Crash

    with pytest.raises(Crash):
        canary_deploy(
            StepContext.with_timeout(env.clients, 60, checkpoint=checkpoint_then_die),
            live(env, "web:2"),
            CanaryDeployOptions(),
        )
    first = env.checkpoint
    seq = env.admin.last_call()

    result = canary_deploy(
        env.context(own=OwnDeployments.merged(first["ecsDeployments"])),
        live(env, "web:2"),
        CanaryDeployOptions(),
    )

    made = [
        c["operation"] for c in env.admin.calls(seq) if c["operation"] in ("CreateService", "DeleteService")
    ]
    assert made == []  # not deleted and created again
    assert [result.outputs["deploymentId"]] == first["ecsDeployments"]["started"]
    canary = env.describe("webCanary")
    assert canary is not None and canary["status"] == "ACTIVE" and canary["runningCount"] == 1


def test_canary_size_is_an_option(env: EcsEnv) -> None:
    result = canary_deploy(env.context(), live(env), CanaryDeployOptions(desired_count=2))

    assert len(result.outputs["instances"]) == 2


def test_a_canary_left_from_before_is_deleted_first(env: EcsEnv) -> None:
    first = canary_deploy(env.context(), live(env, "web:1"), CanaryDeployOptions())
    ctx = env.context()

    second = canary_deploy(ctx, live(env, "web:2"), CanaryDeployOptions())

    assert second.outputs["deploymentId"] != first.outputs["deploymentId"]
    log = ctx.log.text()
    assert "Deleting service webCanary.." in log
    assert log.index("Existing Service webCanary reached inactive state") < log.index(
        "Creating Service webCanary"
    )
    canary = env.describe("webCanary")
    assert canary is not None and canary["taskDefinition"] == second.outputs["taskDefinitionArn"]


def test_canary_delete_removes_the_canary_and_its_targets(env: EcsEnv) -> None:
    env.create_live_service(live(env))
    canary_deploy(env.context(), live(env, "web:2"), CanaryDeployOptions())
    ctx = env.context()

    result = canary_delete(ctx, live(env, "web:2"), CanaryDeleteOptions())

    assert result.outputs == {"canaryDeleted": True, "canaryServiceName": "webCanary"}
    canary = env.describe("webCanary")
    assert canary is not None and canary["status"] == "INACTIVE"
    assert snapshot(env, "web")["healthyTargets"] == {env.alb().groups[0]: 2}
    for line in (
        "Deleting service webCanary..",
        "Waiting for existing Service webCanary to reach inactive state",
        "Existing Service webCanary reached inactive state",
        "Canary service webCanary deleted",
    ):
        assert line in ctx.log.text()


def test_canary_delete_without_a_canary_reports_nothing_deleted(env: EcsEnv) -> None:
    result = canary_delete(env.context(), live(env), CanaryDeleteOptions())

    assert result.outputs == {"canaryDeleted": False, "canaryServiceName": "webCanary"}


def test_the_default_canary_pipeline_and_its_rollback(env: EcsEnv) -> None:
    env.create_live_service(live(env))
    before = snapshot(env, "web")
    release = live(env, "web:2")

    canary = canary_deploy(env.context(), release, CanaryDeployOptions())
    canary_delete(env.context(), release, CanaryDeleteOptions())
    rolled = rolling_deploy(env.context(), release, RollingDeployOptions())
    rolling_data = env.checkpoint

    # the rolling deploy reuses the revision the canary registered
    assert rolled.outputs["taskDefinitionArn"] == canary.outputs["taskDefinitionArn"]
    assert len(env.revisions("web")) == 2
    # rollback: Canary Delete, then Rolling Rollback
    canary_rollback(env.context(), release, canary.checkpoint)
    rolling_rollback(env.context(), release, rolling_data)
    assert_same(before, snapshot(env, "web"))


def test_a_daemon_service_has_no_canary(ec2_env: EcsEnv) -> None:
    target = ec2_env.target("agent", "agent:1", desired=None, schedulingStrategy="DAEMON", launchType="EC2")

    with pytest.raises(DeploymentError, match="DAEMON service"):
        canary_deploy(ec2_env.context(), target, CanaryDeployOptions())


@pytest.mark.parametrize("case", list(FAILURES), ids=list(FAILURES))
def test_a_failed_canary_fails_with_the_reason_and_its_rollback_leaves_the_service_as_it_was(
    env: EcsEnv, case: str
) -> None:
    failure = FAILURES[case]
    env.create_live_service(live(env, health_check=True))
    before = snapshot(env, "web")
    env.admin.set_images({"image": "web:2", **failure.image})
    release = live(env, "web:2", health_check=True, circuit_breaker=failure.circuit_breaker)

    ctx = env.context(timeout=failure.timeout)
    with pytest.raises(failure.error) as raised:
        canary_deploy(ctx, release, CanaryDeployOptions())

    for reason in failure.reasons:
        assert reason in str(raised.value)
    assert "Deployment Successful." not in ctx.log.text()

    result = canary_rollback(env.context(), release, env.checkpoint)

    assert result.outputs["canaryServiceName"] == "webCanary"
    assert snapshot(env, "webCanary")["service"]["status"] in ("INACTIVE", "MISSING")
    assert_same(before, snapshot(env, "web"))


def test_a_throttling_storm_does_not_fail_the_canary(env: EcsEnv) -> None:
    env.create_live_service(live(env))
    env.admin.clear_calls()
    env.admin.set_images({"image": "web:2", "startDelay": 100})

    def storm(line: LogLine) -> None:
        if line.message.startswith(("Waiting for Service", "Deleting service", "A rollback deletes")):
            env.admin.add_fault("throttle", service="ecs", operation="DescribeServices", count=3)

    canary_deploy(env.context(log=StepLog(sink=storm)), live(env, "web:2"), CanaryDeployOptions())

    throttled = [c for c in env.admin.calls() if c["outcome"] == "ThrottlingException"]
    assert len(throttled) == 6
    canary = env.describe("webCanary")
    assert canary is not None and canary["runningCount"] == 1
