"""Shared by test_shell_inputs.py and test_secret_masking.py: a project on a live server, run
to its end, and what each step logged."""

from __future__ import annotations

from typing import Any

import yaml

from tests.server.helpers import Api


def put_project(
    api: Api, name: str, documents: list[dict[str, Any]], secrets: dict[str, str] | None = None
) -> None:
    api.post("/projects", {"name": name}, 201)
    for identifier, value in (secrets or {}).items():
        api.put(f"/projects/{name}/secrets/{identifier}", {"value": value}, 200)
    api.put(f"/projects/{name}/entities", {"yaml": yaml.safe_dump_all(documents, sort_keys=False)}, 200)


def custom_pipeline(
    identifier: str, steps: list[Any], variables: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    stage = {
        "stage": {
            "name": "Run",
            "identifier": "run",
            "type": "Custom",
            "spec": {"execution": {"steps": steps}},
            "variables": [{"name": "who", "type": "String", "value": "<+input>"}],
        }
    }
    body: dict[str, Any] = {"name": identifier, "identifier": identifier, "stages": [stage]}
    if variables:
        body["variables"] = variables
    return {"pipeline": body}


def run(api: Api, project: str, pipeline: str, inputs: dict[str, Any] | None = None) -> dict[str, Any]:
    """Start the pipeline over the API and return the execution once it ended."""
    response = api.post(f"/projects/{project}/pipelines/{pipeline}/executions", {"inputs": inputs or {}}, 202)
    return api.wait(response.json()["id"], timeout=60)


def step_output(api: Api, execution_id: str) -> dict[str, str]:
    """What each step printed (its Execute section), by step identifier."""
    printed: dict[str, list[str]] = {}
    for line in api.get(f"/executions/{execution_id}/logs"):
        if line["section"] == "Execute":
            printed.setdefault(line["step_key"].rsplit("/", 1)[-1], []).append(line["message"])
    return {step: "\n".join(lines) for step, lines in printed.items()}
