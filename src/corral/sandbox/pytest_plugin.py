"""pytest fixtures for the sandbox (registered as a pytest plugin by the corral package).

- `sandbox`: a fresh sandbox per test, on a free port, at speed 50 (`@pytest.mark.sandbox(speed=..,
  throttling=..)` changes that).
- `sandbox_session`: one sandbox for the whole session, reset by nobody: use your own names.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import Sandbox

DEFAULT_TEST_SPEED = 50.0


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sandbox(speed=50, throttling=True, check_shapes=None): options of the `sandbox` fixture"
    )


@pytest.fixture
def sandbox(request: pytest.FixtureRequest) -> Iterator[Sandbox]:
    marker = request.node.get_closest_marker("sandbox")
    options = dict(marker.kwargs) if marker else {}
    options.setdefault("speed", DEFAULT_TEST_SPEED)
    with Sandbox(**options) as running:
        yield running


@pytest.fixture(scope="session")
def sandbox_session() -> Iterator[Sandbox]:
    with Sandbox(speed=DEFAULT_TEST_SPEED) as running:
        yield running
