"""What a steering step decides from ECS's description of a service deployment, without AWS:
which hooks a Continue acts on, how a rollback goes through ECS, which ARNs are deployments."""

from __future__ import annotations

from typing import Any

import pytest

from corral.ecs.native import steering
from corral.errors import DeploymentError
from tests.engine.helpers import step
from tests.engine.test_step_specs import problems

ARN = "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/NCWGC2ZR-taawPAYrIaU5"


def deployment(status: str = "IN_PROGRESS", *hooks: tuple[str, str, str]) -> dict[str, Any]:
    return {
        "serviceDeploymentArn": ARN,
        "status": status,
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
        "lifecycleHookDetails": [
            {"hookId": hook_id, "targetType": target, "status": state} for hook_id, target, state in hooks
        ],
    }


PAUSED_AT_TEST = deployment("IN_PROGRESS", ("h-1", "PAUSE", "AWAITING_ACTION"), ("h-0", "PAUSE", "SUCCEEDED"))


def test_an_arn_names_its_region_cluster_and_service_and_other_arns_are_refused() -> None:
    where = steering.DeploymentArn.parse(ARN)
    assert (where.region, where.account, where.cluster, where.service) == (
        "us-east-1",
        "123456789012",
        "prod",
        "web",
    )
    for wrong in (
        "web",
        "arn:aws:ecs:us-east-1:1:service/prod/web",
        "arn:aws:ecs:us-east-1:1:service-deployment/prod/web",
    ):
        with pytest.raises(DeploymentError, match="not an ECS service deployment ARN"):
            steering.DeploymentArn.parse(wrong)


def test_continue_acts_on_every_paused_hook_or_the_one_named() -> None:
    both = deployment("IN_PROGRESS", ("a", "PAUSE", "AWAITING_ACTION"), ("b", "PAUSE", "AWAITING_ACTION"))
    assert steering.hooks_to_continue(both, None) == ["a", "b"]
    assert steering.hooks_to_continue(both, "b") == ["b"]


def test_continue_on_a_deployment_that_is_not_paused_says_where_it_is() -> None:
    running = deployment("IN_PROGRESS", ("h-0", "PAUSE", "SUCCEEDED"))
    with pytest.raises(
        DeploymentError, match="is not paused at a lifecycle hook: it is IN_PROGRESS at POST_TEST"
    ):
        steering.hooks_to_continue(running, None)
    with pytest.raises(DeploymentError, match="has no lifecycle hook nope \\(its hooks: h-1, h-0\\)"):
        steering.hooks_to_continue(PAUSED_AT_TEST, "nope")
    with pytest.raises(DeploymentError, match=r"hook h-0 of service deployment .* is not awaiting action"):
        steering.hooks_to_continue(PAUSED_AT_TEST, "h-0")


def test_a_continue_repeated_after_a_crash_does_not_fail_on_the_hooks_it_already_moved_on() -> None:
    moved_on = deployment("IN_PROGRESS", ("h-1", "PAUSE", "SUCCEEDED"))
    assert steering.hooks_to_continue(moved_on, None, already=["h-1"]) == []
    assert steering.hooks_to_continue(moved_on, "h-1", already=["h-1"]) == []


def test_a_paused_deployment_rolls_back_through_its_hook_a_running_one_by_a_stop() -> None:
    assert steering.rollback_move(PAUSED_AT_TEST) == steering.CONTINUE_ROLLBACK
    assert steering.rollback_move(deployment("IN_PROGRESS")) == steering.STOP_ROLLBACK
    assert steering.rollback_move(deployment("PENDING")) == steering.STOP_ROLLBACK
    assert steering.rollback_move(deployment("ROLLBACK_IN_PROGRESS")) == steering.ALREADY_ROLLING_BACK


def test_a_deployment_that_ended_cannot_be_rolled_back_through_ecs() -> None:
    with pytest.raises(
        DeploymentError, match=r"cannot be rolled back through ECS: it is SUCCESSFUL.*EcsRollingRollback"
    ):
        steering.rollback_move(deployment("SUCCESSFUL"))
    with pytest.raises(DeploymentError, match="it is ROLLBACK_FAILED"):
        steering.rollback_move(deployment("ROLLBACK_FAILED"))
    assert not steering.is_unfinished(deployment("ROLLBACK_SUCCESSFUL"))
    assert steering.is_unfinished(deployment("STOP_REQUESTED"))


def test_a_steering_step_with_a_wrong_wait_until_or_an_unknown_field_is_refused_before_the_run() -> None:
    wrong = step("go", "EcsServiceDeploymentContinue", {"waitUntil": "DONE", "hookID": "h-1"})
    found = sorted(problems([wrong]), key=lambda p: p.path)
    assert [p.path.rsplit(".", 1)[-1] for p in found] == ["hookID", "waitUntil"]
    assert "expected SUCCESSFUL, PAUSED or a lifecycle stage of ECS" in found[1].message
    assert "got 'DONE'" in found[1].message
    later = step("w", "EcsServiceDeploymentWait", {"waitUntil": "<+pipeline.variables.until>"})
    assert problems([later], variables=[{"name": "until", "type": "String", "value": "PAUSED"}]) == []


def test_a_rollbacks_deployment_knows_whether_a_pause_hook_is_still_ahead() -> None:
    hooks = [
        {"targetType": "AWS_LAMBDA", "lifecycleStages": ["POST_PRODUCTION_TRAFFIC_SHIFT"]},
        {
            "targetType": "PAUSE",
            "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT"],
        },
    ]
    configured = {"deploymentConfiguration": {"lifecycleHooks": hooks}}
    assert steering.pauses_ahead(configured, None)
    assert steering.pauses_ahead(configured, "POST_TEST_TRAFFIC_SHIFT")
    # paused in PRODUCTION_TRAFFIC_SHIFT: at its PRE_ hook, the last PAUSE
    assert not steering.pauses_ahead(configured, "PRODUCTION_TRAFFIC_SHIFT")
    assert not steering.pauses_ahead({"deploymentConfiguration": {"lifecycleHooks": hooks[:1]}}, None)
