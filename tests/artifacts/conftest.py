"""Fixtures: one real registry (Debian docker-registry) for the session, filled once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from .registries import (
    DistributionRegistry,
    Pushed,
    push_image,
    push_index,
    registry_available,
    start_distribution_registry,
)


@dataclass
class Filled:
    """The real registry and what the session pushed to it."""

    registry: DistributionRegistry
    web: dict[str, Pushed] = field(default_factory=dict)  # team/web, Docker schema 2
    oci: dict[str, Pushed] = field(default_factory=dict)  # team/oci, OCI manifests
    index: Pushed | None = None  # team/multi:2.0, an OCI index (amd64 + arm64)
    index_children: dict[str, str] = field(default_factory=dict)


# created times deliberately out of version order: 1.10 is older than 1.9
WEB_TAGS = {
    "1.0": "2026-01-05T10:00:00Z",
    "1.9": "2026-03-01T08:30:00.123456789Z",
    "1.10": "2026-02-01T12:00:00Z",
    "2.0-rc1": "2026-02-15T00:00:00Z",
}
OCI_TAGS = {"v1": "2026-04-01T00:00:00Z", "v2": "2026-05-01T00:00:00Z"}


@pytest.fixture(scope="session")
def distribution(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    if not registry_available():
        pytest.skip(
            "Debian docker-registry is not installed (apt-get install -y docker-registry apache2-utils; "
            "scripts/test installs it)"
        )
    registry = start_distribution_registry(tmp_path_factory.mktemp("registry"))
    try:
        filled = Filled(registry)
        with registry.client() as http:
            for tag, created in WEB_TAGS.items():
                labels = {"org.opencontainers.image.version": tag, "team": "web"}
                filled.web[tag] = push_image(http, "team/web", tag, created=created, labels=labels)
            for tag, created in OCI_TAGS.items():
                filled.oci[tag] = push_image(http, "team/oci", tag, created=created, oci=True)
            filled.index, filled.index_children = push_index(
                http,
                "team/multi",
                "2.0",
                created={"arm64": "2026-06-02T00:00:00Z", "amd64": "2026-06-01T00:00:00Z"},
            )
        yield filled
    finally:
        registry.stop()
