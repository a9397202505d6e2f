"""The services dashboard in a real browser against a real server and the sandbox: during a blue
green (the new service GREEN behind the stage listener, production on BLUE), after its swap, during
a traffic shift held at 50% by an approval and after it; a service's history; keyboard use;
the dark theme. Screenshots: test-output/browser/<test>/, and docs/images/ when
CORRAL_UPDATE_SCREENSHOTS=1 (the docs use those)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from corral.demo import pipeline_inputs

from .conftest import DemoServer
from .test_ui import sign_in

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"
TRAFFIC_SHIFT = (
    Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo" / "pipelines" / "trafficshift.yaml"
)
APPROVAL = """              - step:
                  name: Approve the rest
                  identifier: approve_rest
                  type: HarnessApproval
                  timeout: 1d
                  spec:
                    approvalMessage: Half of production reaches the new service. Go on?
"""


def gated_traffic_shift() -> str:
    """The demo's traffic shift with an approval between its 50% and 100% steps."""
    text = TRAFFIC_SHIFT.read_text(encoding="utf-8")
    last = "              - step:\n                  name: All the traffic\n"
    assert last in text
    text = text.replace(last, APPROVAL + last, 1)
    return text.replace("identifier: demo_trafficshift", "identifier: demo_shift_gated", 1).replace(
        "name: Demo traffic shift", "name: Demo gated traffic shift", 1
    )


