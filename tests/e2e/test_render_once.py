"""`corral run` (a separate process) deploys a service rendered once, when its stage starts:
artifact sources that need a registry (tagRegex, `digest: resolve`) against a registry with
bearer tokens and paged tag lists, a JSON task definition written as Harness users write it
(unquoted expressions, a secret inside a JSON string), and a resumed execution that deploys
what its stage rendered before the crash, not what the manifest says now."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from corral.demo import pipeline_inputs, prepare_sandbox
from corral.sandbox import Sandbox
from corral.store import Store
from tests.artifacts.registries import SpecRegistry

from .conftest import DEMO, aws_environment

SECRET = "s3cr3t-db-pass"
TAGS = {  # created out of version order: the newest 1.x is 1.10
    "1.8": "2026-01-01T00:00:00Z",
    "1.10": "2026-03-01T00:00:00Z",
    "1.9": "2026-02-01T00:00:00Z",
    "2.0": "2026-04-01T00:00:00Z",
    "latest": "2026-04-01T00:00:00Z",
}

# follows the JSON task definitions of Harness's ECS docs and harness-community samples:
# expressions written bare where a value stands and a secret inside a JSON string
TASK_JSON = """{
  "family": <+service.identifier>,
  "requiresCompatibilities": ["FARGATE"],
  "networkMode": "awsvpc",
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {
      "name": "app",
      "image": "<+artifact.image>",
      "essential": true,
      "environment": [
        {"name": "DB_PASSWORD", "value": "<+secrets.getValue("db_password")>"},
        {"name": "MANIFEST", "value": "first"}
      ],
      "portMappings": [{"containerPort": 80, "protocol": "tcp"}]
    }
  ]
}
"""

SECRET_YAML = """secret:
  type: SecretText
  name: DB password
  identifier: db_password
  spec:
    secretManagerIdentifier: env
    value: DEMO_DB_PASSWORD
"""


@pytest.fixture
def registry() -> Iterator[SpecRegistry]:
    with SpecRegistry(bearer=True, default_page=2) as running:  # 5 tags: three pages
        for tag, created in TAGS.items():
            running.add_image("demo/web", tag, created=created)
        yield running


def project(tmp_path: Path, registry: SpecRegistry, source: str) -> Path:
    """examples/sandbox-demo, its registry connector at the test registry, the web service's
    artifact source as given and its task definition as TASK_JSON."""
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".corral"))
    connectors = root / "connectors" / "aws.yaml"
    connectors.write_text(
        connectors.read_text().replace("https://registry.demo.internal/v2/", registry.url + "/v2/")
        + "---\n"
        + SECRET_YAML
    )
    service = root / "services" / "web.yaml"
    service.write_text(
        service.read_text()
        .replace('                tag: <+input>.default("1")\n', source)
        .replace("RegisterTaskDefinitionRequest.yaml", "task.json")
    )
    (root / "files" / "account" / "web" / "task.json").write_text(TASK_JSON)
    return root


def corral_run(root: Path, sandbox: Sandbox, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, **aws_environment(sandbox.endpoint_url), "DEMO_DB_PASSWORD": SECRET}
    return subprocess.Popen(
        [sys.executable, "-m", "corral.cli", *args, "--project", str(root)],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def inputs(sandbox: Sandbox) -> list[str]:
    found = pipeline_inputs(prepare_sandbox(sandbox.endpoint_url), "demo_rolling")
    return [arg for key, value in found.items() for arg in ("--input", f"{key}={value}")]


def deployed(sandbox: Sandbox) -> dict[str, Any]:
    ecs = sandbox.client("ecs")
    [service] = ecs.describe_services(cluster="corral-demo", services=["demo-web"])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    return task


def run_to_end(root: Path, sandbox: Sandbox) -> str:
    process = corral_run(root, sandbox, "run", "demo_rolling", *inputs(sandbox), "--json")
    out, err = process.communicate(timeout=180)
    assert process.returncode == 0, out + err
    assert SECRET not in out + err
    return out


def journal_text(root: Path) -> str:
    store = Store.open(f"sqlite:///{root / '.corral' / 'corral.db'}")
    try:
        [execution] = store.executions(limit=1)
        return json.dumps([e.payload for e in store.journal(execution.id)])
    finally:
        store.close()


def test_tag_regex_deploys_the_newest_matching_tag(
    tmp_path: Path, sandbox: Sandbox, registry: SpecRegistry
) -> None:
    root = project(tmp_path, registry, "                tagRegex: ^1\\.\n")
    run_to_end(root, sandbox)
    task = deployed(sandbox)
    host = registry.url.removeprefix("http://")
    [container] = task["containerDefinitions"]
    assert container["image"] == f"{host}/demo/web:1.10"
    assert task["family"] == "demo_web"  # "family": <+service.identifier>, unquoted
    assert {"name": "DB_PASSWORD", "value": SECRET} in container["environment"]
    assert registry.token_requests  # bearer tokens were asked for
    assert any("last=" in entry.path for entry in registry.log)  # the tag list came in pages
    journal = journal_text(root)
    assert SECRET not in journal
    assert '<+secrets.getValue(\\"db_password\\")>' in journal  # the stage journaled the reference


def test_digest_resolve_deploys_the_image_by_digest(
    tmp_path: Path, sandbox: Sandbox, registry: SpecRegistry
) -> None:
    digest = registry.repositories["demo/web"]["1.9"]
    root = project(tmp_path, registry, '                tag: "1.9"\n                digest: resolve\n')
    run_to_end(root, sandbox)
    [container] = deployed(sandbox)["containerDefinitions"]
    host = registry.url.removeprefix("http://")
    assert container["image"].startswith(f"{host}/demo/web@sha256:")
    assert registry.repositories["demo/web"][container["image"].split("@", 1)[1]] == digest


@pytest.mark.sandbox(speed=20)
def test_a_resumed_run_deploys_what_its_stage_rendered_before_the_crash(
    tmp_path: Path, sandbox: Sandbox, registry: SpecRegistry
) -> None:
    root = project(tmp_path, registry, "                tagRegex: ^1\\.\n")
    store_url = f"sqlite:///{root / '.corral' / 'corral.db'}"
    process = corral_run(root, sandbox, "run", "demo_rolling", *inputs(sandbox), "--json")
    store = _wait_for_store(root)
    deadline = time.monotonic() + 60
    while not any(s.identifier == "EcsRollingDeploy" and s.status == "Running" for s in _steps(store)):
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the deploy step never started"
        time.sleep(0.02)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    [execution] = store.executions(limit=1)
    store.close()
    # after the crash the manifest and the registry change: the stage already rendered
    task = root / "files" / "account" / "web" / "task.json"
    task.write_text(task.read_text().replace('"first"', '"second"'))
    registry.add_image("demo/web", "1.11", created="2026-05-01T00:00:00Z")
    resumed = corral_run(root, sandbox, "resume", execution.id, "--force", "--store", store_url)
    out, err = resumed.communicate(timeout=180)
    assert resumed.returncode == 0, out + err
    [container] = deployed(sandbox)["containerDefinitions"]
    assert {"name": "MANIFEST", "value": "first"} in container["environment"]
    assert container["image"].endswith("/demo/web:1.10")


def _wait_for_store(root: Path) -> Store:
    path = root / ".corral" / "corral.db"
    deadline = time.monotonic() + 60
    while not path.exists():
        assert time.monotonic() < deadline, "the run never opened its store"
        time.sleep(0.05)
    return Store.open(f"sqlite:///{path}")


def _steps(store: Store) -> list[Any]:
    found = store.executions(limit=1)
    return list(store.steps(found[0].id)) if found else []
