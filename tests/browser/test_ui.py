"""The web UI in a real browser against a real server: sign in, browse a project, run the
blue green demo pipeline from its form (AWS-backed choices from the sandbox), watch it live,
approve, see the swap; and no page shows a secret's value.

Screenshots of each stage land in test-output/browser/<test name>/.
"""

from __future__ import annotations

import re
from typing import Any

from tests.server.helpers import ADMIN_TOKEN, demo_project, live_server, pipeline, shell

from .conftest import DemoServer

CREATE = "ECS Blue Green Create Service"
APPROVE = "Approve the swap"
SWAP = "ECS Blue Green Swap Target"


def sign_in(page: Any, url: str, token: str = ADMIN_TOKEN) -> None:
    page.goto(f"{url}/ui/")
    page.get_by_label("API token").fill(token)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Projects", level=1).wait_for()


def step(page: Any, name: str, status: str) -> Any:
    """The step's row once it shows `status` (the view updates itself; no reload)."""
    item = page.locator(f'li.step[aria-label="{name}: {status}"]')
    item.wait_for(timeout=60_000)
    return item


def test_run_blue_green_from_the_form_approve_and_swap(
    demo_server: DemoServer, page: Any, shots: Any
) -> None:
    prepared = demo_server.prepared
    sign_in(page, demo_server.url)
    assert page.get_by_role("button", name="Sign out").is_visible()  # the header knows who is in
    shots(page, "projects")

    page.get_by_role("link", name="demo", exact=True).click()
    page.get_by_role("heading", name="Pipelines", level=1).wait_for()
    assert page.get_by_role("link", name="Demo blue green", exact=True).is_visible()

    # the infrastructure definition, with its YAML
    page.get_by_role("link", name="Infrastructure definitions").click()
    page.get_by_role("link", name="Sandbox cluster").click()
    yaml_text = page.get_by_label("YAML").inner_text()
    assert "cluster: corral-demo" in yaml_text and "connectorRef: sandbox_aws" in yaml_text
    shots(page, "infrastructure")

    page.get_by_role("link", name="Services", exact=True).click()
    page.get_by_role("link", name="Demo bg").click()
    assert "imagePath: demo/bg" in page.get_by_label("YAML").inner_text()

    # the run form: load balancer and listeners are choices from the sandbox
    page.get_by_role("link", name="Pipelines", exact=True).click()
    page.get_by_role("link", name="Run Demo blue green").click()
    page.get_by_role("heading", name="Run Demo blue green").wait_for()
    balancer = page.locator("select").filter(has=page.locator('option[value="corral-demo"]'))
    balancer.wait_for()
    page.get_by_label("Load Balancer").select_option("corral-demo")
    prod = page.get_by_label("Prod Listener")
    prod.locator(f'option[value="{prepared["prodListener"]}"]').wait_for(state="attached")
    assert "HTTP:80" in prod.inner_text() and "HTTP:8080" in prod.inner_text()
    prod.select_option(prepared["prodListener"])
    stage = page.get_by_label("Stage Listener")
    stage.locator(f'option[value="{prepared["stageListener"]}"]').wait_for(state="attached")
    stage.select_option(prepared["stageListener"])
    page.get_by_label("Subnets 0").fill(prepared["subnets[0]"])
    page.get_by_label("Security Groups 0").fill(prepared["securityGroups[0]"])
    assert page.get_by_role("textbox", name="Tag", exact=True).input_value() == "1"  # the service's default
    page.get_by_role("textbox", name="Tag", exact=True).fill("2")
    shots(page, "run-form")
    page.get_by_role("button", name="Run pipeline").click()

    # the live view: the first step turns green, the approval waits
    page.wait_for_url(re.compile(r".*#/executions/[0-9a-f]+$"))
    execution_id = page.url.rsplit("/", 1)[-1]
    step(page, CREATE, "Success")
    step(page, APPROVE, "ApprovalWaiting")
    page.get_by_role("button", name=f"Logs of {CREATE}").click()
    log = page.get_by_label(f"Log of {CREATE}")
    log.get_by_text(re.compile("demo-bg__1")).first.wait_for()
    assert page.get_by_text("targetGroupArn", exact=True).is_visible()  # the step's outputs
    page.get_by_role("heading", name="Approval needed").wait_for()
    assert page.get_by_text("The green service is up behind the stage listener. Swap?").is_visible()
    shots(page, "waiting-for-approval")

    page.get_by_label("Comment").fill("green looks healthy")
    page.get_by_role("button", name="Approve", exact=True).click()
    step(page, SWAP, "Success")
    page.get_by_role("status", name="Execution status").get_by_text("Success").wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Abort").count() == 0
    shots(page, "swapped")

    # the history lists the run
    page.get_by_role("link", name="Executions", exact=True).first.click()
    page.get_by_role("link", name="Execution 1 of Demo blue green").wait_for()
    shots(page, "history")

    execution = demo_server.api.get(f"/executions/{execution_id}")
    assert execution["status"] == "Success", execution
    approval = execution["approvals"][0]
    assert (approval["decision"], approval["comment"]) == ("Approve", "green looks healthy")
    created = next(s for s in execution["steps"] if s["identifier"] == "EcsBlueGreenCreateService")
    green = created["outputs"]["targetGroupArn"]
    assert green == prepared["stageTargetGroupArn"]
    elb = demo_server.sandbox.client("elbv2")
    listener = elb.describe_listeners(ListenerArns=[prepared["prodListener"]])["Listeners"][0]
    forwards = [a for a in listener["DefaultActions"] if a["Type"] == "forward"]
    targets = {forwards[0].get("TargetGroupArn")} | {
        g["TargetGroupArn"] for g in forwards[0].get("ForwardConfig", {}).get("TargetGroups", [])
    }
    assert green in targets, listener["DefaultActions"]


