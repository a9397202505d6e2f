"""End-to-end: the examples/sandbox-demo pipelines run through `corral.engine` against a sandbox.

The demo's AWS connector names no endpoint, so `AWS_ENDPOINT_URL` (set here) points every step
at the test's sandbox, as it would point a real run at any AWS-compatible endpoint.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from corral.aws.poller import PollPolicy
from corral.config import load_project
from corral.config.project import Project
from corral.demo import pipeline_inputs, prepare_sandbox
from corral.engine import (
    EmbeddedExecutor,
    Execution,
    ExecutorOptions,
    create_execution,
    get_execution,
    run_pipeline,
)
from corral.sandbox import Sandbox
from corral.store import Store
from corral.wiring.ecs_steps import set_poll_policy

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
CLUSTER = "corral-demo"
FAST_POLLS = PollPolicy(fast=0.1, growth=1.5, slowest=0.4, min_gap=0.05, round_window=30.0)


SANDBOX_SPEED = 150  # sandbox seconds per real second: task starts, health checks, drains


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).parent == here and item.get_closest_marker("sandbox") is None:
            item.add_marker(pytest.mark.sandbox(speed=SANDBOX_SPEED))


def fast_options(**changes: Any) -> ExecutorOptions:
    options = ExecutorOptions(heartbeat=0.2, poll=0.05, lock_poll=0.1, log_flush=0.05, stop_grace=5.0)
    for key, value in changes.items():
        setattr(options, key, value)
    return options


def aws_environment(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }


def use_sandbox_aws(endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """This process's AWS settings (inherited by the processes it starts) point at the sandbox."""
    for key, value in aws_environment(endpoint).items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@dataclass
class Started:
    id: str
    thread: threading.Thread
    store: Store

    def wait_step(self, identifier: str, status: str = "Running", timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(s.identifier == identifier and s.status == status for s in self.store.steps(self.id)):
                return
            time.sleep(0.02)
        raise AssertionError(f"step {identifier} never became {status}")

    def wait_waiting(self, kind: str = "approval", timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(r.kind == kind for r in self.store.requests(self.id, waiting=True)):
                return
            time.sleep(0.02)
        raise AssertionError(f"no {kind} request appeared")

    def result(self, timeout: float = 120.0) -> Execution:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the execution did not end"
        return get_execution(self.id, store=self.store)


@dataclass
class Demo:
    sandbox: Sandbox
    project: Project
    store: Store
    prepared: dict[str, Any]
    store_url: str

    def inputs(self, pipeline_id: str, **extra: Any) -> dict[str, Any]:
        return pipeline_inputs(self.prepared, pipeline_id) | extra

    def run(self, pipeline_id: str, *, options: ExecutorOptions | None = None, **inputs: Any) -> Execution:
        return run_pipeline(
            self.project,
            pipeline_id,
            inputs=self.inputs(pipeline_id, **inputs),
            store=self.store,
            options=options or fast_options(),
        )

    def start(self, pipeline_id: str, *, options: ExecutorOptions | None = None, **inputs: Any) -> Started:
        """Run the pipeline in a thread; returns at once with the execution's id."""
        record = create_execution(
            self.project, pipeline_id, store=self.store, inputs=self.inputs(pipeline_id, **inputs)
        )
        executor = EmbeddedExecutor(self.store, self.project, options or fast_options())
        thread = threading.Thread(target=executor.run, args=(record.id,), daemon=True)
        thread.start()
        return Started(record.id, thread, self.store)

    def client(self, name: str) -> Any:
        return self.sandbox.client(name)


@pytest.fixture
def demo(sandbox: Sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)
    set_poll_policy(FAST_POLLS)
    url = f"sqlite:///{tmp_path / 'corral.db'}"
    store = Store.open(url)
    try:
        yield Demo(sandbox, load_project(DEMO), store, prepare_sandbox(sandbox.endpoint_url), url)
    finally:
        set_poll_policy(None)
        store.close()
