"""Pipelines written as small dicts, projects in a temporary folder, a test step type, an HTTP server."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from corral.engine import ExecutorOptions, StepOutcome, StepRun
from corral.store import Store

FAST = dict(lease=5.0, heartbeat=0.2, poll=0.02, lock_poll=0.02, stop_grace=3.0, log_flush=0.02)


def fast(**changes: Any) -> ExecutorOptions:
    return ExecutorOptions(**{**FAST, **changes})


# -- pipeline documents ---------------------------------------------------------------


def step(
    identifier: str, type: str = "Probe", spec: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"name": identifier, "identifier": identifier, "type": type, "spec": spec or {}}
    body.update(extra)
    return {"step": body}


def probe_step(identifier: str, **spec: Any) -> dict[str, Any]:
    extra = {k: spec.pop(k) for k in ("timeout", "failureStrategies", "when") if k in spec}
    return step(identifier, "Probe", spec, **extra)


def shell(identifier: str, script: str, **extra: Any) -> dict[str, Any]:
    spec = {"shell": "Bash", "source": {"type": "Inline", "spec": {"script": script}}}
    spec.update(extra.pop("spec", {}))
    return step(identifier, "ShellScript", spec, **extra)


def group(
    identifier: str, steps: list[Any], rollback: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    body = {"name": identifier, "identifier": identifier, "steps": steps}
    if rollback:
        body["rollbackSteps"] = rollback
    body.update(extra)
    return {"stepGroup": body}


def parallel(*items: Any) -> dict[str, Any]:
    return {"parallel": list(items)}


def stage(
    identifier: str,
    steps: list[Any],
    rollback: list[Any] | None = None,
    *,
    type: str = "Custom",
    **extra: Any,
) -> dict[str, Any]:
    execution: dict[str, Any] = {"steps": steps}
    if rollback:
        execution["rollbackSteps"] = rollback
    spec = {"execution": execution, **extra.pop("spec", {})}
    if type == "Deployment":
        spec["deploymentType"] = "ECS"
    body = {"name": identifier, "identifier": identifier, "type": type, "spec": spec}
    body.update(extra)
    return {"stage": body}


def pipeline(identifier: str, stages: list[Any], **extra: Any) -> str:
    body = {"name": identifier, "identifier": identifier, "stages": stages}
    body.update(extra)
    return yaml.safe_dump({"pipeline": body}, sort_keys=False)


def strategy(action: str, errors: list[str] | None = None, **spec: Any) -> list[dict[str, Any]]:
    body: dict[str, Any] = {"type": action}
    if spec:
        body["spec"] = spec
    return [{"onFailure": {"errors": errors or ["AllErrors"], "action": body}}]


# -- projects -------------------------------------------------------------------------

CONNECTORS = """connector:
  name: AWS
  identifier: aws
  type: Aws
  spec:
    credential:
      type: InheritFromDelegate
      region: us-east-1
    endpointUrl: http://127.0.0.1:1
---
connector:
  name: Docker Hub
  identifier: docker_hub
  type: DockerRegistry
  spec:
    dockerRegistryUrl: https://registry.hub.docker.com/v2/
    auth:
      type: Anonymous
"""

ENVIRONMENT = """environment:
  name: Dev
  identifier: dev
  type: PreProduction
  variables:
    - name: color
      type: String
      value: blue
---
infrastructureDefinition:
  name: Fargate
  identifier: fargate
  environmentRef: dev
  type: ECS
  spec:
    connectorRef: aws
    region: us-east-1
    cluster: dev-cluster
    launchType: FARGATE
    executionRoleArn: arn:aws:iam::123456789012:role/ecsTaskExecutionRole
    networkConfiguration:
      subnets: [subnet-1]
      securityGroups: [sg-1]
      assignPublicIp: DISABLED
