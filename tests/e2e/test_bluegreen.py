"""examples/sandbox-demo blue green: Create Service, approval, Swap; rollback."""

from __future__ import annotations

import time
from typing import Any

import pytest

from corral.engine import abort, approve
from corral.errors import ConfigError

from .conftest import Demo
from .state import forward_group, healthy_targets, image_of, listener_actions, services


def bluegreen(demo: Demo, tag: str, *, approved: bool = True) -> Any:
    started = demo.start("demo_bluegreen", tag=tag)
    started.wait_waiting("approval")
    approve(started.id, approved, comment="looks good" if approved else "not today", store=demo.store)
    return started.result()


def routes(demo: Demo) -> tuple[str, str]:
    prod, stage = listener_actions(
        demo.client("elbv2"), demo.prepared["prodListener"], demo.prepared["stageListener"]
    )
    return forward_group(prod), forward_group(stage)


def test_blue_green_with_approval_swaps_the_listeners(demo: Demo) -> None:
    prod_group, stage_group = demo.prepared["prodTargetGroupArn"], demo.prepared["stageTargetGroupArn"]
    first = bluegreen(demo, "1")
    assert first.status == "Success", first.error
    ecs, elb = demo.client("ecs"), demo.client("elbv2")
    live = services(ecs)
    assert list(live) == ["demo-bg__1"]
    assert live["demo-bg__1"]["tags"]["BG_VERSION"] == "BLUE"
    assert routes(demo) == (stage_group, prod_group)  # the new service's group now takes production

    second = bluegreen(demo, "2")
    assert second.status == "Success", second.error
    live = services(ecs)
    assert sorted(live) == ["demo-bg__1", "demo-bg__2"]
    assert live["demo-bg__2"]["tags"]["BG_VERSION"] == "BLUE"
    assert live["demo-bg__1"]["tags"]["BG_VERSION"] == "GREEN"
    assert live["demo-bg__1"]["desiredCount"] == 0  # downsized, kept for a fast rollback
    assert image_of(ecs, live["demo-bg__2"]["taskDefinition"]).endswith("demo/bg:2")
    assert routes(demo) == (prod_group, stage_group)
    assert healthy_targets(elb, prod_group) == 2


def test_a_rejected_swap_rolls_back_to_the_state_before(demo: Demo) -> None:
    assert bluegreen(demo, "1").status == "Success"
    ecs = demo.client("ecs")
    before, before_routes = services(ecs), routes(demo)
    rejected = bluegreen(demo, "2", approved=False)
    assert rejected.status in ("Failed", "Rejected", "Aborted"), rejected.status
    assert rejected.step("EcsBlueGreenRollback").status == "Success"
    assert services(ecs) == before
    assert routes(demo) == before_routes


def test_an_abort_while_the_green_service_comes_up_rolls_back_to_the_state_before(demo: Demo) -> None:
    assert bluegreen(demo, "1").status == "Success"
    ecs = demo.client("ecs")
    before, before_routes = services(ecs), routes(demo)
    demo.sandbox.admin.set_images({"image": "*:slow", "startDelay": 300})
    started = demo.start("demo_bluegreen", tag="slow")
    started.wait_step("EcsBlueGreenCreateService")
    time.sleep(0.3)  # into the wait for the green service's steady state
    abort(started.id, store=demo.store)
    aborted = started.result()
    assert aborted.status == "Aborted"
    assert aborted.step("EcsBlueGreenRollback").status == "Success"
    assert services(ecs) == before
    assert routes(demo) == before_routes


def _weights(demo: Demo) -> dict[str, int]:
    (actions,) = listener_actions(demo.client("elbv2"), demo.prepared["prodListener"])
    forward = next(a for a in actions if a["Type"] == "forward")
    if forward.get("ForwardConfig"):
        return {g["TargetGroupArn"]: g.get("Weight", 1) for g in forward["ForwardConfig"]["TargetGroups"]}
    return {forward["TargetGroupArn"]: 1}


def test_traffic_shift_moves_production_by_weights_and_rolls_back(demo: Demo) -> None:
    prod_group, stage_group = demo.prepared["prodTargetGroupArn"], demo.prepared["stageTargetGroupArn"]
    first = demo.run("demo_trafficshift", tag="1")
    assert first.status == "Success", first.error
    assert first.step("shift_half").outputs["trafficShifted"] is False
    assert {k: v for k, v in _weights(demo).items() if v} == {stage_group: 100}
    ecs = demo.client("ecs")
    live = services(ecs)
    assert list(live) == ["demo-bg__1"] and live["demo-bg__1"]["tags"]["BG_VERSION"] == "BLUE"

    before, weights = services(ecs), _weights(demo)
    # a weight outside 0-100 given at run time is refused before anything changes
    with pytest.raises(
        ConfigError, match=r"spec\.weightPercentage: expected a whole percentage 0-100, got '101'"
    ):
        demo.run("demo_trafficshift", tag="2", weightPercentage="101", stageTargetGroupArn="")
    assert (services(ecs), _weights(demo)) == (before, weights)
    # the prod rule forwards to both groups now: the stage group is inferred; the second shift fails
    # at its cut-over, once all production traffic reaches the new service (tagging it is refused)
    demo.sandbox.admin.add_fault(
        "error", service="ecs", operation="TagResource", status=400, code="AccessDenied", count=1
    )
    failed = demo.run("demo_trafficshift", tag="2", stageTargetGroupArn="")
    assert failed.status == "Failed"
    assert [s.identifier for s in failed.steps if s.status == "Failed"] == ["shift_all"], [
        (s.identifier, s.error) for s in failed.steps
    ]
    assert failed.step("shift_half").status == "Success"
    assert failed.step("EcsBlueGreenTrafficShiftRollback").outputs["rollbackSkipped"] is False
    assert _weights(demo) == weights
    assert services(ecs) == before
    assert prod_group not in {k for k, v in _weights(demo).items() if v}
