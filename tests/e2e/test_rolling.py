"""examples/sandbox-demo rolling and two-phase pipelines, end to end."""

from __future__ import annotations

from .conftest import CLUSTER, Demo
from .state import image_of, journal_order, services


def test_rolling_deploys_then_a_failing_image_rolls_back_to_the_exact_prior_state(demo: Demo) -> None:
    first = demo.run("demo_rolling", tag="1")
    assert first.status == "Success", first.error
    ecs = demo.client("ecs")
    live = services(ecs)
    assert list(live) == ["demo-web"] and live["demo-web"]["desiredCount"] == 2
    assert image_of(ecs, live["demo-web"]["taskDefinition"]).endswith("demo/web:1")
    assert first.step("EcsRollingDeploy").outputs["isNewServiceCreated"] is True

    second = demo.run("demo_rolling", tag="2")
    assert second.status == "Success", second.error
    before = services(ecs)
    assert image_of(ecs, before["demo-web"]["taskDefinition"]).endswith("demo/web:2")

    demo.sandbox.admin.set_images({"image": "*:broken", "pullFailure": "manifest unknown"})
    failed = demo.run("demo_rolling", tag="broken")
    assert failed.status == "Failed"
    assert failed.step("EcsRollingDeploy").status == "Failed"
    assert failed.step("EcsRollingRollback").status == "Success"
    assert services(ecs) == before
    service = ecs.describe_services(cluster=CLUSTER, services=["demo-web"])["services"][0]
    assert service["runningCount"] == 2 and len(service["deployments"]) == 1


def test_a_failed_first_deployment_leaves_no_service(demo: Demo) -> None:
    demo.sandbox.admin.set_images({"image": "*:broken", "pullFailure": "manifest unknown"})
    failed = demo.run("demo_rolling", tag="broken")
    assert failed.status == "Failed"
    assert services(demo.client("ecs")) == {}


def test_two_phases_roll_back_in_reverse_order(demo: Demo) -> None:
    assert demo.run("demo_rolling", tag="1").status == "Success"
    ecs = demo.client("ecs")
    before = services(ecs)
    failed = demo.run("demo_phases", tag="2", checkExit="1")
    assert failed.status == "Failed"
    assert journal_order(demo.store, failed.id) == [
        "EcsRollingDeploy",
        "EcsScale",
        "check",
        "scale_back",
        "EcsRollingRollback",
    ]
    assert services(ecs) == before
