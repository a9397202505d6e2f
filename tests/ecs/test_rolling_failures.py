"""Rolling deploys that fail: the step fails with ECS's reason, and the rollback step returns the
service to exactly what it was (settings, deployment, tags, autoscaling, load balancer targets)."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest

from corral.aws.budget import RateBudget
from corral.aws.clients import AwsSettings, Clients
from corral.ecs.context import StepAborted, StepContext
from corral.ecs.rolling import RollingDeployOptions, rolling_deploy, rolling_rollback
from corral.ecs.target import EcsTarget
from corral.errors import DeploymentError
from corral.step_log import LogLine, StepLog

from .support import FAILURES, EcsEnv, assert_same, cpu_policy, scalable_target, snapshot

pytestmark = pytest.mark.sandbox(speed=200)


def live_service(env: EcsEnv, **changes: Any) -> Any:
    """web:1 behind the ALB, with tags and autoscaling; `changes` make the release under test."""
    settings: dict[str, Any] = {
        "load_balancer": env.alb().groups[0],
        "tags": {"team": "payments"},
        "health_check": True,
        "desired": 2,
    }
    return env.target("web", "web:1", **{**settings, **changes})


@pytest.mark.parametrize("case", list(FAILURES), ids=list(FAILURES))
def test_a_failed_rolling_deploy_fails_with_the_reason_and_rolls_back_to_the_snapshot(
    env: EcsEnv, case: str
) -> None:
    failure = FAILURES[case]
    env.create_live_service(
        live_service(env, circuit_breaker=(False, False)),
        scalable_targets=[scalable_target(1, 4)],
        scaling_policies=[cpu_policy()],
    )
    before = snapshot(env, "web")
    env.admin.set_images({"image": "web:2", **failure.image})
    release = live_service(
        env, tags={"team": "payments", "release": "2"}, circuit_breaker=failure.circuit_breaker
    )
    release.task_definition["containerDefinitions"][0]["image"] = "web:2"  # type: ignore[index]

    ctx = env.context(timeout=failure.timeout)
    with pytest.raises(failure.error) as raised:
        rolling_deploy(ctx, release, RollingDeployOptions())

    message = str(raised.value)
    for reason in failure.reasons:
        assert reason in message
    assert "Deployment Successful." not in ctx.log.text()
    assert "Traceback" not in message

    rolling_rollback(env.context(), release, env.checkpoint)

    assert_same(before, snapshot(env, "web"))


def test_a_circuit_breaker_rollback_by_ecs_is_reported_as_a_failure(env: EcsEnv) -> None:
    env.create_live_service(live_service(env, circuit_breaker=(True, True)))
    env.admin.set_images({"image": "web:2", "healthCheck": "fail"})
    release = live_service(env, circuit_breaker=(True, True))
    release.task_definition["containerDefinitions"][0]["image"] = "web:2"  # type: ignore[index]

    with pytest.raises(DeploymentError, match="circuit breaker"):
        rolling_deploy(env.context(), release, RollingDeployOptions())

    # ECS itself goes back to web:1 and reports COMPLETED there: still not our success
    service = env.wait_steady("web", env.revisions("web")[0])
    assert any("rolling back to deployment" in e["message"] for e in service["events"])


def test_a_throttling_storm_does_not_fail_the_deploy(env: EcsEnv) -> None:
    env.create_live_service(live_service(env))
    env.admin.clear_calls()
    env.admin.set_images({"image": "web:2", "startDelay": 100})  # a deploy long enough to poll a while
    release = live_service(env)
    release.task_definition["containerDefinitions"][0]["image"] = "web:2"  # type: ignore[index]

    def throttle() -> None:
        env.admin.add_fault("throttle", service="ecs", operation="DescribeServices", count=4)

    def storm(line: LogLine) -> None:
        if line.message.startswith("Waiting for Service"):
            throttle()  # ... and again once it waits for the deployment

    throttle()  # ECS throttles every read before the step starts ...
    ctx = env.context(log=StepLog(sink=storm))
    result = rolling_deploy(ctx, release, RollingDeployOptions())

    throttled = [c for c in env.admin.calls() if c["outcome"] == "ThrottlingException"]
    assert len(throttled) == 8
    service = env.describe("web")
    assert service is not None and service["taskDefinition"] == result.outputs["taskDefinitionArn"]
    assert result.outputs["taskDefinitionArn"].endswith(":2")


def test_an_aborted_deploy_is_rolled_back_from_its_journaled_data_alone(env: EcsEnv) -> None:
    env.create_live_service(
        live_service(env), scalable_targets=[scalable_target(1, 4)], scaling_policies=[cpu_policy()]
    )
    before = snapshot(env, "web")
    env.admin.set_images({"image": "web:2", "startDelay": 3000})  # never ready
    release = live_service(env, tags={"team": "other"})
    release.task_definition["containerDefinitions"][0]["image"] = "web:2"  # type: ignore[index]
    abort = threading.Event()

    def press_abort(line: LogLine) -> None:
        if line.message.startswith("Waiting for Service"):
            abort.set()

    with pytest.raises(StepAborted):
        rolling_deploy(
            env.context(abort=abort, log=StepLog(sink=press_abort)), release, RollingDeployOptions()
        )
    journal = json.dumps(env.checkpoint)

    # a new process: new clients, nothing but the journal and the cluster
    settings = AwsSettings(
        region="us-east-1", endpoint_url=env.sandbox.endpoint_url, access_key_id="k", secret_access_key="s"
    )
    ctx = StepContext.with_timeout(Clients(settings, budget=RateBudget()), 60)
    rolling_rollback(ctx, EcsTarget(cluster=env.cluster), json.loads(journal))

    assert_same(before, snapshot(env, "web"))


def test_a_failed_first_deployment_is_rolled_back_by_deleting_the_service(env: EcsEnv) -> None:
    env.admin.set_images({"image": "web:1", "healthCheck": "fail"})
    target = live_service(env, scalable_targets=[scalable_target(1, 4)])

    with pytest.raises(DeploymentError, match="Task failed container health checks"):
        rolling_deploy(env.context(), target, RollingDeployOptions())
    assert env.checkpoint["exists"] is False

    result = rolling_rollback(env.context(), target, env.checkpoint)

    assert result.outputs == {"serviceName": "web", "serviceDeleted": True}
    state = snapshot(env, "web")
    assert state == {
        "service": {"status": "INACTIVE"},
        "scalableTargets": [],
        "scalingPolicies": [],
        "scheduledActions": [],
    }


def test_dropped_connections_and_server_errors_on_changes_are_retried(env: EcsEnv) -> None:
    env.admin.add_fault("drop", service="ecs", operation="CreateService", count=1)
    env.admin.add_fault("error", service="ecs", operation="RegisterTaskDefinition", status=503, count=2)
    target = live_service(env)

    first = rolling_deploy(env.context(), target, RollingDeployOptions())
    env.admin.add_fault("drop", service="ecs", operation="UpdateService", count=1)
    target.task_definition["containerDefinitions"][0]["image"] = "web:2"  # type: ignore[index]
    second = rolling_deploy(env.context(), target, RollingDeployOptions())

    outcomes = [(c["operation"], c["outcome"]) for c in env.admin.calls()]
    assert ("CreateService", "dropped") in outcomes and ("UpdateService", "dropped") in outcomes
    assert first.outputs["isNewServiceCreated"] is True
    assert second.outputs["taskDefinitionArn"].endswith("web:2")
    assert len(env.revisions("web")) == 2
