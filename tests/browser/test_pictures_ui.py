"""The pictures of the web UI in headless Chromium against the sandbox: the pipeline graph shows
a failed step and the rollback that followed it (and step groups, parallel branches, looping
iterations), the timeline holds the ECS events the steps logged, the traffic picture shows the
weights of a traffic shift while it waits half way and after it, and of ECS's own blue/green
while it pauses and after; the charts count each service's deployments by outcome.

With CORRAL_UPDATE_SCREENSHOTS=1 each view is also saved to docs/images/ (docs/server.md shows
them; tests/status/test_docs_pictures.py checks every one is shown); otherwise screenshots go to
test-output/browser/ as in the other browser tests.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from corral.demo import pipeline_inputs
from corral.demo.sandbox_inputs import DEMO_IMAGES
from tests.server.helpers import ENVIRONMENTS, live_server
from tests.server.test_pictures_api import SHAPES

from .conftest import DEMO, ROOT, DemoServer
from .test_ui import sign_in

DOCS_IMAGES = ROOT / "docs" / "images"
GATED_SHIFT = "pics_shift_gate"


def keep(target: Any, name: str) -> None:
    """Save the view to docs/images/<name>.png when asked to (CORRAL_UPDATE_SCREENSHOTS=1)."""
    if os.environ.get("CORRAL_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        target.screenshot(path=str(DOCS_IMAGES / f"{name}.png"))


def brightness(css_color: str) -> float:
    """0 (black) to 1 (white), of an `rgb(r, g, b)` computed colour."""
    red, green, blue = (int(v) for v in re.findall(r"\d+", css_color)[:3])
    return (0.2126 * red + 0.7152 * green + 0.0722 * blue) / 255


def run(demo: DemoServer, pipeline: str, **extra: str) -> str:
    inputs = pipeline_inputs(demo.prepared, pipeline) | extra
    body = {"inputs": inputs}
    return str(demo.api.post(f"/projects/demo/pipelines/{pipeline}/executions", body, 202).json()["id"])


def graph_node(page: Any, label: str) -> Any:
    node = page.locator(f'figure.pic-graph [role="button"][aria-label="{label}"]')
    node.wait_for(timeout=60_000)
    return node


def test_graph_shows_the_failed_step_and_its_rollback_and_the_timeline_its_ecs_events(
    demo_server: DemoServer, page: Any, shots: Any
) -> None:
    demo_server.sandbox.admin.set_images(*DEMO_IMAGES)  # tag `broken` crashes after it starts
    first = run(demo_server, "demo_rolling")
    assert demo_server.api.wait(first, timeout=60)["status"] == "Success"
    broken = run(demo_server, "demo_rolling", tag="broken")
    sign_in(page, demo_server.url)
    page.goto(f"{demo_server.url}/ui/#/executions/{broken}")

    # the graph: the deploy step failed, the rollback ran, a dashed path joins them
    failed = graph_node(page, "ECS Rolling Deploy: Failed")
    assert "✗" in (failed.text_content() or "")  # an icon and the word, not colour alone
    graph_node(page, "ECS Rolling Rollback: Success")
    graph = page.locator("figure.pic-graph")
    assert graph.locator(".pic-rollback-path").count() == 1
    assert "Stage rollback" in (graph.text_content() or "")
    assert "rolled back" in (graph.locator(".pic-stage-title").text_content() or "")
    execution = demo_server.api.get(f"/executions/{broken}")
    assert execution["status"] == "Failed" and execution["stages"][0]["rolled_back"]

    # keyboard: the node takes focus and Enter leads to the step's row
    failed.focus()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Logs of ECS Rolling Deploy"

    # the timeline: every ECS event the steps logged, the failure's marked as a problem
    logged = [
        line["message"].removeprefix("# AWS Event: ")
        for line in demo_server.api.get(f"/executions/{broken}/logs")
        if line["message"].startswith("# AWS Event: ")
    ]
    assert any("deployment failed" in message for message in logged)
    events = page.get_by_role("list", name="ECS events")
    events.get_by_text("deployment failed", exact=False).first.wait_for()
    shown = events.locator('li[data-kind="service-event"]').all_inner_texts()
    assert len(shown) == len(logged)
    for message, text in zip(logged, shown, strict=True):
        ecs_time, rest = message.split(" ", 2)[:2], message.split(" ", 2)[2]
        assert " ".join(ecs_time) in text and rest in text
    assert events.locator("li.problem").filter(has_text="deployment failed").count() >= 1
    timeline = page.locator("figure.pic-timeline")
    assert timeline.locator('.pic-bar[aria-label^="ECS Rolling Deploy: Failed"]').count() == 1
    assert timeline.locator('.pic-bar[aria-label^="ECS Rolling Rollback: Success"]').count() == 1
    assert timeline.locator('.pic-event[data-kind="service-event"]').count() == len(logged)
    shots(page, "failed-and-rolled-back")
    keep(graph, "pipeline-graph")
    keep(timeline, "deployment-timeline")

    # the dark theme: the same pictures, light text on a dark surface
    light_text = failed.locator(".pic-name").evaluate("n => getComputedStyle(n).fill")
    page.emulate_media(color_scheme="dark")
    dark_text = failed.locator(".pic-name").evaluate("n => getComputedStyle(n).fill")
    surface = graph.evaluate("n => getComputedStyle(n).backgroundColor")
    assert light_text != dark_text
    assert brightness(dark_text) > 0.7 > 0.3 > brightness(surface), (dark_text, surface)
    shots(page, "dark")
    keep(graph, "pipeline-graph-dark")
    page.emulate_media(color_scheme="light")

    # the charts: demo_web's two deployments, one succeeded, one failed and rolled back
    page.goto(f"{demo_server.url}/ui/#/projects/demo/deployments")
    chart = page.get_by_role("group", name="Deployments of demo_web to sandbox")
    chart.wait_for()
    assert chart.locator("a").count() == 2
    chart.locator('a[aria-label^="#1 "][aria-label*="Success"]').wait_for()
    chart.locator('a[aria-label^="#2 "][aria-label*="Failed"]').wait_for()
    summary = page.locator("section.pic-chart").filter(has=chart)
    assert "2 deployments: 1 succeeded, 1 failed" in summary.inner_text()
    shots(page, "charts")
    keep(summary, "deployment-charts")
    chart.locator('a[aria-label^="#2 "]').click()
    page.wait_for_url(re.compile(rf".*#/executions/{broken}$"))


def gated_traffic_shift(repo: Path) -> None:
    """demo_trafficshift with an approval between the 50 % and the 100 % shift, so the picture
    can be read half way."""
    document = yaml.safe_load((DEMO / "pipelines" / "trafficshift.yaml").read_text(encoding="utf-8"))
    pipeline = document["pipeline"]
    pipeline["name"], pipeline["identifier"] = "Gated traffic shift", GATED_SHIFT
    steps = pipeline["stages"][0]["stage"]["spec"]["execution"]["steps"]
    gate = {
        "step": {
            "name": "Half way",
            "identifier": "half_way",
            "type": "HarnessApproval",
            "timeout": "1d",
            "spec": {"approvalMessage": "Half the traffic is on the new service. Go on?"},
        }
    }
    steps.insert(2, gate)
    (repo / "pipelines" / f"{GATED_SHIFT}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(repo)]
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-q", "-m", "a gated traffic shift"], check=True)


def target(page: Any, name: str, percent: str, listener: str = "HTTP:80") -> Any:
    """The target group's box under the (prod) listener once it shows `percent` of its traffic."""
    box = page.locator(
        f'figure.pic-traffic .pic-target[data-listener="{listener}"]'
        f'[data-target-group="{name}"][data-percent="{percent}"]'
    )
    box.wait_for(timeout=60_000)
    return box