def docs_shot(page: Any, name: str) -> None:
    """docs/images/<name>.png of the page's main view, written only when CORRAL_UPDATE_SCREENSHOTS=1
    (so a test run leaves the committed pictures alone)."""
    if os.environ.get("CORRAL_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        page.locator("#view").screenshot(path=str(DOCS_IMAGES / f"{name}.png"))


def start(demo: DemoServer, pipeline: str, *, like: str | None = None, **inputs: str) -> str:
    """Run the pipeline with the demo's inputs for it (or for the pipeline it is `like`)."""
    body = {"inputs": {**pipeline_inputs(demo.prepared, like or pipeline), **inputs}}
    answer = demo.api.post(f"/projects/demo/pipelines/{pipeline}/executions", body, 202).json()
    return str(answer["id"])


def approve(demo: DemoServer, execution_id: str) -> None:
    demo.api.wait_approval(execution_id)
    demo.api.post(f"/executions/{execution_id}/approval", {"approve": True}, 202)
    assert demo.api.wait(execution_id, timeout=60)["status"] == "Success"


def row_of(page: Any, ecs_service: str) -> Any:
    return page.locator(f'tr[aria-label^="demo_bg: {ecs_service}"]')


def expect_row(page: Any, ecs_service: str, role: str, traffic: str) -> None:
    """The dashboard (refreshing itself) shows the ECS service with this role and traffic."""
    row = page.locator(f'tr[aria-label="demo_bg: {ecs_service} {role}"]')
    row.locator(".weight", has_text=traffic).wait_for(timeout=30_000)


def test_dashboard_during_and_after_a_blue_green_and_a_traffic_shift(
    demo_server: DemoServer, page: Any, shots: Any
) -> None:
    first = start(demo_server, "demo_bluegreen", tag="1")
    approve(demo_server, first)
    second = start(demo_server, "demo_bluegreen", tag="2")
    demo_server.api.wait_approval(second)

    sign_in(page, demo_server.url)
    page.get_by_role("link", name="demo", exact=True).click()
    page.get_by_role("link", name="Status", exact=True).click()
    page.get_by_role("heading", name="What runs where", level=1).wait_for()
    # during: production stays on the BLUE service, the new one is GREEN behind the stage listener
    expect_row(page, "demo-bg__1", "BLUE", "production 100%")
    expect_row(page, "demo-bg__2", "GREEN", "stage 100%")
    assert (
        "bg:2" in row_of(page, "demo-bg__2").inner_text()
        and "bg:1" in row_of(page, "demo-bg__1").inner_text()
    )
    section = page.locator('tbody[data-service="demo_bg"]')
    assert "#1 Demo blue green" in section.inner_text()  # the last deployment that succeeded
    assert "since:" in section.inner_text() and "Running" in section.inner_text()  # the one under way
    shots(page, "during-blue-green")
    docs_shot(page, "status-during-blue-green")

    demo_server.api.post(f"/executions/{second}/approval", {"approve": True}, 202)
    assert demo_server.api.wait(second, timeout=60)["status"] == "Success"
    # after the swap (the page refreshes itself): roles and weights have turned round
    expect_row(page, "demo-bg__2", "BLUE", "production 100%")
    expect_row(page, "demo-bg__1", "GREEN", "stage 100%")
    page.locator('tbody[data-service="demo_bg"]', has_text="#2 Demo blue green").wait_for()
    assert not page.locator('tbody[data-service="demo_bg"] .drift').count()
    shots(page, "after-blue-green")
    docs_shot(page, "status-blue-green")

    # a traffic shift, held at 50% by an approval: production is split between the two services
    demo_server.api.put("/projects/demo/entities", {"yaml": gated_traffic_shift()}, 200)
    # (its stage target group, the demo's stageTargetGroupArn, is where GREEN demo-bg__1 is now)
    shift = start(demo_server, "demo_shift_gated", like="demo_trafficshift", tag="3")
    demo_server.api.wait_approval(shift)
    page.get_by_role("button", name="Refresh now").click()
    page.locator('tr[aria-label^="demo_bg: demo-bg__1"] .weight', has_text="production 50%").wait_for()
    page.locator('tr[aria-label^="demo_bg: demo-bg__2"] .weight', has_text="production 50%").wait_for()
    assert "bg:3" in row_of(page, "demo-bg__1").inner_text()
    page.get_by_text("Listener rules (").first.click()
    assert "(production) →" in page.locator('tbody[data-service="demo_bg"] .routes').inner_text()
    shots(page, "during-traffic-shift")
    docs_shot(page, "status-traffic-shift")

    demo_server.api.post(f"/executions/{shift}/approval", {"approve": True}, 202)
    assert demo_server.api.wait(shift, timeout=60)["status"] == "Success"
    # all of production on the new service, which is BLUE now
    expect_row(page, "demo-bg__1", "BLUE", "production 100%")
    page.locator('tr[aria-label^="demo_bg: demo-bg__2"] .weight', has_text="production 0%").wait_for()
    assert not page.locator('tbody[data-service="demo_bg"] .drift').count()
    shots(page, "after-traffic-shift")

    # a service's history: every deployment, newest first, each linking to its execution
    page.get_by_role("link", name="History of Demo bg").click()
    page.get_by_role("heading", name="History of demo_bg", level=1).wait_for()
    runs = page.locator("tbody tr").all_inner_texts()
    assert [r.split("\t")[0] for r in runs] == [
        "#1 Demo gated traffic shift",
        "#2 Demo blue green",
        "#1 Demo blue green",
    ]
    assert all("Success" in r for r in runs)
    shots(page, "history")
    docs_shot(page, "service-history")
    page.get_by_role("link", name="Execution 1 of Demo gated traffic shift").click()
    page.wait_for_url(f"**/#/executions/{shift}")


def test_dashboard_by_keyboard_and_in_the_dark_theme(
    demo_server: DemoServer, chromium: Any, shots: Any
) -> None:
    done = start(demo_server, "demo_bluegreen", tag="1")
    approve(demo_server, done)
    context = chromium.new_context(viewport={"width": 1280, "height": 860}, color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        sign_in(page, demo_server.url)
        page.goto(f"{demo_server.url}/ui/#/projects/demo/status")
        expect_row(page, "demo-bg__1", "BLUE", "production 100%")
        background = page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        assert background == "rgb(18, 22, 29)", background  # the dark theme's --bg
        # from the refresh controls, Tab reaches the service's history link; Enter opens it
        page.locator("#status-live").focus()
        reached = []
        for _ in range(12):
            page.keyboard.press("Tab")
            reached.append(page.evaluate("document.activeElement.getAttribute('aria-label')"))
            if reached[-1] == "History of Demo bg":
                break
        assert reached[-1] == "History of Demo bg", reached
        page.keyboard.press("Enter")
        page.get_by_role("heading", name="History of demo_bg", level=1).wait_for()
        shots(page, "dark-history")
        page.go_back()
        expect_row(page, "demo-bg__1", "BLUE", "production 100%")
        # the service's own page leads to its history too
        page.get_by_role("link", name="Services", exact=True).click()
        page.get_by_role("heading", name="Services", level=1).wait_for()
        page.get_by_role("link", name="Demo bg", exact=True).click()
        page.get_by_role("link", name="What runs where").wait_for()
        page.get_by_role("link", name="Deployment history").click()
        page.get_by_role("link", name="Execution 1 of Demo blue green").wait_for()
        page.goto(f"{demo_server.url}/ui/#/projects/demo/status")
        expect_row(page, "demo-bg__1", "BLUE", "production 100%")
        shots(page, "dark")
        docs_shot(page, "status-dark")
    finally:
        context.close()