"""

SERVICE = """service:
  name: Web
  identifier: web
  serviceDefinition:
    type: ECS
    spec:
      manifests:
        - manifest:
            identifier: task_def
            type: EcsTaskDefinition
            spec:
              store: {type: Harness, spec: {files: [web/task.yaml]}}
        - manifest:
            identifier: service_def
            type: EcsServiceDefinition
            spec:
              store: {type: Harness, spec: {files: [web/service.yaml]}}
      artifacts:
        primary:
          primaryArtifactRef: nginx
          sources:
            - identifier: nginx
              type: DockerRegistry
              spec:
                connectorRef: docker_hub
                imagePath: library/nginx
                tag: <+input>.default(1.25)
      variables:
        - name: replicas
          type: Number
          value: 2
"""

TASK = """family: web
networkMode: awsvpc
requiresCompatibilities: [FARGATE]
cpu: "256"
memory: "512"
containerDefinitions:
  - name: web
    image: <+artifact.image>
    essential: true
    portMappings:
      - containerPort: 80
"""

SERVICE_DEF = """serviceName: web
desiredCount: 1
"""


def write_project(
    root: Path, pipelines: str | list[str], *, ecs: bool = False, extra: dict[str, str] | None = None
) -> Path:
    files = {"corral.yaml": "project:\n  name: test\n"}
    docs = [pipelines] if isinstance(pipelines, str) else pipelines
    files["pipelines.yaml"] = "---\n".join(docs)
    if ecs:
        files |= {
            "connectors.yaml": CONNECTORS,
            "environment.yaml": ENVIRONMENT,
            "service.yaml": SERVICE,
            "files/web/task.yaml": TASK,
            "files/web/service.yaml": SERVICE_DEF,
        }
    files |= extra or {}
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


# -- the test step type -----------------------------------------------------------------


class Probe:
    """`type: Probe`: records each call, then does what its spec says.

    spec: outputs {..}, fail: bool, failTimes: n (fail the first n attempts), failureType,
    checkpoint {..} (checkpointed first), block: seconds (until aborted), gate: name (wait for
    Probe.gates[name] to be set), barrier: name (meet the other parallel branch)."""

    def __init__(self) -> None:
        self.calls: list[StepRun] = []
        self.lock = threading.Lock()
        self.gates: dict[str, threading.Event] = {}
        self.started: dict[str, threading.Event] = {}
        self.barriers: dict[str, threading.Barrier] = {}

    def keys(self) -> list[str]:
        return [f"{run.key}#{run.attempt}" for run in self.calls]

    def started_event(self, identifier: str) -> threading.Event:
        with self.lock:
            return self.started.setdefault(identifier, threading.Event())

    def __call__(self, run: StepRun) -> StepOutcome:
        with self.lock:
            self.calls.append(run)
        spec = run.spec
        if spec.get("checkpoint"):
            run.checkpoint(dict(spec["checkpoint"]))
        self.started_event(run.identifier).set()
        if spec.get("barrier"):
            with self.lock:
                barrier = self.barriers.setdefault(spec["barrier"], threading.Barrier(2))
            barrier.wait(timeout=10)
        if spec.get("gate"):
            with self.lock:
                gate = self.gates.setdefault(str(spec["gate"]), threading.Event())
            while not gate.wait(0.01):
                if run.stopped():
                    return run.stopped_outcome()
        if spec.get("block") and run.abort.wait(float(spec["block"])):
            return run.stopped_outcome()
        if spec.get("fail") or run.attempt <= int(spec.get("failTimes", 0)):
            return StepOutcome.failed(
                f"{run.identifier} failed on purpose", failure_type=spec.get("failureType", "Unknown")
            )
        return StepOutcome(outputs=dict(spec.get("outputs") or {}))


def finished_steps(store: Store, execution_id: str) -> list[str]:
    """Command ids of the StepFinished events, in journal order (`stage/step#attempt`)."""
    return [e.command_id or "" for e in store.journal(execution_id, kinds=["StepFinished"])]


def wait_until(condition: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError("condition not met in time")


# -- a local HTTP server ------------------------------------------------------------------


@contextmanager
def http_server(responses: Callable[[str], tuple[int, str]]) -> Iterator[str]:
    """A server on 127.0.0.1; `responses(path)` gives (status, body). Yields its base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status, body = responses(self.path)
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