def test_traffic_picture_shows_the_weights_during_and_after_a_traffic_shift(
    demo_server: DemoServer, page: Any, shots: Any, tmp_path: Path
) -> None:
    repo = tmp_path / "demo-repo"
    gated_traffic_shift(repo)
    demo_server.api.post("/projects/demo/sync", {"url": str(repo), "ref": "main"}, 200)
    inputs = pipeline_inputs(demo_server.prepared, "demo_trafficshift")
    started = demo_server.api.post(
        f"/projects/demo/pipelines/{GATED_SHIFT}/executions", {"inputs": inputs}, 202
    ).json()["id"]
    demo_server.api.wait_approval(started, timeout=60)
    sign_in(page, demo_server.url)
    page.goto(f"{demo_server.url}/ui/#/executions/{started}")

    # half way: the prod listener's rule sends 50 % to each target group; the new one serves demo-bg__1
    blue, green = "corral-demo-blue", "corral-demo-green"
    new = target(page, green, "50")
    target(page, blue, "50")
    said = new.get_attribute("aria-label") or ""  # what a screen reader says of the box
    assert "50% of HTTP:80" in said and "demo-bg__1" in said, said
    assert re.search(r"\d+/\d+ healthy", new.text_content() or "")
    picture = page.locator("figure.pic-traffic")
    assert "listener HTTP:80" in (picture.first.text_content() or "")
    assert picture.locator('.pic-service[data-service="demo-bg__1"]').count() >= 1
    graph_node(page, "Half the traffic: Success")
    graph_node(page, "Half way: ApprovalWaiting")
    graph_node(page, "All the traffic: Not started")
    shots(page, "half-way")
    keep(picture, "traffic-during-shift")

    # approved: the same page, without a reload, shows all the traffic on the new service
    demo_server.api.post(f"/executions/{started}/approval", {"approve": True}, 202)
    target(page, green, "100")
    target(page, blue, "0")
    assert demo_server.api.wait(started, timeout=60)["status"] == "Success"
    page.get_by_role("status", name="Execution status").get_by_text("Success").wait_for(timeout=60_000)
    target(page, green, "100")
    graph_node(page, "All the traffic: Success")  # the graph followed on the same page too
    shots(page, "shifted")
    keep(picture, "traffic-after-shift")

    # what the picture shows is what the load balancer says
    elb = demo_server.sandbox.client("elbv2")
    rules = elb.describe_rules(ListenerArn=demo_server.prepared["prodListener"])["Rules"]
    weights = {
        group["TargetGroupArn"].split("/")[1]: group["Weight"]
        for rule in rules
        for action in rule["Actions"]
        if action["Type"] == "forward"
        for group in action.get("ForwardConfig", {}).get("TargetGroups", [])
    }
    assert weights[green] > 0 and weights[blue] == 0, weights


