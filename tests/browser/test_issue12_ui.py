"""The web UI's side of issue 12 in Chromium (kept here, next to the browser fixtures, since a
session holds one Playwright): the approval panel counts approvals and shows a refusal, and
signing out revokes the UI's token. The HTTP-level checks are in tests/security/."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from tests.security.approvals_helpers import release_team, start_release
from tests.server.helpers import Api, live_server


def test_the_ui_shows_the_approvals_so_far_and_the_refusal(tmp_path: Path, page: Any) -> None:
    """In Chromium: bob approves from the execution view and sees 1 of 2; ann, who ran it, is told why not."""
    from tests.browser.test_ui import sign_in

    with live_server(tmp_path / "server") as live:
        team = release_team(live.client())
        execution_id = start_release(team)
        tokens = {
            name: team.admin.post(f"/users/{name}/tokens", {"description": "browser"}, 201).json()["token"]
            for name in ("bob", "ann")
        }

        sign_in(page, live.url, tokens["bob"])
        page.goto(f"{live.url}/ui/#/executions/{execution_id}")
        page.get_by_role("heading", name="Approval needed").wait_for()
        page.get_by_text("Approved by nobody yet (0 of 2 needed)").wait_for()
        page.get_by_role("button", name="Approve").click()
        page.get_by_text("Approved by bob (1 of 2 needed)").wait_for()

        page.get_by_role("button", name="Sign out").click()
        sign_in(page, live.url, tokens["ann"])
        page.goto(f"{live.url}/ui/#/executions/{execution_id}")
        page.get_by_role("button", name="Approve").click()
        page.get_by_role("alert").get_by_text("ann started this execution").wait_for()
        assert team.admin.get(f"/executions/{execution_id}")["approvals"][0]["status"] == "Waiting"


def test_signing_out_of_the_web_ui_revokes_its_token(tmp_path: Path, page: Any) -> None:
    with live_server(tmp_path / "server") as live:
        admin = live.client()
        admin.user("uma")
        token = admin.post("/users/uma/tokens", {"description": "browser"}, 201).json()["token"]
        blocked: list[str] = []
        page.on(
            "console",
            lambda message: (
                blocked.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        page.goto(f"{live.url}/ui/")
        page.get_by_label("API token").fill(token)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Projects", level=1).wait_for()
        assert Api(live.url, token).get("/me")["name"] == "uma"

        page.get_by_role("button", name="Sign out").click()
        page.get_by_role("heading", name="Sign in to Corral").wait_for()
        deadline = time.monotonic() + 30
        while Api(live.url, token).call("GET", "/me").status_code != 401:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert blocked == []  # the UI runs under its Content-Security-Policy
