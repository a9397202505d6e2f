"""Who may do what: tokens, roles per project, the Production right, the audit log."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
from click.testing import CliRunner
from sqlalchemy import update

from corral.cli.main import cli
from corral.server.tables import tokens

from .helpers import ADMIN_TOKEN, Api, Live, live_server


def test_every_endpoint_but_health_refuses_an_anonymous_call(live: Live) -> None:
    http = httpx.Client(base_url=live.url)
    document = http.get("/openapi.json").json()
    assert http.get("/health").json() == {"status": "ok"}
    checked = 0
    for path, operations in document["paths"].items():
        url = re.sub(r"\{[^}]+\}", "x", path)
        for method in operations:
            if path == "/health":
                continue
            for headers in ({}, {"Authorization": "Bearer crl_not-a-token"}, {"Authorization": "Basic YTpi"}):
                response = http.request(method.upper(), url, headers=headers, json={})
                assert response.status_code == 401, (method, path, headers, response.text)
            checked += 1
    assert checked >= 25


def test_a_viewer_reads_but_cannot_run_or_approve(demo: Api) -> None:
    viewer = demo.user("vera", project="demo", role="viewer", groups=["ops"])
    ops = demo.user("olga", project="demo", role="deployer", groups=["ops"])
    assert [p["name"] for p in viewer.get("/projects")] == ["demo"]
    refused = viewer.post("/projects/demo/pipelines/hello/executions", {}, 403)
    assert "viewer" in refused.json()["detail"]
    execution_id = demo.post("/projects/demo/pipelines/gated/executions", {}, 202).json()["id"]
    demo.wait_approval(execution_id)
    viewer.post(f"/executions/{execution_id}/approval", {"approve": True}, 403)
    viewer.post(f"/executions/{execution_id}/abort", {}, 403)
    assert viewer.get(f"/executions/{execution_id}")["approvals"][0]["status"] == "Waiting"
    ops.post(f"/executions/{execution_id}/approval", {"approve": True}, 202)
    assert demo.wait(execution_id)["status"] == "Success"


def test_users_without_a_role_do_not_see_the_project(demo: Api) -> None:
    stranger = demo.user("sam")
    assert stranger.get("/projects") == []
    stranger.call("GET", "/projects/demo", 404)
    stranger.post("/projects/demo/pipelines/hello/executions", {}, 404)
    stranger.call("GET", "/users", 403)
    stranger.post("/projects", {"name": "mine"}, 403)


def test_production_deploys_need_the_production_right(demo: Api) -> None:
    deployer = demo.user("dana", project="demo", role="deployer")
    releaser = demo.user("rick", project="demo", role="deployer", production=True)
    refused = deployer.post("/projects/demo/pipelines/to_prod/executions", {}, 403)
    assert "Production" in refused.json()["detail"] and "prod" in refused.json()["detail"]
    to_dev = deployer.post("/projects/demo/pipelines/to_dev/executions", {}, 202).json()["id"]
    to_prod = releaser.post("/projects/demo/pipelines/to_prod/executions", {}, 202).json()["id"]
    assert demo.wait(to_dev)["status"] == "Success"
    assert demo.wait(to_prod)["status"] == "Success"
    assert [e["pipeline_id"] for e in demo.get("/executions")] == ["to_prod", "to_dev"]


def test_a_role_on_every_project(demo: Api) -> None:
    everywhere = demo.user("eve", project="*", role="deployer")
    assert everywhere.post("/projects/demo/pipelines/hello/executions", {}, 202).status_code == 202
    everywhere.put(
        "/projects/demo/entities",
        {"yaml": "environment: {identifier: qa, name: QA, type: PreProduction}"},
        403,
    )


def test_a_revoked_token_stops_working(admin: Api) -> None:
    user = admin.user("tom")
    assert user.get("/me")["name"] == "tom"
    [token] = user.get("/tokens")
    admin.call("DELETE", f"/tokens/{token['id']}", 204)
    assert user.call("GET", "/me").status_code == 401
    assert admin.get("/tokens", params={"user": "tom"})[0]["revoked_at"] is not None


def test_an_expired_token_stops_working(live: Live, admin: Api) -> None:
    user = admin.user("tia")
    [token] = user.get("/tokens")
    with live.server.store.engine.begin() as conn:
        conn.execute(update(tokens).where(tokens.c.id == token["id"]).values(expires_at=time.time() - 1))
    assert user.call("GET", "/me").status_code == 401


def test_tokens_are_stored_hashed(live: Live, admin: Api) -> None:
    created = admin.post("/users", {"name": "hal"}, 201)
    assert created.json()["name"] == "hal"
    token = admin.post("/users/hal/tokens", {"expires_in_days": 1}, 201).json()
    assert token["token"].startswith("crl_") and token["expires_at"] > time.time()
    database = (live.server.settings.data_dir / ".corral" / "corral.db").read_bytes()
    assert token["token"].encode() not in database and ADMIN_TOKEN.encode() not in database
    assert "token" not in admin.get("/tokens", params={"user": "hal"})[0]


def test_only_admins_manage_users_and_read_the_audit_log(demo: Api) -> None:
    deployer = demo.user("dana", project="demo", role="admin")
    deployer.post("/users", {"name": "x"}, 403)
    deployer.call("GET", "/audit", 403)
    deployer.put("/users/dana/roles/demo", {"role": "admin", "production": True}, 403)
    deployer.post("/delegates", {"name": "d1"}, 403)


def test_the_audit_log_records_changes_and_runs(demo: Api) -> None:
    deployer = demo.user("dana", project="demo", role="deployer")
    execution_id = deployer.post("/projects/demo/pipelines/hello/executions", {}, 202).json()["id"]
    demo.wait(execution_id)
    demo.put("/projects/demo/secrets/token", {"value": "s3cret-value"}, 200)
    entries = demo.get("/audit")
    actions = [(e["actor"], e["action"], e["target"]) for e in entries]
    assert actions[:2] == [("admin", "secret.put", "secret/token"), ("dana", "execution.run", execution_id)]
    assert ("admin", "project.create", "demo") in actions
    assert ("admin", "role.set", "dana") in actions
    assert ("server", "user.create", "admin") in actions
    run = next(e for e in entries if e["action"] == "execution.run")
    assert run["project"] == "demo" and run["detail"]["pipeline"] == "hello" and run["at"] <= time.time()
    assert [e["action"] for e in demo.get("/audit", params={"actor": "dana"})] == ["execution.run"]
    assert "s3cret-value" not in str(entries)


def test_delegates_register_and_send_heartbeats(admin: Api) -> None:
    created = admin.post("/delegates", {"name": "ecs-prod", "tags": ["prod", "us-east-1"]}, 201).json()
    assert created["last_seen_at"] is None
    delegate = Api(admin.url, created["token"])
    seen = delegate.post("/delegates/heartbeat", {"version": "0.1.0"}, 200).json()
    assert seen["last_seen_at"] is not None and seen["version"] == "0.1.0"
    [listed] = admin.get("/delegates")
    assert (listed["name"], listed["tags"], listed["last_seen_at"]) == (
        "ecs-prod",
        ["prod", "us-east-1"],
        seen["last_seen_at"],
    )
    assert "token" not in listed
    admin.post("/delegates/heartbeat", {}, 401)  # a user's token is not a delegate's
    delegate.call("GET", "/me", 401)  # nor the other way round
    admin.post("/delegates", {"name": "ecs-prod"}, 409)


def test_cli_adds_users_and_tokens(tmp_path: Path) -> None:
    data = tmp_path / "server"
    runner = CliRunner()
    added = runner.invoke(
        cli,
        ["user", "add", "cleo", "--data-dir", str(data), "--group", "ops", "--role", "*=deployer+production"],
    )
    assert added.exit_code == 0, added.output
    made = runner.invoke(cli, ["user", "token", "cleo", "--data-dir", str(data), "--description", "ci"])
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    with live_server(data) as running:
        me = running.client(token).get("/me")
    assert me["groups"] == ["ops"] and me["roles"] == [
        {"project": "*", "role": "deployer", "production": True}
    ]
    again = runner.invoke(cli, ["user", "add", "cleo", "--data-dir", str(data)])
    assert again.exit_code != 0 and "exists" in again.output


def test_corral_server_starts_with_an_admin_token_file(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .helpers import free_port

    port = free_port()
    token_file = tmp_path / "admin.token"
    argv = [
        sys.executable,
        "-m",
        "corral.cli",
        "server",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path / "data"),
        "--admin-token-file",
        str(token_file),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health").status_code == 200:
                    break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, process.stderr.read()  # type: ignore[union-attr]
                time.sleep(0.1)
        token = token_file.read_text().strip()
        assert token.startswith("crl_") and token_file.stat().st_mode & 0o077 == 0
        me = Api(f"http://127.0.0.1:{port}", token).get("/me")
        assert (me["name"], me["admin"]) == ("admin", True)
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/me").status_code == 401
    finally:
        process.terminate()
        process.wait(10)


def test_the_web_ui_is_served_at_ui_when_present(live: Live) -> None:
    from corral.server.app import UI_STATIC

    if not (UI_STATIC / "index.html").is_file():
        return  # the UI is not part of this build
    http = httpx.Client(base_url=live.url)
    assert http.get("/").headers["location"] == "/ui/"
    page = http.get("/ui/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
