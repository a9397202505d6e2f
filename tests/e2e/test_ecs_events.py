"""The demo's rolling pipeline with its AWS connector naming a queue of ECS events (ecsEventQueues).

The steps notice the end of each deployment from the queue's events, and a failing deployment
still rolls back to the exact state before it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from corral.aws.clients import AwsSettings, Clients
from corral.aws.event_queue import ensure_event_queue
from corral.aws.events import EcsEventFeed
from corral.config import load_project

from .conftest import DEMO, Demo
from .state import image_of, services


def with_event_queue(demo: Demo, tmp_path: Path) -> tuple[Demo, str, Clients]:
    settings = AwsSettings(
        region="us-east-1",
        endpoint_url=demo.sandbox.endpoint_url,
        access_key_id="testing",
        secret_access_key="testing",
    )
    clients = Clients(settings)
    queue = ensure_event_queue(clients, "demo-ecs-events").queue_url
    project_dir = tmp_path / "project"
    shutil.copytree(DEMO, project_dir)
    connectors = project_dir / "connectors" / "aws.yaml"
    documents = list(yaml.safe_load_all(connectors.read_text()))
    documents[0]["connector"]["spec"]["ecsEventQueues"] = {"us-east-1": queue}
    connectors.write_text(yaml.safe_dump_all(documents, sort_keys=False))
    demo.project = load_project(project_dir)
    return demo, queue, clients


def test_rolling_with_an_event_queue_deploys_and_rolls_back(demo: Demo, tmp_path: Path) -> None:
    demo, queue, clients = with_event_queue(demo, tmp_path)
    assert demo.run("demo_rolling", tag="1").status == "Success"
    second = demo.run("demo_rolling", tag="2")
    assert second.status == "Success", second.error
    ecs = demo.client("ecs")
    before = services(ecs)
    assert image_of(ecs, before["demo-web"]["taskDefinition"]).endswith("demo/web:2")
    feed = EcsEventFeed.for_queue(clients, queue)
    assert feed.received > 0, "the steps' poller read the queue"

    demo.sandbox.admin.set_images({"image": "*:broken", "pullFailure": "manifest unknown"})
    failed = demo.run("demo_rolling", tag="broken")
    assert failed.status == "Failed"
    assert failed.step("EcsRollingRollback").status == "Success"
    assert services(ecs) == before
