"""Artifact triggers in server mode, against the real Debian docker-registry: the tags there
before the first poll never run, each new matching tag runs its pipeline exactly once (also
across a restart on the same database), and other tags do not run."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from corral.server.triggers import TriggerWatcher
from tests.artifacts.projects import registry_connector, service, source
from tests.artifacts.registries import (
    DistributionRegistry,
    push_image,
    registry_available,
    start_distribution_registry,
)

from .helpers import Api, free_port, live_server, pipeline, shell

REPOSITORY = "team/trigger"
TRIGGER = {
    "trigger": {
        "name": "New web image",
        "identifier": "on_web",
        "pipelineIdentifier": "echo_tag",
        "pollInterval": "1h",  # the test polls through the API; the watcher's own poll is the first
        "source": {
            "type": "Artifact",
            "spec": {
                "type": "DockerRegistry",
                "spec": {
                    "connectorRef": "registry",
                    "imagePath": REPOSITORY,
                    "tag": "<+trigger.artifact.build>",
                },
            },
        },
        "tagPattern": r"^1\.\d+$",
        "inputs": {"tag": "<+trigger.artifact.build>"},
    }
}
ECHO = pipeline("echo_tag", [shell("say", 'echo "built <+pipeline.variables.tag>"')]).replace(
    "  stages:", "  variables:\n  - name: tag\n    type: String\n    value: <+input>\n  stages:"
)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DistributionRegistry]:
    if not registry_available():
        pytest.skip(
            "Debian docker-registry is not installed (apt-get install -y docker-registry apache2-utils)"
        )
    running = start_distribution_registry(tmp_path_factory.mktemp("trigger-registry"))
    try:
        yield running
    finally:
        running.stop()


def push(registry: DistributionRegistry, tag: str) -> None:
    with registry.client() as http:
        push_image(http, REPOSITORY, tag, created="2026-11-22T10:00:00Z")


def make_project(api: Api, registry: DistributionRegistry) -> None:
    api.post("/projects", {"name": "shop"}, 201)
    api.put("/projects/shop/secrets/registry_password", {"value": registry.password}, 200)
    connector = registry_connector(registry.url, username=registry.username)
    text = "---\n".join([connector, ECHO, yaml.safe_dump(TRIGGER, sort_keys=False)])
    api.put("/projects/shop/entities", {"yaml": text}, 200)


def runs(api: Api) -> list[dict]:
    return api.get("/executions", params={"project": "shop", "pipeline": "echo_tag"})


def test_a_new_matching_tag_runs_the_pipeline_once(tmp_path: Path, registry: DistributionRegistry) -> None:
    data = tmp_path / "server"
    push(registry, "1.0")
    with live_server(data) as live:
        api = live.client()
        make_project(api, registry)
        first = api.post("/projects/shop/triggers/on_web/poll", expect=200).json()
        assert first["error"] is None
        assert runs(api) == []  # 1.0 was there before the trigger's first poll

        push(registry, "1.1")
        api.post("/projects/shop/triggers/on_web/poll", expect=200)
        [run] = runs(api)
        assert run["triggered_by"] == "trigger:on_web"
        done = api.wait(run["id"])
        assert done["status"] == "Success", done
        log = [line["message"] for line in api.get(f"/executions/{run['id']}/logs")]
        assert any("built 1.1" in line for line in log), log

        again = api.post("/projects/shop/triggers/on_web/poll", expect=200).json()
        assert again["new_tags"] == [] and again["executions"] == []
        push(registry, "1.2-rc")
        api.post("/projects/shop/triggers/on_web/poll", expect=200)
        assert len(runs(api)) == 1

        [listed] = api.get("/projects/shop/triggers")
        assert listed["identifier"] == "on_web" and listed["last_error"] is None
        assert listed["last_poll_at"] is not None and listed["executions"] == 1
        history = api.get("/projects/shop/triggers/on_web/history")
        assert [(h["tag"], h["status"], h["execution_id"]) for h in history] == [
            ("1.1", "Started", run["id"]),
            ("1.0", "Existing", None),
        ]
        audit = api.get("/audit", params={"actor": "trigger:on_web"})
        assert [(a["action"], a["target"]) for a in audit] == [("execution.run", run["id"])]

        viewer = api.user("vera", project="shop", role="viewer")
        assert len(viewer.get("/projects/shop/triggers/on_web/history")) == 2
        viewer.post("/projects/shop/triggers/on_web/poll", expect=403)
        api.post("/projects/shop/triggers/nope/poll", expect=404)

    # a new server on the same database (its watcher polls at start) runs nothing again
    with live_server(data) as live:
        api = live.client()
        api.post("/projects/shop/triggers/on_web/poll", expect=200)
        assert len(runs(api)) == 1
        push(registry, "1.3")
        # two watchers (as two servers on one database would be) polling at the same moment
        watchers = [live.server.triggers, TriggerWatcher(live.server)]
        with ThreadPoolExecutor(2) as pool:
            outcomes = list(pool.map(lambda w: w.poll("shop", "on_web"), watchers))
        assert sorted(len(o.executions) for o in outcomes) == [0, 1]
        assert len(runs(api)) == 2
        [started] = [o.executions[0] for o in outcomes if o.executions]
        assert api.wait(started)["status"] == "Success"


def test_an_unreachable_registry_is_the_triggers_last_error(tmp_path: Path) -> None:
    with live_server(tmp_path / "server") as live:
        api = live.client()
        api.post("/projects", {"name": "shop"}, 201)
        connector = registry_connector(f"http://127.0.0.1:{free_port()}")
        text = "---\n".join([connector, ECHO, yaml.safe_dump(TRIGGER, sort_keys=False)])
        api.put("/projects/shop/entities", {"yaml": text}, 200)
        polled = api.post("/projects/shop/triggers/on_web/poll", expect=200).json()
        assert polled["error"] and polled["new_tags"] == []
        [listed] = api.get("/projects/shop/triggers")
        assert listed["last_error"] == polled["error"]
        assert api.get("/projects/shop/triggers/on_web/history") == []
        assert live.server.triggers.poll_due() == []  # a failed poll also waits its interval (1h)


def test_a_trigger_names_its_problems(tmp_path: Path) -> None:
    bad_pattern = yaml.safe_load(yaml.safe_dump(TRIGGER))
    bad_pattern["trigger"]["tagPattern"] = "(("
    two_sources = yaml.safe_load(yaml.safe_dump(TRIGGER))
    two_sources["trigger"].update(identifier="twice", serviceRef="web")
    broken = [bad_pattern, two_sources]
    with live_server(tmp_path / "server") as live:
        api = live.client()
        api.post("/projects", {"name": "shop"}, 201)
        text = "---\n".join([ECHO, yaml.safe_dump_all(broken, sort_keys=False)])
        problems = api.put("/projects/shop/entities", {"yaml": text}, 422).json()["problems"]
        paths = sorted(p["path"] for p in problems)
        assert paths == ["trigger.source", "trigger.tagPattern"], problems


def test_a_trigger_on_a_services_artifact_source(tmp_path: Path, registry: DistributionRegistry) -> None:
    on_service = yaml.safe_load(yaml.safe_dump(TRIGGER))
    del on_service["trigger"]["source"]
    on_service["trigger"].update(identifier="on_service", serviceRef="web", artifactRef="web")
    push(registry, "1.0")
    with live_server(tmp_path / "server") as live:
        api = live.client()
        api.post("/projects", {"name": "shop"}, 201)
        api.put("/projects/shop/secrets/registry_password", {"value": registry.password}, 200)
        connector = registry_connector(registry.url, username=registry.username)
        web = service(source("web", imagePath=REPOSITORY, tag="<+input>"))
        text = "---\n".join([connector, web, ECHO, yaml.safe_dump(on_service, sort_keys=False)])
        api.put("/projects/shop/entities", {"yaml": text}, 200)
        first = api.post("/projects/shop/triggers/on_service/poll", expect=200).json()
        assert first["error"] is None and "1.0" in first["new_tags"] and first["executions"] == []
        push(registry, "1.4")
        polled = api.post("/projects/shop/triggers/on_service/poll", expect=200).json()
        assert polled["new_tags"] == ["1.4"]
        assert api.wait(polled["executions"][0])["status"] == "Success"
        [listed] = api.get("/projects/shop/triggers")
        assert listed["source"] == "service web/web"


def test_a_project_whose_file_names_it_otherwise_shows_the_same(
    tmp_path: Path, registry: DistributionRegistry
) -> None:
    """The server knows a project by its folder; a corral.yaml whose `project.name` says something
    else (edited by hand, or a folder copied in while the server runs) changes none of its views."""
    push(registry, "1.50")  # the registry is the module's: tags other tests have not pushed
    with live_server(tmp_path / "server") as live:
        api = live.client()
        make_project(api, registry)
        settings = live.server.projects.root / "shop" / "corral.yaml"
        data = yaml.safe_load(settings.read_text(encoding="utf-8"))
        data["project"]["name"] = "Shop Display Name"
        settings.write_text(yaml.safe_dump(data), encoding="utf-8")

        assert api.post("/projects/shop/triggers/on_web/poll", expect=200).json()["error"] is None
        push(registry, "1.51")
        polled = api.post("/projects/shop/triggers/on_web/poll", expect=200).json()
        assert polled["new_tags"] == ["1.51"]
        [run] = runs(api)
        assert run["id"] == polled["executions"][0]
        assert api.wait(run["id"])["status"] == "Success"
        [listed] = api.get("/projects/shop/triggers")
        assert listed["last_poll_at"] is not None and listed["executions"] == 1
        history = api.get("/projects/shop/triggers/on_web/history")
        assert (history[0]["tag"], history[0]["execution_id"]) == ("1.51", run["id"])
        assert "1.50" in [h["tag"] for h in history[1:]]
