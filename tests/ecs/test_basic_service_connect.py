"""Service Connect and VPC Lattice through the Basic strategy: ECS Service Setup creates the new
version with the service definition's settings; ECS Basic Rollback leaves the old version's
exactly as they were (issue 15, deliverable 5: "pass through every service step")."""

from __future__ import annotations

from typing import Any

import pytest

from corral.ecs.basic import (
    ServiceSetupOptions,
    UpgradeContainerOptions,
    basic_rollback,
    service_setup,
    upgrade_container,
)

from .support import EcsEnv, assert_same, snapshot
from .test_connectivity_and_schedules import LATTICE, connect

pytestmark = pytest.mark.sandbox(speed=200)


def _target(env: EcsEnv, image: str, **connectivity: Any) -> Any:
    return env.target(
        "web",
        image,
        family="web",
        load_balancer=env.alb().groups[0],
        desired=2,
        health_check=True,
        **connectivity,
    )


def _primary(env: EcsEnv, name: str) -> dict[str, Any]:
    service = env.describe(name)
    assert service is not None and service["status"] == "ACTIVE", name
    return next(d for d in service["deployments"] if d["status"] == "PRIMARY")


def _state(env: EcsEnv) -> dict[str, Any]:
    found = {}
    for name in ("web__1", "web__2"):
        state = snapshot(env, name)
        if state["service"]["status"] == "INACTIVE":  # deleted: as good as never made
            state["service"]["status"] = "MISSING"
        found[name] = state
    return found


def _live(env: EcsEnv) -> None:
    live = _target(env, "web:1", serviceConnectConfiguration=connect("web.v1"))
    live.service_definition["serviceName"] = "web__1"
    env.create_live_service(live)


def test_service_setup_creates_the_new_version_with_service_connect_and_lattice(env: EcsEnv) -> None:
    _live(env)
    release = _target(
        env, "web:2", serviceConnectConfiguration=connect("web.v2"), vpcLatticeConfigurations=LATTICE
    )

    service_setup(env.context(), release, ServiceSetupOptions())
    setup = env.checkpoint
    upgrade_container(env.context(), release, UpgradeContainerOptions(100, "Percentage", setup=setup))

    assert _primary(env, "web__2")["serviceConnectConfiguration"] == connect("web.v2")
    assert _primary(env, "web__2")["vpcLatticeConfigurations"] == LATTICE
    assert _primary(env, "web__1")["serviceConnectConfiguration"] == connect("web.v1")  # untouched


def test_basic_rollback_leaves_the_old_version_s_service_connect_exactly_as_it_was(env: EcsEnv) -> None:
    _live(env)
    before = _state(env)
    release = _target(
        env, "web:2", serviceConnectConfiguration=connect("web.v2"), vpcLatticeConfigurations=LATTICE
    )

    service_setup(env.context(), release, ServiceSetupOptions())
    setup = env.checkpoint
    upgrade_container(env.context(), release, UpgradeContainerOptions(50, "Percentage", setup=setup))
    basic_rollback(env.context(), release, setup)

    after = _state(env)
    assert after["web__2"]["service"]["status"] == "MISSING"
    assert _primary(env, "web__1")["serviceConnectConfiguration"] == connect("web.v1")
    assert_same(before, after)
