"""The step families that make services of their own (Canary, Basic phases, Harness's Blue Green)
refuse a service ECS deploys with a native strategy, before they change anything in AWS."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from corral.ecs.basic import ServiceSetupOptions, service_setup
from corral.ecs.bluegreen.create_service import BlueGreenCreateServiceOptions, blue_green_create_service
from corral.ecs.canary import CanaryDeployOptions, canary_deploy
from corral.ecs.context import StepContext
from corral.ecs.target import EcsTarget
from corral.errors import DeploymentError

from .support import EcsEnv

pytestmark = pytest.mark.sandbox(speed=200)

STEPS: dict[str, tuple[str, Callable[[StepContext, EcsTarget], Any]]] = {
    "canary": ("ECS Canary Deploy", lambda ctx, t: canary_deploy(ctx, t, CanaryDeployOptions())),
    "basic": ("ECS Service Setup", lambda ctx, t: service_setup(ctx, t, ServiceSetupOptions())),
    "blue green": (
        "ECS Blue Green Create Service",
        lambda ctx, t: blue_green_create_service(
            ctx,
            t,
            BlueGreenCreateServiceOptions(load_balancer="corral", prod_listener="80", stage_listener="8080"),
        ),
    ),
}


@pytest.mark.parametrize("family", list(STEPS))
@pytest.mark.parametrize("strategy", ["BLUE_GREEN", "LINEAR", "CANARY"])
def test_a_native_strategy_is_refused_before_anything_changes(
    env: EcsEnv, family: str, strategy: str
) -> None:
    step, run = STEPS[family]
    target = env.target("web", "web:1", deploymentConfiguration={"strategy": strategy})

    with pytest.raises(DeploymentError) as refused:
        run(env.context(), target)

    assert str(refused.value).startswith(f"Service web deploys with ECS's {strategy} strategy")
    assert step in str(refused.value) and "ECS Rolling Deploy" in str(refused.value)
    assert env.revisions("web") == [], "no task definition registered"
    assert env.ecs.list_services(cluster=env.cluster)["serviceArns"] == []
    assert env.checkpoints == []
