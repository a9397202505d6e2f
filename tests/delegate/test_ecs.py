"""An ECS rolling deployment (examples/sandbox-demo) run distributed: the ECS steps run on a
delegate process against the sandbox, their rollback data travels back as checkpoints."""

from __future__ import annotations

import pytest

from corral.delegate.temporal_runner import TemporalRunner
from corral.demo import pipeline_inputs, prepare_sandbox
from corral.engine import create_execution, get_execution
from corral.sandbox import Sandbox
from corral.store import Store
from tests.e2e.conftest import CLUSTER, DEMO, use_sandbox_aws
from tests.e2e.state import image_of, services

from .conftest import StartDelegate


@pytest.mark.sandbox(speed=150)
def test_a_rolling_deploy_runs_on_a_delegate(
    sandbox: Sandbox,
    store: Store,
    runner: TemporalRunner,
    delegates: StartDelegate,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    use_sandbox_aws(sandbox.endpoint_url, monkeypatch)  # the delegate processes inherit it
    prepared = prepare_sandbox(sandbox.endpoint_url)
    delegates("ecs", "default")

    record = create_execution(
        DEMO, "demo_rolling", store=store, inputs=pipeline_inputs(prepared, "demo_rolling") | {"tag": "1"}
    )
    runner.start(record.id)
    assert runner.wait(record.id, 150) == "Success", get_execution(record.id, store=store).error

    execution = get_execution(record.id, store=store)
    deploy = execution.step("EcsRollingDeploy")
    assert deploy.status == "Success" and deploy.outputs["isNewServiceCreated"] is True
    ecs = sandbox.client("ecs")
    live = services(ecs, CLUSTER)
    assert list(live) == ["demo-web"]
    assert image_of(ecs, live["demo-web"]["taskDefinition"]).endswith("demo/web:1")
    assert "Running on delegate ecs" in "\n".join(
        line.message for line in store.logs(record.id, step_key=deploy.key)
    )