def rule_target(page: Any, role: str, name: str, percent: str) -> Any:
    """The target group's box under the rule with `role` once it shows `percent`."""
    box = page.locator(
        f'figure.pic-traffic .pic-target[data-rule-role="{role}"]'
        f'[data-target-group="{name}"][data-percent="{percent}"]'
    )
    box.wait_for(timeout=60_000)
    return box


def test_traffic_picture_of_ecs_blue_green_while_it_pauses_and_after(
    demo_server: DemoServer, page: Any, shots: Any
) -> None:
    """ECS's own blue/green moves its rules' weights itself: while the deployment waits at its
    PAUSE hook (test traffic on the new revision), then once production traffic moved."""
    url = f"{demo_server.sandbox.endpoint_url}/_sandbox/health"
    first = run(demo_server, "demo_native", url=url)
    assert demo_server.api.wait(first, timeout=60)["status"] == "Success"
    second = run(demo_server, "demo_native", url=url, tag="2")
    demo_server.api.wait_approval(second, timeout=60)
    sign_in(page, demo_server.url)
    page.goto(f"{demo_server.url}/ui/#/executions/{second}")

    prepared = demo_server.prepared
    blue = prepared["nativeBlueTargetGroup"].split("/")[1]
    green = prepared["nativeGreenTargetGroup"].split("/")[1]
    elb = demo_server.sandbox.client("elbv2")

    def weights(rule_arn: str) -> dict[str, int]:
        [rule] = elb.describe_rules(RuleArns=[rule_arn])["Rules"]
        forward = next(a for a in rule["Actions"] if a["Type"] == "forward")
        groups = forward.get("ForwardConfig", {}).get("TargetGroups", [])
        return {g["TargetGroupArn"].split("/")[1]: g.get("Weight", 1) for g in groups}

    def shown_as_aws_says() -> None:
        for role, rule_arn in (("production", "nativeProductionRule"), ("test", "nativeTestRule")):
            found = weights(prepared[rule_arn])
            total = sum(found.values())
            for name, weight in found.items():
                rule_target(page, role, name, str(round(100 * weight / total) if total else 0))

    # paused: production still on the old revision's group, test traffic on the new one
    before = weights(prepared["nativeProductionRule"])
    assert before != weights(prepared["nativeTestRule"])
    shown_as_aws_says()
    graph_node(page, "Steer the paused deployment: Running")  # the step group, framed
    graph_node(page, "Approve production traffic: ApprovalWaiting")
    # the timeline: the service deployment's states as ECS reported them, up to the pause
    states = page.get_by_role("list", name="ECS events").locator('li[data-kind="service-deployment"]')
    states.filter(has_text="stage POST_TEST_TRAFFIC_SHIFT").first.wait_for()
    assert states.filter(has_text="stage SCALE_UP").count() >= 1
    assert page.locator("figure.pic-traffic .pic-rule").filter(has_text="production").count() == 1
    assert page.locator("figure.pic-traffic .pic-rule").filter(has_text="test").count() == 1
    shots(page, "paused")
    keep(page.locator("figure.pic-traffic").first, "traffic-ecs-blue-green-paused")

    demo_server.api.post(f"/executions/{second}/approval", {"approve": True}, 202)
    assert demo_server.api.wait(second, timeout=90)["status"] == "Success"
    page.get_by_role("status", name="Execution status").get_by_text("Success").wait_for(timeout=60_000)
    after = weights(prepared["nativeProductionRule"])
    assert after != before and {blue, green} == set(after), (before, after)
    shown_as_aws_says()
    shots(page, "continued")


