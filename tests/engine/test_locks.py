"""One deployment per ECS service at a time: a second execution waits, or fails at once with no_wait."""

from __future__ import annotations

import threading
from pathlib import Path

from corral.config import load_project
from corral.engine import create_execution, get_execution, run_pipeline
from corral.engine.embedded import EmbeddedExecutor
from corral.store import Store

from .helpers import Probe, fast, pipeline, probe_step, stage, wait_until, write_project


def deploy_pipeline() -> str:
    return pipeline(
        "p",
        [
            stage(
                "deploy",
                [probe_step("a", gate="<+pipeline.sequenceId>")],
                type="Deployment",
                spec={
                    "service": {"serviceRef": "web"},
                    "environment": {
                        "environmentRef": "dev",
                        "infrastructureDefinitions": [{"identifier": "fargate"}],
                    },
                },
            )
        ],
    )


def test_a_second_execution_waits_for_the_service(tmp_path: Path, store: Store, probe: Probe) -> None:
    project_root = write_project(tmp_path, deploy_pipeline(), ecs=True)
    project = load_project(project_root)
    first = create_execution(project, "p", store=store)
    second = create_execution(project, "p", store=store)
    threads = [
        threading.Thread(target=EmbeddedExecutor(store, project, fast()).run, args=(record.id,))
        for record in (first, second)
    ]
    threads[0].start()
    assert probe.started_event("a").wait(10)
    (lock,) = store.locks()
    assert lock.execution_id == first.id
    assert lock.description == {
        "account": "http://127.0.0.1:1",
        "region": "us-east-1",
        "cluster": "dev-cluster",
        "service": "web",
    }
    threads[1].start()
    wait_until(
        lambda: (
            get_execution(second.id, store=store).stages
            and get_execution(second.id, store=store).stage("deploy").status == "Waiting"
        )
    )
    waiting = wait_until(lambda: store.logs(second.id, step_key="deploy"))
    assert waiting[0].message == (
        f"Waiting: ECS service web in cluster dev-cluster (us-east-1) is being deployed by execution {first.id} (p #1)"
    )
    assert len(probe.calls) == 1
    probe.gates.setdefault("1", threading.Event()).set()
    threads[0].join(10)
    probe.gates.setdefault("2", threading.Event()).set()
    threads[1].join(10)
    assert get_execution(first.id, store=store).status == "Success"
    assert get_execution(second.id, store=store).status == "Success"
    assert [run.execution_id for run in probe.calls] == [first.id, second.id]
    assert store.locks() == []


def test_no_wait_fails_at_once(tmp_path: Path, store: Store, probe: Probe) -> None:
    project = load_project(write_project(tmp_path, deploy_pipeline(), ecs=True))
    first = create_execution(project, "p", store=store)
    thread = threading.Thread(target=EmbeddedExecutor(store, project, fast()).run, args=(first.id,))
    thread.start()
    assert probe.started_event("a").wait(10)
    second = run_pipeline(project, "p", store=store, no_wait=True, options=fast())
    assert second.status == "Failed"
    assert second.stage("deploy").error == (
        f"ECS service web in cluster dev-cluster (us-east-1) is being deployed by execution {first.id} (p #1); not waiting"
    )
    probe.gates.setdefault("1", threading.Event()).set()
    thread.join(10)


def test_the_lock_of_a_dead_execution_is_taken_over(tmp_path: Path, store: Store, probe: Probe) -> None:
    project = load_project(write_project(tmp_path, deploy_pipeline(), ecs=True))
    key = "http://127.0.0.1:1|us-east-1|dev-cluster|web"
    # a process that died holding the service: its lease (a tenth of a second) runs out
    assert store.try_lock(key, execution_id="dead", owner="gone:1:x", description={}, lease=0.1) is None
    probe.gates.setdefault("1", threading.Event()).set()
    execution = run_pipeline(project, "p", store=store, options=fast())
    assert execution.status == "Success"
    assert store.locks() == []
