from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import corral.config.entities.pipeline as pipeline_entities
from corral.engine import register, unregister
from corral.store import Store

from .helpers import Probe


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[Probe]:
    """The test-only step type `Probe`, known to the config checks and the engine."""
    monkeypatch.setattr(pipeline_entities, "STEP_TYPES", (*pipeline_entities.STEP_TYPES, "Probe"))
    impl = Probe()
    register("Probe", impl)
    yield impl
    unregister("Probe")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(f"sqlite:///{tmp_path / 'corral.db'}")
    yield opened
    opened.close()
