"""The pure parts of the status model: which deployment counts as the last one, and drift."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from corral.status import Deployment, LiveService, LiveState, drift, last_deployments
from corral.status.model import TaskCounts

BASE = Deployment(
    execution_id="e1",
    pipeline="deploy_web",
    pipeline_name="Deploy web",
    sequence_id=1,
    stage="deploy",
    service="web",
    environment="prod",
    infrastructure="main",
    status="Success",
    execution_status="Success",
    rolled_back=False,
    triggered_by="ana",
    started_at=1.0,
    ended_at=2.0,
    ecs_service="web",
    cluster="c",
    region="us-east-1",
    connector="aws",
    image="repo/web:1",
    tag="1",
    task_definition="web:1",
)


def live(image: str, revision: str, **service: Any) -> LiveState:
    one = LiveService(
        name="web",
        status="ACTIVE",
        role=None,
        serves_production=None,
        task_definition=revision,
        images=[image],
        counts=TaskCounts(2, 2, 0),
        deployments=[],
        controller="ECS",
        strategy=None,
        service_deployment=None,
        target_groups=[],
        autoscaling=None,
    )
    return LiveState(exists=True, kind="rolling", services=[replace(one, **service)], routes=[])


def test_the_last_success_counts_and_a_newer_failure_is_the_last_attempt() -> None:
    failed = replace(BASE, execution_id="e3", sequence_id=3, status="Failed", rolled_back=True, tag="3")
    older = replace(BASE, execution_id="e1")
    newer = replace(BASE, execution_id="e2", sequence_id=2, tag="2")
    latest = last_deployments([failed, newer, older])  # newest first, as the store answers
    success, attempt = latest[("web", "prod", "main")]
    assert (success and success.execution_id, attempt and attempt.execution_id) == ("e2", "e3")


def test_a_rolled_back_success_is_not_what_runs() -> None:
    undone = replace(BASE, execution_id="e2", rolled_back=True)
    success, attempt = last_deployments([undone, BASE])[("web", "prod", "main")]
    assert success is BASE and attempt is undone


def test_drift_names_the_image_and_revision_that_differ() -> None:
    assert drift(live("repo/web:1", "web:1"), BASE) == []
    found = drift(live("repo/web:9", "web:4"), BASE)
    assert found == [
        "web runs repo/web:9; execution #1 of deploy_web deployed repo/web:1",
        "web runs task definition web:4; execution #1 of deploy_web registered web:1",
    ]


def test_a_missing_service_is_drift_and_one_never_deployed_is_not() -> None:
    gone = LiveState(exists=False, kind="missing", services=[], routes=[])
    assert drift(gone, BASE) == ["the service web is missing in AWS; execution #1 of deploy_web deployed it"]
    assert drift(live("repo/web:9", "web:4"), None) == []


def test_blue_green_compares_the_service_production_traffic_reaches() -> None:
    state = live("repo/web:1", "web:1", name="web__1", role="GREEN", serves_production=False)
    blue = replace(
        state.services[0], name="web__2", role="BLUE", serves_production=True, images=["repo/web:0"]
    )
    state.services.append(blue)
    assert drift(state, BASE) == ["web__2 runs repo/web:0; execution #1 of deploy_web deployed repo/web:1"]


def test_a_split_production_is_no_drift_while_the_deployed_image_has_a_share() -> None:
    state = live("repo/web:1", "web:1", name="web__1", serves_production=True)
    old = replace(state.services[0], name="web__2", serves_production=True, images=["repo/web:0"])
    state.services.append(old)
    assert drift(state, BASE) == []
    state.services[0].images = ["repo/web:9"]
    assert drift(state, BASE) == [
        "web__1, web__2 runs repo/web:9, repo/web:0; execution #1 of deploy_web deployed repo/web:1"
    ]
