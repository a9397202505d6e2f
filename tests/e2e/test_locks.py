"""Two executions deploying one ECS service: the second waits for the first, or fails at once."""

from __future__ import annotations

from .conftest import Demo, fast_options
from .state import image_of, services


def test_a_second_execution_with_no_wait_fails_at_once(demo: Demo) -> None:
    demo.sandbox.admin.set_images({"image": "*:slow", "startDelay": 100})
    first = demo.start("demo_rolling", tag="slow")
    first.wait_step("EcsRollingDeploy")
    second = demo.run("demo_rolling", tag="2", options=fast_options(no_wait=True))
    assert second.status == "Failed"
    assert "demo-web" in (second.error or "") or any("demo-web" in (s.error or "") for s in second.stages)
    assert first.result().status == "Success"
    ecs = demo.client("ecs")
    assert image_of(ecs, services(ecs)["demo-web"]["taskDefinition"]).endswith("demo/web:slow")


def test_a_second_execution_waits_for_the_first(demo: Demo) -> None:
    demo.sandbox.admin.set_images({"image": "*:slow", "startDelay": 100})
    first = demo.start("demo_rolling", tag="slow")
    first.wait_step("EcsRollingDeploy")
    second = demo.start("demo_rolling", tag="2")
    done = first.result()
    assert done.status == "Success"
    finished = second.result()
    assert finished.status == "Success", finished.error
    first_deploy, second_deploy = done.step("EcsRollingDeploy"), finished.step("EcsRollingDeploy")
    assert first_deploy.ended_at is not None and second_deploy.started_at is not None
    assert second_deploy.started_at >= first_deploy.ended_at
    ecs = demo.client("ecs")
    assert image_of(ecs, services(ecs)["demo-web"]["taskDefinition"]).endswith("demo/web:2")
