"""examples/sandbox-demo canary, run task and verify pipelines, end to end."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from corral.engine import abort

from .conftest import CLUSTER, Demo
from .state import image_of, journal_order, services


def test_canary_deploys_the_canary_deletes_it_and_rolls_out(demo: Demo) -> None:
    assert demo.run("demo_rolling", tag="1").status == "Success"
    execution = demo.run("demo_canary", tag="2")
    assert execution.status == "Success", execution.error
    assert execution.step("EcsCanaryDeploy").outputs["canaryServiceName"] == "demo-webCanary"
    assert execution.step("EcsCanaryDelete").outputs["canaryDeleted"] is True
    ecs = demo.client("ecs")
    live = services(ecs)
    assert list(live) == ["demo-web"]
    assert image_of(ecs, live["demo-web"]["taskDefinition"]).endswith("demo/web:2")


def test_canary_rollback_deletes_the_canary_then_rolls_the_service_back(demo: Demo) -> None:
    assert demo.run("demo_rolling", tag="1").status == "Success"
    ecs = demo.client("ecs")
    before = services(ecs)
    # slow tasks: the rolling deployment after the canary is still waiting when it is aborted
    demo.sandbox.admin.set_images({"image": "*:slow", "startDelay": 150})
    started = demo.start("demo_canary", tag="slow")
    started.wait_step("EcsRollingDeploy")
    abort(started.id, store=demo.store)
    failed = started.result()
    assert failed.status == "Aborted"
    assert failed.step("EcsCanaryDelete").status == "Success"
    assert failed.step("EcsCanaryDeleteRollback").outputs["canaryServiceName"] == "demo-webCanary"
    order = journal_order(demo.store, failed.id)
    assert order.index("EcsCanaryDeleteRollback") < order.index("EcsRollingRollback")
    assert failed.step("EcsRollingRollback").status == "Success"
    assert services(ecs) == before


def test_run_task_runs_the_job_until_it_exits_0(demo: Demo) -> None:
    demo.sandbox.admin.set_images({"image": "*/demo/job:*", "exitCode": 0, "exitAfter": 5})
    execution = demo.run("demo_runtask", tag="7")
    assert execution.status == "Success", execution.error
    outputs = execution.step("EcsRunTask").outputs
    assert len(outputs["runTaskArns"]) == 1
    assert outputs["exitCodes"] and all(c == {"app": 0} for c in outputs["exitCodes"].values())
    tasks = demo.client("ecs").describe_tasks(cluster=CLUSTER, tasks=outputs["runTaskArns"])["tasks"]
    assert tasks[0]["lastStatus"] == "STOPPED"


def test_run_task_fails_on_a_non_zero_exit(demo: Demo) -> None:
    demo.sandbox.admin.set_images({"image": "*/demo/job:*", "exitCode": 3, "exitAfter": 2})
    execution = demo.run("demo_runtask", tag="8")
    assert execution.status == "Failed"
    assert "3" in (execution.step("EcsRunTask").error or "")


class _Status(http.server.BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:
        self.send_response(self.server.status)  # type: ignore[attr-defined]
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def health() -> Iterator[http.server.HTTPServer]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Status)
    server.status = 200  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _url(server: http.server.HTTPServer) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}/health"


def test_verify_passes_on_a_healthy_version(demo: Demo, health: http.server.HTTPServer) -> None:
    execution = demo.run("demo_verify", tag="1", url=_url(health), duration="2s", interval="200ms")
    assert execution.status == "Success", execution.error
    assert execution.step("verify").status == "Success"


def test_verify_that_sees_errors_fails_the_stage_and_the_old_version_is_back(
    demo: Demo, health: http.server.HTTPServer
) -> None:
    assert demo.run("demo_rolling", tag="1").status == "Success"
    ecs = demo.client("ecs")
    before = services(ecs)
    health.status = 500  # type: ignore[attr-defined]
    failed = demo.run("demo_verify", tag="2", url=_url(health), duration="5s", interval="200ms")
    assert failed.status == "Failed"
    assert failed.step("verify").status == "Failed"
    assert failed.step("EcsRollingRollback").status == "Success"
    assert services(ecs) == before
    assert image_of(ecs, before["demo-web"]["taskDefinition"]).endswith("demo/web:1")
