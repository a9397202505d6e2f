"""ECS Basic (Service Setup, Upgrade Container phases, Basic Rollback) against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from corral.ecs.basic import (
    ServiceSetupOptions,
    UpgradeContainerOptions,
    basic_rollback,
    phase_counts,
    plan_versions,
    service_setup,
    upgrade_container,
)
from corral.errors import DeploymentError

from .support import EcsEnv, assert_same, cpu_policy, scalable_target, snapshot

pytestmark = pytest.mark.sandbox(speed=200)


def _target(env: EcsEnv, image: str, desired: int = 4) -> Any:
    return env.target(
        "web", image, family="web", load_balancer=env.alb().groups[0], desired=desired, health_check=True
    )


def _live_version(env: EcsEnv, name: str, image: str, desired: int, *, scaling: bool = True) -> None:
    target = _target(env, image, desired)
    assert target.service_definition is not None
    target.service_definition["serviceName"] = name
    env.create_live_service(
        target,
        scalable_targets=[scalable_target(1, 6)] if scaling else None,
        scaling_policies=[cpu_policy()] if scaling else None,
    )


def _phase(percent: int, setup: dict[str, Any], **old: Any) -> UpgradeContainerOptions:
    return UpgradeContainerOptions(percent, "Percentage", setup=setup, **old)


def _state(env: EcsEnv, *names: str) -> dict[str, Any]:
    found = {}
    for name in names:
        state = snapshot(env, name)
        if state["service"]["status"] == "INACTIVE":  # deleted: as good as never made
            state["service"]["status"] = "MISSING"
        found[name] = state
    return found


def test_phases_move_the_tasks_and_the_autoscaling_to_a_new_version(env: EcsEnv) -> None:
    _live_version(env, "web__1", "web:1", 4)
    target = _target(env, "web:2")

    setup = service_setup(env.context(), target, ServiceSetupOptions())
    data = env.checkpoint
    assert setup.outputs["newService"] == "web__2" and setup.outputs["oldService"] == "web__1"
    fresh = env.describe("web__2")
    assert fresh is not None and fresh["desiredCount"] == 0 and fresh["status"] == "ACTIVE"

    half = upgrade_container(env.context(), target, _phase(50, data))
    new, old = env.describe("web__2"), env.describe("web__1")
    assert new is not None and old is not None
    assert (new["runningCount"], old["runningCount"]) == (2, 2)
    assert half.outputs["newServiceDesiredCount"] == 2
    # the old version lost its autoscaling at its first downsize; the new one has none yet
    assert _state(env, "web__1", "web__2")["web__1"]["scalableTargets"] == []
    assert _state(env, "web__1", "web__2")["web__2"]["scalableTargets"] == []

    upgrade_container(env.context(), target, _phase(100, data))
    state = _state(env, "web__1", "web__2")
    assert state["web__2"]["service"]["runningCount"] == 4
    assert state["web__1"]["service"]["desiredCount"] == 0  # kept at 0, as the reference leaves it
    # no scaling manifests: the old version's autoscaling moved to the new one
    assert [(t["MinCapacity"], t["MaxCapacity"]) for t in state["web__2"]["scalableTargets"]] == [(1, 6)]
    assert [p["PolicyName"] for p in state["web__2"]["scalingPolicies"]] == ["cpu60"]


def test_basic_rollback_after_a_phase_restores_every_version_exactly(env: EcsEnv) -> None:
    _live_version(env, "web__1", "web:0", 0, scaling=False)  # a stale version at 0
    _live_version(env, "web__2", "web:1", 4)
    before = _state(env, "web__1", "web__2", "web__3")
    target = _target(env, "web:2")

    service_setup(env.context(), target, ServiceSetupOptions(resize_strategy="DownsizeOldFirst"))
    data = env.checkpoint
    assert env.describe("web__1")["status"] != "ACTIVE"  # type: ignore[index]  # the stale one is retired
    upgrade_container(env.context(), target, _phase(50, data))

    basic_rollback(env.context(), target, data)

    assert_same(before, _state(env, "web__1", "web__2", "web__3"))


def test_a_failing_release_fails_its_phase_and_rolls_back_to_the_old_version(env: EcsEnv) -> None:
    _live_version(env, "web__1", "web:1", 2)
    before = _state(env, "web__1", "web__2")
    env.admin.set_images({"image": "web:2", "healthCheck": "fail"})
    target = _target(env, "web:2", desired=2)

    service_setup(env.context(), target, ServiceSetupOptions())
    data = env.checkpoint
    with pytest.raises(DeploymentError, match="Tasks keep failing"):
        upgrade_container(env.context(timeout=30), target, _phase(100, data))

    basic_rollback(env.context(), target, data)

    assert_same(before, _state(env, "web__1", "web__2"))


def test_first_deployment_counts_and_same_as_running(env: EcsEnv) -> None:
    target = _target(env, "web:1", desired=3)
    service_setup(env.context(), target, ServiceSetupOptions(same_as_already_running_instances=True))
    data = env.checkpoint
    assert data["oldService"] is None and data["newServiceThresholdInstanceCount"] == 3
    upgrade_container(env.context(), target, UpgradeContainerOptions(2, "Count", setup=data))
    assert env.describe("web__1")["runningCount"] == 2  # type: ignore[index]

    basic_rollback(env.context(), target, data)
    assert _state(env, "web__1")["web__1"]["service"]["status"] == "MISSING"


def test_the_phase_arithmetic_follows_the_reference() -> None:
    def counts(new: int, unit: str, old: int | None = None, old_unit: str | None = None) -> tuple[int, int]:
        options = UpgradeContainerOptions(new, unit, old, old_unit)  # type: ignore[arg-type]
        return phase_counts(options, 4, 6)

    assert counts(50, "Percentage") == (2, 3)  # the old version keeps the other half of what it ran
    assert counts(100, "Percentage") == (4, 0)
    assert counts(25, "Percentage") == (1, 5)  # 4.5 rounds half up
    assert counts(1, "Count") == (1, 5)
    assert counts(50, "Percentage", 1, "Count") == (2, 1)
    assert counts(50, "Percentage", 10, "Count") == (2, 6)  # never more than it ran
    assert counts(50, "Percentage", 50, "Percentage") == (2, 3)


def test_versions_are_numbered_after_the_latest() -> None:
    found = [
        {"serviceName": "web__2", "desiredCount": 3},
        {"serviceName": "web__10", "desiredCount": 0},
        {"serviceName": "web", "desiredCount": 1},
        {"serviceName": "web__x", "desiredCount": 1},
        {"serviceName": "webapp__1", "desiredCount": 1},
    ]
    versions = plan_versions("web", found)
    assert versions.new == "web__11"
    assert versions.old is not None and versions.old["serviceName"] == "web__2"
    assert [s["serviceName"] for s in versions.stale] == ["web__10"]


def test_a_rerun_of_service_setup_finishes_the_first_attempts_version(env: EcsEnv) -> None:
    _live_version(env, "web__1", "web:1", 2)
    target = _target(env, "web:2", desired=2)
    service_setup(env.context(), target, ServiceSetupOptions())
    first = env.checkpoint

    # the process died after the step's changes; the re-run gets the journaled data
    again = service_setup(env.context(), target, ServiceSetupOptions(previous=first))

    assert again.outputs["newService"] == "web__2"
    names = [a.rsplit("/", 1)[-1] for a in env.ecs.list_services(cluster=env.cluster)["serviceArns"]]
    assert sorted(names) == ["web__1", "web__2"]  # no third version, the old one untouched
    assert env.describe("web__1")["desiredCount"] == 2  # type: ignore[index]
