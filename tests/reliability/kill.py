"""The runner killed at each step boundary: examples/sandbox-demo pipelines through the engine.

The pipeline runs in its own process (`python -m tests.reliability.kill RUN ...`, below), which
is killed with SIGKILL when a step starts (`Running`) or ends (`Success`); then `resume` continues
the execution in this process. The scenario passes when the execution ends in a finished
deployment (Success, the release live, no canary left) or, after its rollback, in exactly the
services from before.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corral.aws.poller import PollPolicy

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
FAST_POLLS = PollPolicy(fast=0.1, growth=1.5, slowest=0.4, min_gap=0.05, round_window=30.0)
SPEED = 50.0

# pipeline -> its steps in the order they run (each a kill point when it starts and when it ends)
PIPELINES = {
    "demo_rolling": ("EcsRollingDeploy",),
    "demo_canary": ("EcsCanaryDeploy", "EcsCanaryDelete", "EcsRollingDeploy"),
}


@dataclass(frozen=True)
class KillPoint:
    pipeline: str
    step: str
    status: str  # "Running": killed as the step starts; "Success": as it ends

    @property
    def id(self) -> str:
        return f"{self.pipeline}: killed when {self.step} is {self.status}"


def kill_points(fast: bool = False) -> list[KillPoint]:
    points = [
        KillPoint(pipeline, step, status)
        for pipeline, steps in PIPELINES.items()
        for step in steps
        for status in ("Running", "Success")
    ]
    if fast:  # one of each kind: a kill inside a step, and one between two steps
        return [
            KillPoint("demo_rolling", "EcsRollingDeploy", "Running"),
            KillPoint("demo_canary", "EcsCanaryDeploy", "Success"),
        ]
    return points


def _environment(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _options() -> Any:
    from corral.engine import ExecutorOptions

    return ExecutorOptions(heartbeat=0.2, poll=0.05, lock_poll=0.1, log_flush=0.05, stop_grace=5.0)


def run_kill_point(point: KillPoint) -> tuple[str, float]:
    """(outcome, seconds): "finished", "restored" or "BROKEN: ..."."""
    from corral.config import load_project
    from corral.demo import pipeline_inputs, prepare_sandbox
    from corral.engine import resume, run_pipeline
    from corral.engine.ecs_steps import set_poll_policy
    from corral.sandbox import Sandbox
    from corral.store import Store
    from tests.e2e.state import image_of, services

    started = time.monotonic()
    saved = {k: os.environ.get(k) for k in _environment("")}
    with Sandbox(speed=SPEED) as sandbox, tempfile.TemporaryDirectory() as tmp:
        os.environ.update(_environment(sandbox.endpoint_url))
        set_poll_policy(FAST_POLLS)
        url = f"sqlite:///{Path(tmp) / 'corral.db'}"
        store = Store.open(url)
        try:
            project = load_project(DEMO)
            prepared = prepare_sandbox(sandbox.endpoint_url)
            inputs = pipeline_inputs(prepared, point.pipeline)
            first = run_pipeline(
                project, "demo_rolling", inputs={**inputs, "tag": "1"}, store=store, options=_options()
            )
            if first.status != "Success":
                return f"BROKEN: the first deployment failed: {first.error}", time.monotonic() - started
            ecs = sandbox.client("ecs")
            before = services(ecs)

            runner = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.reliability.kill",
                    "RUN",
                    point.pipeline,
                    url,
                    json.dumps({**inputs, "tag": "2"}),
                ],
                cwd=Path(__file__).resolve().parents[2],
                stdout=subprocess.PIPE,
                text=True,
            )
            assert runner.stdout is not None
            execution_id = runner.stdout.readline().strip()
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and runner.poll() is None:
                if any(
                    s.identifier == point.step and s.status == point.status for s in store.steps(execution_id)
                ):
                    break
                time.sleep(0.005)
            if runner.poll() is not None:
                return "BROKEN: the pipeline ended before the kill point", time.monotonic() - started
            runner.send_signal(signal.SIGKILL)
            runner.wait()

            ended = resume(execution_id, store=store, project=project, options=_options())
            after = services(ecs)
            if ended.status == "Success":
                problems = []
                if set(after) != {"demo-web"}:
                    problems.append(f"services {sorted(after)}")
                if not image_of(ecs, after["demo-web"]["taskDefinition"]).endswith(":2"):
                    problems.append("demo-web does not run tag 2")
                outcome = "finished" if not problems else "BROKEN: finished with " + "; ".join(problems)
            elif after == before:
                outcome = "restored"
            else:
                outcome = f"BROKEN: {ended.status} ({ended.error}) and not restored: {before} -> {after}"
            return outcome, time.monotonic() - started
        finally:
            set_poll_policy(None)
            store.close()
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


def _run(pipeline: str, url: str, inputs: str) -> None:
    """The process that gets killed: create the execution, print its id, run it."""
    from corral.config import load_project
    from corral.engine import EmbeddedExecutor, create_execution
    from corral.engine.ecs_steps import set_poll_policy
    from corral.store import Store

    set_poll_policy(FAST_POLLS)
    project = load_project(DEMO)
    store = Store.open(url)
    record = create_execution(project, pipeline, store=store, inputs=json.loads(inputs))
    print(record.id, flush=True)
    EmbeddedExecutor(store, project, _options()).run(record.id)


if __name__ == "__main__":
    if sys.argv[1] == "RUN":
        _run(*sys.argv[2:5])
