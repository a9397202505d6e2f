"""Shared by the manifest tests: the seed fixtures and small builders."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from corral.manifests import ManifestFile, ManifestKind, parse_manifest, to_api

DATA = Path(__file__).parent / "data"

SEED_KINDS: dict[str, ManifestKind] = {
    "bluegreen-service-definition.yaml": ManifestKind.SERVICE_DEFINITION,
    "bluegreen-task-definition.yaml": ManifestKind.TASK_DEFINITION,
    "firstgen-daemon-service.json": ManifestKind.SERVICE_DEFINITION,
    "firstgen-replica-service.json": ManifestKind.SERVICE_DEFINITION,
    "firstgen-service-discovery-service.json": ManifestKind.SERVICE_DEFINITION,
    "firstgen-tags-service.json": ManifestKind.SERVICE_DEFINITION,
    "firstgen-task-definition.json": ManifestKind.TASK_DEFINITION,
    "run-task-definition.yaml": ManifestKind.TASK_DEFINITION,
    "run-task-request.yaml": ManifestKind.RUN_TASK_REQUEST,
    "scalable-target.yaml": ManifestKind.SCALABLE_TARGET,
    "scaling-policy.yaml": ManifestKind.SCALING_POLICY,
    "tutorial-service-definition.json": ManifestKind.SERVICE_DEFINITION,
    "tutorial-service-definition.yaml": ManifestKind.SERVICE_DEFINITION,
    "tutorial-task-definition.json": ManifestKind.TASK_DEFINITION,
    "tutorial-task-definition.yaml": ManifestKind.TASK_DEFINITION,
}


def seed_doc(name: str) -> Any:
    return parse_manifest(ManifestFile(source=name, text=(DATA / name).read_text()))


def seed_request(name: str) -> dict[str, Any]:
    return to_api(SEED_KINDS[name], seed_doc(name), source=name)


def fargate_task(**changes: Any) -> dict[str, Any]:
    """A converted Fargate task definition (the tutorial's), with members replaced."""
    request = seed_request("tutorial-task-definition.yaml")
    request.update(changes)
    return request


def container(name: str = "web", *ports: int, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "image": "nginx:1.27",
        "portMappings": [{"containerPort": p} for p in ports],
        **extra,
    }
