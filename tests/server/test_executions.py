"""Running pipelines through the API: 202 and an id, the execution's state, live logs (SSE),
approvals, abort and resume."""

from __future__ import annotations

import time
from pathlib import Path

from .helpers import Api, Live


def test_a_shell_pipeline_runs_and_its_log_is_followed_live(demo: Api) -> None:
    answer = demo.post("/projects/demo/pipelines/hello/executions", {"inputs": {"who": "corral"}}, 202).json()
    events = demo.events(answer["id"])
    messages = [data["message"] for kind, data in events if kind == "log"]
    assert "hello corral" in messages and "done" in messages
    assert events[-1] == ("end", {"status": "Success"})
    assert ("status", {"status": "Success"}) in events

    execution = demo.get(f"/executions/{answer['id']}")
    assert execution["status"] == "Success" and execution["triggered_by"] == "admin"
    [stage] = execution["stages"]
    [step] = execution["steps"]
    assert (stage["identifier"], stage["status"]) == ("run", "Success")
    assert step["outputs"] == {"out": "fine"} and step["duration"] >= 0.2
    lines = demo.get(f"/executions/{answer['id']}/logs", params={"step": step["key"]})
    assert [line["message"] for line in lines][:2] == ["hello corral", "done"]
    later = demo.get(f"/executions/{answer['id']}/logs", params={"after": lines[0]["id"]})
    assert later[0]["id"] > lines[0]["id"]
    listed = demo.get("/executions", params={"project": "demo"})
    assert [e["id"] for e in listed] == [answer["id"]]


def test_bad_inputs_are_422_with_the_problems(demo: Api) -> None:
    response = demo.post("/projects/demo/pipelines/hello/executions", {"inputs": {"nope": 1}}, 422)
    assert response.json()["problems"][0]["path"] == "nope"
    missing = demo.post("/projects/demo/pipelines/absent/executions", {}, 422)
    assert "pipeline not found" in missing.json()["problems"][0]["message"]
    assert demo.get("/executions", params={"project": "demo"}) == []


def test_an_approval_is_approved_by_a_member_of_its_group(demo: Api) -> None:
    ops = demo.user("olga", project="demo", role="deployer", groups=["ops"])
    other = demo.user("dave", project="demo", role="deployer", groups=["dev"])
    execution_id = demo.post("/projects/demo/pipelines/gated/executions", {}, 202).json()["id"]
    waiting = demo.wait_approval(execution_id)
    assert waiting["approvals"][0]["approvers"]["userGroups"] == ["ops"]

    refused = other.post(f"/executions/{execution_id}/approval", {"approve": True}, 403)
    assert "ops" in refused.json()["detail"]
    ops.post(f"/executions/{execution_id}/approval", {"approve": True, "comment": "go"}, 202)
    done = demo.wait(execution_id)
    assert done["status"] == "Success"
    assert (done["approvals"][0]["decided_by"], done["approvals"][0]["comment"]) == ("olga", "go")
    again = ops.post(f"/executions/{execution_id}/approval", {"approve": True}, 409)
    assert "waiting" in again.json()["detail"]


def test_a_rejection_ends_the_execution(demo: Api) -> None:
    ops = demo.user("olga", project="demo", role="deployer", groups=["ops"])
    execution_id = demo.post("/projects/demo/pipelines/gated/executions", {}, 202).json()["id"]
    demo.wait_approval(execution_id)
    ops.post(f"/executions/{execution_id}/approval", {"approve": False, "comment": "not today"}, 202)
    done = demo.wait(execution_id)
    assert done["status"] == "Failed"
    assert [s["status"] for s in done["steps"] if s["identifier"] == "gate"] == ["ApprovalRejected"]
    assert [s["status"] for s in done["steps"] if s["identifier"] == "after"] in ([], ["Skipped"])


def test_abort_stops_a_running_step(demo: Api) -> None:
    execution_id = demo.post("/projects/demo/pipelines/slow/executions", {}, 202).json()["id"]
    demo.wait(execution_id, "Running")
    while not demo.get(f"/executions/{execution_id}/logs"):
        pass  # the script has started
    assert demo.post(f"/executions/{execution_id}/abort", {}, 202).json() == {"aborted": True}
    done = demo.wait(execution_id)
    assert done["status"] == "Aborted"
    assert demo.post(f"/executions/{execution_id}/abort", {}, 202).json() == {"aborted": False}
    assert "has ended" in demo.post(f"/executions/{execution_id}/resume", {}, 409).json()["detail"]


def test_unknown_executions_are_404(demo: Api) -> None:
    for method, path in [
        ("GET", "/executions/nope"),
        ("GET", "/executions/nope/logs"),
        ("POST", "/executions/nope/abort"),
        ("POST", "/executions/nope/resume"),
    ]:
        assert demo.call(method, path).status_code == 404


def test_resume_runs_an_execution_left_behind(live: Live, demo: Api) -> None:
    """An execution recorded but never run (its server died at once) is resumed by the API."""
    from corral.engine import create_execution

    project = live.server.projects.load("demo")
    record = create_execution(project, "hello", store=live.server.store, triggered_by="admin")
    assert demo.get(f"/executions/{record.id}")["status"] == "Queued"
    demo.post(f"/executions/{record.id}/resume", {}, 202)
    assert demo.wait(record.id)["status"] == "Success"
    assert [e["action"] for e in demo.get("/audit", params={"action": "execution.resume"})] == [
        "execution.resume"
    ]


def test_resume_refuses_a_running_execution(demo: Api) -> None:
    execution_id = demo.post("/projects/demo/pipelines/gated/executions", {}, 202).json()["id"]
    demo.wait_approval(execution_id)
    assert "is running" in demo.post(f"/executions/{execution_id}/resume", {}, 409).json()["detail"]
    demo.post(f"/executions/{execution_id}/abort", {}, 202)
    assert demo.wait(execution_id)["status"] == "Aborted"


def test_a_restarted_server_continues_executions_left_behind(tmp_path: Path) -> None:
    import socket

    from corral.engine import create_execution

    from .helpers import demo_project, live_server

    with live_server(tmp_path / "server") as first:
        demo_project(first.client())
        store = first.server.store
        project = first.server.projects.load("demo")
        queued = create_execution(project, "hello", store=store, triggered_by="admin").id
        died = create_execution(project, "hello", store=store, triggered_by="admin").id
        # a server process of this machine that is gone (pid far above pid_max) was running it
        store.update_execution(died, owner=f"{socket.gethostname()}:99999999:dead", heartbeat_at=time.time())
    with live_server(tmp_path / "server") as second:
        api = second.client()
        assert api.wait(queued)["status"] == "Success"
        assert api.wait(died)["status"] == "Success"
