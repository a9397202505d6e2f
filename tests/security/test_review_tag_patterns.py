"""Review of issue 12, item 8 (nothing hangs a thread): a trigger's tagPattern (and a service's
tagRegex) is searched in the tags a registry lists, which anyone who may push there chooses.
Searched with Python's `re`, a plausible version rule (`^(\\d+\\.?)+$`) backtracked for hours on
a tag of 40 characters and held the thread polling (the API's poll, the watcher of every
trigger). The search is bounded like every regular expression (REGEX_TIMEOUT)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.artifacts.projects import registry_connector
from tests.artifacts.registries import DistributionRegistry, registry_available, start_distribution_registry
from tests.server.helpers import live_server
from tests.server.test_triggers import ECHO, TRIGGER, push, runs


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributionRegistry]:
    if not registry_available():
        pytest.skip(
            "Debian docker-registry is not installed (apt-get install -y docker-registry apache2-utils)"
        )
    running = start_distribution_registry(tmp_path_factory.mktemp("review-registry"))
    try:
        yield running
    finally:
        running.stop()


def test_a_backtracking_tag_pattern_does_not_hold_the_poll(
    tmp_path: Path, registry: DistributionRegistry
) -> None:
    trigger = copy.deepcopy(TRIGGER)
    trigger["trigger"]["tagPattern"] = r"^(\d+\.?)+$"
    push(registry, "1" * 40 + "x")  # pushed by whoever may push: the tag is theirs
    with live_server(tmp_path / "server") as live:
        api = live.client()
        api.http.timeout = httpx.Timeout(10)  # the bound: a poll held by the search fails here
        api.post("/projects", {"name": "shop"}, 201)
        api.put("/projects/shop/secrets/registry_password", {"value": registry.password}, 200)
        connector = registry_connector(registry.url, username=registry.username)
        text = "---\n".join([connector, ECHO, yaml.safe_dump(trigger, sort_keys=False)])
        api.put("/projects/shop/entities", {"yaml": text}, 200)

        first = api.post("/projects/shop/triggers/on_web/poll", expect=200).json()
        assert first["error"] is None, first
        push(registry, "2.0.1")  # an ordinary tag still runs its pipeline
        second = api.post("/projects/shop/triggers/on_web/poll", expect=200).json()
        assert second["new_tags"] == ["2.0.1"], second
        [run] = runs(api)
        assert api.wait(run["id"])["status"] == "Success"
