"""Registry lookups of a service's artifact (tagRegex, `digest: resolve`) in server mode: a run
started through the HTTP API and one started by an artifact trigger deploy, on the sandbox
(unmodified boto3 reads the task definition back), the image the stage resolved against a
registry with bearer tokens and paged tag lists, as `corral run` does (tests/e2e/test_render_once.py)."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from corral.demo import pipeline_inputs, prepare_sandbox
from corral.sandbox import Sandbox
from tests.artifacts.registries import SpecRegistry
from tests.e2e.conftest import DEMO, use_sandbox_aws

from .helpers import Api, live_server

TAGS = {  # created out of version order: the newest 1.x is 1.10, then 1.11 is pushed
    "1.8": "2026-01-01T00:00:00Z",
    "1.10": "2026-03-01T00:00:00Z",
    "1.9": "2026-02-01T00:00:00Z",
    "2.0": "2026-04-01T00:00:00Z",
    "latest": "2026-04-01T00:00:00Z",
}
TAG_INPUT = '                tag: <+input>.default("1")\n'
TRIGGER = {
    "trigger": {
        "name": "New web image",
        "identifier": "on_web",
        "pipelineIdentifier": "demo_rolling",
        "pollInterval": "1h",  # the test polls through the API
        "serviceRef": "demo_web",
        "artifactRef": "app",
        "tagPattern": r"^1\.\d+$",
        "inputs": {"tag": "<+trigger.artifact.build>"},
    }
}


@pytest.fixture
def registry() -> Iterator[SpecRegistry]:
    with SpecRegistry(bearer=True, default_page=2) as running:  # 5 tags: three pages
        for tag, created in TAGS.items():
            running.add_image("demo/web", tag, created=created)
        yield running


def git_project(tmp_path: Path, registry: SpecRegistry, source: str, *extra: str) -> Path:
    """examples/sandbox-demo in a Git repository, its registry connector at the test registry and
    the web service's tag line replaced by `source`; `extra` YAML documents added."""
    root = tmp_path / "repo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".corral"))
    connectors = root / "connectors" / "aws.yaml"
    connectors.write_text(
        connectors.read_text().replace("https://registry.demo.internal/v2/", registry.url + "/v2/")
    )
    service = root / "services" / "web.yaml"
    assert TAG_INPUT in service.read_text()
    service.write_text(service.read_text().replace(TAG_INPUT, source))
    for index, text in enumerate(extra):
        (root / f"extra{index}.yaml").write_text(text)
    for args in (("init", "-q", "-b", "main"), ("add", "."), ("commit", "-q", "-m", "demo")):
        subprocess.run(
            ["git", "-C", str(root), "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
            check=True,
            capture_output=True,
        )
    return root


def deployed_image(sandbox: Sandbox) -> str:
    ecs = sandbox.client("ecs")
    [service] = ecs.describe_services(cluster="corral-demo", services=["demo-web"])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    [container] = task["containerDefinitions"]
    return str(container["image"])


def network_inputs(sandbox: Sandbox) -> dict[str, Any]:
    return pipeline_inputs(prepare_sandbox(sandbox.endpoint_url), "demo_rolling")


def sync(api: Api, repo: Path) -> None:
    api.post("/projects/shop/sync", {"url": str(repo), "ref": "main"}, 200)


@pytest.mark.sandbox(speed=150)
def test_a_run_through_the_api_deploys_the_newest_matching_tag_by_digest(
    tmp_path: Path, sandbox: Sandbox, registry: SpecRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)  # the server's steps reach the sandbox
    repo = git_project(
        tmp_path, registry, "                tagRegex: ^1\\.\n                digest: resolve\n"
    )
    with live_server(tmp_path / "server") as live:
        api = live.client()
        sync(api, repo)
        body = {"inputs": network_inputs(sandbox)}
        run = api.post("/projects/shop/pipelines/demo_rolling/executions", body, 202).json()
        done = api.wait(run["id"], timeout=120)
        assert done["status"] == "Success", done
    host = registry.url.removeprefix("http://")
    digest = registry.add_image("demo/web", "1.10", created=TAGS["1.10"])  # the same image again: its digest
    assert deployed_image(sandbox) == f"{host}/demo/web@{digest}"
    assert registry.token_requests  # bearer tokens were asked for
    assert any("last=" in entry.path for entry in registry.log)  # the tag list came in pages


@pytest.mark.sandbox(speed=150)
@pytest.mark.parametrize(
    ("source", "trigger_inputs", "pinned"),
    [
        # the trigger's tag is the run's input, and the stage pins it to its digest
        (TAG_INPUT + "                digest: resolve\n", {"tag": "<+trigger.artifact.build>"}, True),
        # the stage picks the newest tag matching tagRegex: the one that fired the trigger
        ("                tagRegex: ^1\\.\n", {}, False),
    ],
    ids=["input-tag-digest-resolve", "tag-regex"],
)
def test_a_trigger_deploys_the_new_tag(
    tmp_path: Path,
    sandbox: Sandbox,
    registry: SpecRegistry,
    monkeypatch: pytest.MonkeyPatch,
    source: str,
    trigger_inputs: dict[str, str],
    pinned: bool,
) -> None:
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)
    trigger = {"trigger": {**TRIGGER["trigger"], "inputs": {**trigger_inputs, **network_inputs(sandbox)}}}
    repo = git_project(tmp_path, registry, source, yaml.safe_dump(trigger, sort_keys=False))
    with live_server(tmp_path / "server") as live:
        api = live.client()
        sync(api, repo)
        first = api.post("/projects/shop/triggers/on_web/poll", expect=200).json()
        assert first["error"] is None and first["executions"] == []  # tags already there never run
        digest = registry.add_image("demo/web", "1.11", created="2026-05-01T00:00:00Z")
        polled = api.post("/projects/shop/triggers/on_web/poll", expect=200).json()
        assert polled["new_tags"] == ["1.11"], polled
        [execution] = polled["executions"]
        done = api.wait(execution, timeout=120)
        assert done["status"] == "Success", done
    base = f"{registry.url.removeprefix('http://')}/demo/web"
    assert deployed_image(sandbox) == (f"{base}@{digest}" if pinned else f"{base}:1.11")