def test_graph_of_groups_parallel_branches_and_iterations(tmp_path: Path, page: Any, shots: Any) -> None:
    with live_server(tmp_path / "server") as live:
        api = live.client()
        api.post("/projects", {"name": "demo", "yaml": ENVIRONMENTS + "---\n" + yaml.safe_dump(SHAPES)}, 201)
        execution_id = api.post("/projects/demo/pipelines/shapes/executions", {}, 202).json()["id"]
        execution = api.wait(execution_id)
        sign_in(page, live.url)
        page.goto(f"{live.url}/ui/#/executions/{execution_id}")
        graph_node(page, "boom: Failed")
        graph = page.locator("figure.pic-graph")
        loop = graph.locator(".pic-loop")
        assert loop.count() == 1 and "3 iterations" in (loop.text_content() or "")
        iterations = [s for s in execution["steps"] if s["key"].startswith("run/each")]
        assert len(iterations) == 3
        for step in iterations:  # each iteration is a node with its own state
            graph_node(page, f"{step['name']}: {step['status']}")
        for name in ("left", "right", "make"):
            graph_node(page, f"{name}: Success")
        graph_node(page, "Prepare: Success")  # the group's frame
        graph_node(page, "unmake: Success")  # its rollback step, inside the frame
        graph_node(page, "undo: Success")  # the stage's
        graph_node(page, "never: Not started")
        assert graph.locator(".pic-rollback-path").count() == 1
        shots(page, "shapes")
