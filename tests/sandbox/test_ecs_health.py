"""Container health checks as the sandbox times them (pure functions, no sandbox needed)."""

from __future__ import annotations

import pytest

from corral.sandbox.core.images import ImageBehaviour
from corral.sandbox.ecs.health import HEALTHY, UNHEALTHY, UNKNOWN, container_timeline, task_health
from corral.sandbox.ecs.task_definitions import HealthCheck

CHECK = HealthCheck(command=("CMD", "true"), interval=10, timeout=5, retries=3)


@pytest.mark.parametrize(
    ("check", "image", "expected"),
    [
        (CHECK, ImageBehaviour(), [(110.0, HEALTHY)]),
        (CHECK, ImageBehaviour(health_check="fail"), [(130.0, UNHEALTHY)]),
        # failures inside startPeriod do not count: the first counted check is at 30 s
        (
            HealthCheck(("CMD",), 10, 5, 3, start_period=25),
            ImageBehaviour(health_check="fail"),
            [(150.0, UNHEALTHY)],
        ),
        # a pass inside startPeriod makes the container HEALTHY at once
        (
            HealthCheck(("CMD",), 10, 5, 3, start_period=60),
            ImageBehaviour(healthy_after=15),
            [(120.0, HEALTHY)],
        ),
        # passing only after 3 failed checks: UNHEALTHY first, then HEALTHY
        (CHECK, ImageBehaviour(healthy_after=35), [(130.0, UNHEALTHY), (140.0, HEALTHY)]),
        (CHECK, ImageBehaviour(healthy_after=25), [(130.0, HEALTHY)]),
    ],
)
def test_container_timeline(
    check: HealthCheck, image: ImageBehaviour, expected: list[tuple[float, str]]
) -> None:
    assert container_timeline(100.0, check, image) == expected


def test_task_health_from_essential_containers() -> None:
    assert task_health([(True, HEALTHY), (False, UNHEALTHY)]) == HEALTHY
    assert task_health([(True, HEALTHY), (True, UNHEALTHY)]) == UNHEALTHY
    assert task_health([(True, HEALTHY), (True, UNKNOWN)]) == UNKNOWN
    assert task_health([(True, UNKNOWN)]) == UNKNOWN
