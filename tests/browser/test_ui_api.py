"""The API routes the UI adds (corral.server.routes_ui): a pipeline's run form and the AWS
look-ups through a project's connector, against the sandbox. No browser needed."""

from __future__ import annotations

from typing import Any

from .conftest import DemoServer


def fields(api: Any, pipeline: str) -> dict[str, dict[str, Any]]:
    form = api.get(f"/projects/demo/pipelines/{pipeline}/form")
    return {field["key"]: field for field in form["fields"]}


def test_run_form_lists_the_inputs_of_the_pipeline_its_service_and_infrastructure(
    demo_server: DemoServer,
) -> None:
    found = fields(demo_server.api, "demo_bluegreen")
    assert list(found) == [
        "loadBalancer",
        "prodListener",
        "stageListener",
        "downsizeOldServiceDelayInSecs",
        "tag",
        "subnets[0]",
        "securityGroups[0]",
    ]
    assert found["loadBalancer"]["aws"] == "load-balancers"
    assert (found["prodListener"]["aws"], found["prodListener"]["depends_on"]) == (
        "listeners",
        "loadBalancer",
    )
    assert (found["prodListener"]["connector"], found["prodListener"]["region"]) == (
        "sandbox_aws",
        "us-east-1",
    )
    assert found["tag"]["source"] == "service demo_bg" and found["tag"]["default"] == "1"
    assert found["subnets[0]"]["source"] == "infrastructure sandbox/sandbox"
    assert found["downsizeOldServiceDelayInSecs"]["aws"] is None


def test_aws_lookups_through_the_connector(demo_server: DemoServer) -> None:
    api, prepared = demo_server.api, demo_server.prepared
    ask = {"connector": "sandbox_aws", "region": "us-east-1"}
    assert api.get("/projects/demo/aws/clusters", params=ask) == [
        {"value": "corral-demo", "label": "corral-demo"}
    ]
    balancers = api.get("/projects/demo/aws/load-balancers", params=ask)
    assert [b["value"] for b in balancers] == ["corral-demo", "corral-demo-native"]
    listeners = api.get("/projects/demo/aws/listeners", params=ask | {"loadBalancer": "corral-demo"})
    assert [(item["value"], item["label"]) for item in listeners] == [
        (prepared["prodListener"], "HTTP:80"),
        (prepared["stageListener"], "HTTP:8080"),
    ]
    rules = api.get("/projects/demo/aws/rules", params=ask | {"listener": prepared["prodListener"]})
    assert [rule["label"] for rule in rules] == ["default rule"]
    groups = api.get("/projects/demo/aws/target-groups", params=ask)
    native = [
        prepared[f"{name}{color}TargetGroup"] for name in ("native", "linear") for color in ("Blue", "Green")
    ]
    assert {g["value"] for g in groups} == {
        prepared["prodTargetGroupArn"],
        prepared["stageTargetGroupArn"],
        *native,
    }
    assert any(g["label"].startswith("corral-demo-blue") for g in groups)


def test_lookup_problems_are_plain_answers(demo_server: DemoServer) -> None:
    api = demo_server.api
    missing = api.call("GET", "/projects/demo/aws/listeners", params={"connector": "sandbox_aws"})
    assert (missing.status_code, missing.json()["detail"]) == (422, "choose a load balancer first")
    unknown = api.call("GET", "/projects/demo/aws/clusters", params={"connector": "nope"})
    assert unknown.status_code == 404 and "no AWS connector 'nope'" in unknown.json()["detail"]
    not_aws = api.call("GET", "/projects/demo/aws/clusters", params={"connector": "demo_registry"})
    assert not_aws.status_code == 404
    no_form = api.call("GET", "/projects/demo/pipelines/nope/form")
    assert no_form.status_code == 404
    stranger = demo_server.live.client(token="crl_not-a-token")
    assert stranger.call("GET", "/projects/demo/pipelines/demo_bluegreen/form").status_code == 401
