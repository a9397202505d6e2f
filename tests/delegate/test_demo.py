"""The `corral demo` set of pipelines (examples/sandbox-demo: rolling, canary, blue green with
an approval, run task, a failed release rolled back, ECS's own blue/green paused for a check and
an approval, ECS's own linear rollout) run in distributed mode: the workflows here, every step on
a `corral delegate` process, against the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

import pytest

from corral.delegate.temporal_runner import TemporalRunner
from corral.demo import pipeline_inputs, prepare_sandbox
from corral.demo.pipeline_demo import SCENARIOS, check_endpoint, scenario_runs
from corral.engine import create_execution, get_execution
from corral.sandbox import Sandbox
from corral.store import Store
from tests.e2e.conftest import CLUSTER, DEMO, use_sandbox_aws
from tests.e2e.state import services

from .conftest import StartDelegate, wait_until


@pytest.mark.sandbox(speed=150)
def test_the_demo_pipelines_pass_in_distributed_mode(
    sandbox: Sandbox,
    store: Store,
    runner: TemporalRunner,
    delegates: StartDelegate,
    monkeypatch: pytest.MonkeyPatch,
    demo_check_url: str,
) -> None:
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)  # the delegate processes inherit it
    sandbox.admin.set_images(  # as `corral demo` sets them
        {"image": "*:broken", "crashAfter": 2},
        {"image": "*/demo/job:*", "exitCode": 0, "exitAfter": 5},
    )
    prepared = prepare_sandbox(sandbox.endpoint_url)
    delegates("demo", "default")

    ecs = sandbox.client("ecs")
    ended = []
    service_exists = False
    runs = [run for name in SCENARIOS for run in scenario_runs(name, service_exists=True)]
    for name in SCENARIOS:
        for run in scenario_runs(name, service_exists=service_exists):
            before = services(ecs, CLUSTER)
            inputs = pipeline_inputs(prepared, run.pipeline) | run.inputs
            if run.check:
                inputs["url"] = demo_check_url
            record = create_execution(DEMO, run.pipeline, store=store, inputs=inputs, triggered_by="demo")
            runner.start(record.id)
            if run.approve:
                wait_until(partial(_asks, store, record.id), what="the approval")
                runner.approve(record.id, True, by="demo", comment="approved by the demo")
            status = runner.wait(record.id, 150)
            error = get_execution(record.id, store=store).error
            ended.append((run.title, status, run.expect, error))
            service_exists = service_exists or (run.pipeline == "demo_rolling" and status == "Success")
            if run.expect == "Failed":  # the broken release is rolled back to the one before it
                assert services(ecs, CLUSTER)["demo-web"] == before["demo-web"], run.title
    assert [(title, status) for title, status, _, _ in ended] == [
        (title, expect) for title, _, expect, _ in ended
    ], ended
    assert len(ended) == len(runs)  # rolling ran first, so the failure scenario had its service


@pytest.fixture
def demo_check_url() -> Iterator[str]:
    """The demo's check endpoint, as `corral demo` serves it to the native blue green's Http step."""
    with check_endpoint() as url:
        yield url


def _asks(store: Store, execution_id: str) -> bool:
    return bool(store.requests(execution_id, waiting=True))
