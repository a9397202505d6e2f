from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.conftest import postgres_server, postgres_url  # noqa: F401  (fixtures)

from .helpers import Api, Live, demo_project, live_server


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as running:
        yield running


@pytest.fixture
def admin(live: Live) -> Api:
    return live.client()


@pytest.fixture
def demo(admin: Api) -> Api:
    """The admin's client, with project `demo` made."""
    demo_project(admin)
    return admin
