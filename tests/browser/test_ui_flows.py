"""The UI without AWS: a variable with allowed values as a select, live logs and outputs of a
shell step, rejecting an approval with a comment, aborting a running execution."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.server.helpers import ENVIRONMENTS, SLOW, Api, Live, approval, live_server, pipeline, shell

from .test_ui import sign_in, step

CHOOSE = pipeline(
    "choose",
    [
        shell(
            "say",
            'echo "deploying to $TARGET"; RESULT=ok-$TARGET',
            environmentVariables=[
                {"name": "TARGET", "type": "String", "value": "<+pipeline.variables.target>"}
            ],
            outputVariables=[{"name": "result", "type": "String", "value": "RESULT"}],
        ),
        approval("gate", []),
        shell("after", "echo approved"),
    ],
).replace(
    "  stages:",
    "  variables:\n  - name: target\n    type: String\n    value: <+input>.allowedValues(dev,prod)\n  stages:",
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Live, Api]]:
    with live_server(tmp_path / "server") as live:
        api = live.client()
        api.post("/projects", {"name": "demo", "yaml": "---\n".join([ENVIRONMENTS, CHOOSE, SLOW])}, 201)
        yield live, api


def test_allowed_values_live_logs_outputs_and_reject(served: tuple[Live, Api], page: Any, shots: Any) -> None:
    live, api = served
    sign_in(page, live.url)
    page.goto(f"{live.url}/ui/#/projects/demo/pipelines/choose/run")
    target = page.get_by_role("combobox", name="Target")
    target.wait_for()
    assert target.locator("option").all_inner_texts() == ["— choose —", "dev", "prod"]
    target.select_option("prod")
    shots(page, "form")
    page.get_by_role("button", name="Run pipeline").click()

    step(page, "say", "Success")
    page.get_by_role("button", name="Logs of say").click()
    page.get_by_label("Log of say").get_by_text("deploying to prod").wait_for()
    assert page.get_by_text("ok-prod").is_visible()  # the step's output
    page.get_by_role("heading", name="Approval needed").wait_for()
    page.get_by_label("Comment").fill("not today")
    page.get_by_role("button", name="Reject").click()
    page.get_by_role("heading", name="Approval needed").wait_for(state="detached")
    execution_id = page.url.rsplit("/", 1)[-1]
    page.locator('li.step[aria-label^="gate: "]:not([aria-label="gate: ApprovalWaiting"])').wait_for()
    shots(page, "rejected")
    execution = api.wait(execution_id)
    assert execution["status"] != "Success"
    assert (execution["approvals"][0]["decision"], execution["approvals"][0]["comment"]) == (
        "Reject",
        "not today",
    )
    assert not any(s["identifier"] == "after" and s["status"] == "Success" for s in execution["steps"])


def test_abort_a_running_execution(served: tuple[Live, Api], page: Any, shots: Any) -> None:
    live, api = served
    sign_in(page, live.url)
    page.goto(f"{live.url}/ui/#/projects/demo/pipelines/slow/run")
    page.get_by_text("This pipeline takes no runtime input.").wait_for()
    page.get_by_role("button", name="Run pipeline").click()
    step(page, "wait", "Running")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Abort").click()
    page.get_by_role("status", name="Execution status").get_by_text("Aborted").wait_for(timeout=30_000)
    shots(page, "aborted")
    assert api.wait(page.url.rsplit("/", 1)[-1])["status"] == "Aborted"
