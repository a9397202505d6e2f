"""The API behind the UI's pictures, against a real server: an execution's graph has the shape of
its pipeline (step groups with their rollback steps, parallel branches, looping iterations, the
stage's rollback steps) under the keys its step records carry; the timeline reads the ECS events
in the form the ECS steps log them; a project's deployment charts and an execution's traffic
answer for what they may see only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from corral.ecs.native.progress import progress_text
from corral.ecs.steady_state import event_lines
from corral.server.pictures.timeline import ecs_event, service_deployment_state

from .helpers import ENVIRONMENTS, Api, Live, live_server, shell

SHAPES = {
    "pipeline": {
        "name": "Shapes",
        "identifier": "shapes",
        "stages": [
            {
                "stage": {
                    "name": "Run",
                    "identifier": "run",
                    "type": "Custom",
                    "spec": {
                        "execution": {
                            "steps": [
                                {
                                    "stepGroup": {
                                        "name": "Prepare",
                                        "identifier": "prepare",
                                        "steps": [shell("make", "echo made")],
                                        "rollbackSteps": [shell("unmake", "echo unmade")],
                                    }
                                },
                                {"parallel": [shell("left", "echo left"), shell("right", "echo right")]},
                                {
                                    "step": {
                                        **shell("each", "echo <+repeat.item>")["step"],
                                        "strategy": {"repeat": {"items": ["a", "b", "c"]}},
                                    }
                                },
                                shell("boom", "exit 3"),
                                shell("never", "echo never"),
                            ],
                            "rollbackSteps": [shell("undo", "echo undone")],
                        }
                    },
                }
            }
        ],
    }
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Live, Api]]:
    with live_server(tmp_path / "server") as live:
        api = live.client()
        api.post("/projects", {"name": "demo", "yaml": ENVIRONMENTS + "---\n" + yaml.safe_dump(SHAPES)}, 201)
        yield live, api


def flat(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for node in nodes:
        out.append(node)
        out += flat(node.get("steps", []) + node.get("rollback", []) + node.get("branches", []))
    return out


def test_the_graph_has_the_pipelines_shape_under_the_step_records_keys(served: tuple[Live, Api]) -> None:
    _, api = served
    execution_id = api.post("/projects/demo/pipelines/shapes/executions", {}, 202).json()["id"]
    execution = api.wait(execution_id)
    assert execution["status"] == "Failed"
    graph = api.get(f"/executions/{execution_id}/graph")

    assert graph["name"] == "Shapes"
    [[stage]] = graph["stages"]
    kinds = [(n["kind"], n.get("name") or n["key"]) for n in stage["steps"]]
    assert kinds == [
        ("group", "Prepare"),
        ("parallel", "run/parallel"),
        ("parallel", "run/each"),
        ("step", "boom"),
        ("step", "never"),
    ]
    group, branches, loop = stage["steps"][:3]
    assert [s["name"] for s in group["steps"]] == ["make"]
    assert [s["name"] for s in group["rollback"]] == ["unmake"]
    assert (branches["loop"], [b["name"] for b in branches["branches"]]) == (False, ["left", "right"])
    assert loop["loop"] is True and len(loop["branches"]) == 3
    assert [s["name"] for s in stage["rollback"]] == ["undo"]

    # every step that ran has its node, under the same key; the one after the failure did not run
    keys = {n["key"] for n in flat(stage["steps"] + stage["rollback"])}
    ran = {s["key"]: s["status"] for s in execution["steps"]}
    assert set(ran) <= keys, set(ran) - keys
    by_name = {
        n.get("name"): n["key"] for n in flat(stage["steps"] + stage["rollback"]) if n["kind"] == "step"
    }
    assert ran[by_name["boom"]] == "Failed"
    assert by_name["never"] not in ran or ran[by_name["never"]] != "Success"
    assert ran[by_name["undo"]] == "Success"  # the rollback path the graph draws
    assert ran[by_name["unmake"]] == "Success"


def test_the_timeline_reads_ecs_events_as_the_ecs_steps_log_them() -> None:
    created = dt.datetime(2026, 12, 7, 15, 17, 26, 693000, tzinfo=dt.UTC)
    service = {
        "events": [
            {"id": "2", "createdAt": created, "message": "(service web) has reached a steady state."},
            {"id": "1", "createdAt": created, "message": "(service web) has started 2 tasks: (task abc)."},
        ]
    }
    lines = event_lines(service, set())
    parsed = [ecs_event(line) for line in lines]
    assert parsed == [
        {
            "ecs_time": "2026-12-07 15:17:26.693",
            "service": "web",
            "message": "(service web) has started 2 tasks: (task abc).",
        },
        {
            "ecs_time": "2026-12-07 15:17:26.693",
            "service": "web",
            "message": "(service web) has reached a steady state.",
        },
    ]
    assert ecs_event("Waiting for Service web to reach steady state") is None


def test_timeline_of_a_run_without_aws_has_its_steps_and_no_event(served: tuple[Live, Api]) -> None:
    _, api = served
    execution_id = api.post("/projects/demo/pipelines/shapes/executions", {}, 202).json()["id"]
    api.wait(execution_id)
    timeline = api.get(f"/executions/{execution_id}/timeline")
    names = [s["name"] for s in timeline["steps"]]
    assert "boom" in names and "undo" in names and "Prepare" not in names  # groups: their steps are drawn
    assert timeline["events"] == []
    assert timeline["start"] <= min(s["started_at"] for s in timeline["steps"])
    assert timeline["end"] >= max(s["ended_at"] for s in timeline["steps"])


def test_pictures_answer_only_for_what_the_caller_may_see(served: tuple[Live, Api]) -> None:
    _, api = served
    execution_id = api.post("/projects/demo/pipelines/shapes/executions", {}, 202).json()["id"]
    api.wait(execution_id)
    assert api.get(f"/executions/{execution_id}/traffic") == {"stages": []}  # a Custom stage deploys nothing
    assert api.get("/projects/demo/deployments") == {"project": "demo", "services": []}
    api.post("/projects", {"name": "other", "yaml": ENVIRONMENTS}, 201)
    stranger = api.user("sam", project="other", role="viewer")
    for path in ("graph", "timeline", "traffic"):
        stranger.get(f"/executions/{execution_id}/{path}", 404)
    stranger.get("/projects/demo/deployments", 404)
    api.get("/projects/nowhere/deployments", 404)


def test_the_timeline_reads_service_deployment_states_as_the_native_steps_log_them() -> None:
    deployment = {
        "serviceDeploymentArn": "arn:aws:ecs:us-east-1:1:service-deployment/c/web/abc123",
        "status": "IN_PROGRESS",
        "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
    }
    assert service_deployment_state(progress_text(deployment)) == (
        "abc123",
        "IN_PROGRESS",
        "POST_TEST_TRAFFIC_SHIFT",
    )
    assert service_deployment_state(progress_text({**deployment, "lifecycleStage": None})) == (
        "abc123",
        "IN_PROGRESS",
        "",
    )
    assert service_deployment_state("Service deployment abc123 is SUCCESSFUL") is None