SECRET = "s3cr3t-Value-never-shown-7f2a"
CONNECTOR = """connector:
  name: Prod AWS
  identifier: prod_aws
  type: Aws
  spec:
    credential:
      type: ManualConfig
      region: us-east-1
      spec:
        accessKey: AKIAEXAMPLE
        secretKeyRef: aws_secret_key
"""
LEAKY = pipeline("leaky", [shell("show", 'echo "the key is <+secrets.getValue("aws_secret_key")>"')])


def test_pages_never_show_a_secret_value(tmp_path: Any, page: Any, shots: Any) -> None:
    with live_server(tmp_path / "server") as live:
        api = live.client()
        demo_project(api)
        api.put("/projects/demo/secrets/aws_secret_key", {"value": SECRET, "name": "AWS secret key"}, 200)
        api.put("/projects/demo/entities", {"yaml": CONNECTOR + "---\n" + LEAKY}, 200)
        run = api.post("/projects/demo/pipelines/leaky/executions", {}, 202).json()["id"]
        api.wait(run)

        sign_in(page, live.url)
        seen: list[str] = []
        page.get_by_role("link", name="demo", exact=True).click()
        page.get_by_role("link", name="Secrets").click()
        page.get_by_role("link", name="AWS secret key").click()
        page.get_by_label("YAML").wait_for()
        shots(page, "secret")
        seen.append(page.content())
        page.get_by_role("link", name="Connectors").click()
        page.get_by_role("link", name="Prod AWS").click()
        assert "secretKeyRef: aws_secret_key" in page.get_by_label("YAML").inner_text()
        shots(page, "connector")
        seen.append(page.content())
        page.goto(f"{live.url}/ui/#/executions/{run}")
        page.get_by_role("button", name="Logs of show").click()
        page.get_by_label("Log of show").get_by_text("the key is").wait_for()
        shots(page, "masked-log")
        seen.append(page.content())
        for path in ("#/projects", "#/projects/demo/secrets", "#/projects/demo/connectors", "#/executions"):
            page.goto(f"{live.url}/ui/{path}")
            page.locator("h1").first.wait_for()
            seen.append(page.content())
        assert all(SECRET not in html for html in seen)
        assert SECRET not in page.evaluate("JSON.stringify(sessionStorage)")
