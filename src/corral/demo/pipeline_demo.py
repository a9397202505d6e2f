"""`corral demo`: the example pipelines of examples/sandbox-demo against an embedded sandbox.

    run_demo(speed=30, only=None)        # -> 0 when every scenario ended as it should

Starts a sandbox in this process, points the standard AWS settings at it (the demo project's
connector names no endpoint, as a real project would not), prepares the cluster, load balancer
and target groups (`prepare_sandbox`) and runs, in order:

    rolling    ECS Rolling Deploy of demo/web:1 (a new service), then demo/web:2
    canary     a canary task set next to the service, deleted, then the rolling update
    bluegreen  the green service behind the stage listener, an approval (the demo gives it,
               as a person would with `corral approve ID`), then the listener swap
    runtask    a one-off task that exits 0 after 5 sandbox seconds
    failure    demo/web:broken, an image whose containers crash after they start (set with the
               sandbox admin API): the deployment fails and ECS Rolling Rollback restores :2
    native     ECS's own blue/green: ECS sends test traffic to the new revision and pauses at its
               PAUSE hook; the pipeline checks the new revision over HTTP, asks for an approval
               (given by the demo) and tells ECS to continue to production, bake and clean up
    linear     ECS's own linear rollout: production traffic moves 25% at a time, followed by one
               ECS Rolling Deploy step until ECS says SUCCESSFUL

Each execution is shown with the CLI's view (a live table in a terminal, plain lines otherwise)
and journaled in a temporary store, as `corral run` would.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEMO_PROJECT = Path(__file__).resolve().parents[3] / "examples" / "sandbox-demo"
SCENARIOS = ("rolling", "canary", "bluegreen", "runtask", "failure", "native", "linear")
APPROVAL_PAUSE = 1.5  # seconds the demo "reads" the approval before giving it


@dataclass(frozen=True)
class Run:
    """One pipeline run of a scenario and the status it should end with."""

    title: str
    pipeline: str
    inputs: dict[str, Any]
    expect: str = "Success"
    approve: bool = False
    check: bool = False  # the pipeline's Http step calls the demo's check endpoint (input `url`)


def scenario_runs(name: str, *, service_exists: bool) -> list[Run]:
    rolling_1 = Run("Rolling: demo/web:1, a new service of 2 tasks", "demo_rolling", {"tag": "1"})
    if name == "rolling":
        return [rolling_1, Run("Rolling: demo/web:1 -> demo/web:2", "demo_rolling", {"tag": "2"})]
    if name == "canary":
        return [Run("Canary: a canary of demo/web:3, deleted, then the rollout", "demo_canary", {"tag": "3"})]
    if name == "bluegreen":
        return [
            Run(
                "Blue green: green service, approval, listener swap",
                "demo_bluegreen",
                {"tag": "2"},
                approve=True,
            )
        ]
    if name == "runtask":
        return [Run("Run task: a one-off job that exits 0", "demo_runtask", {"tag": "1"})]
    if name == "failure":
        before = [] if service_exists else [rolling_1]
        broken = Run(
            "Failure: demo/web:broken crashes after it starts; the stage rolls back",
            "demo_rolling",
            {"tag": "broken"},
            expect="Failed",
        )
        return [*before, broken]
    if name == "native":
        return [
            Run(
                "Native blue green: ECS creates demo-native (a first revision: nothing to pause)",
                "demo_native",
                {"tag": "1"},
                check=True,
            ),
            Run(
                "Native blue green: ECS pauses with test traffic on demo/web:2; check, approval, continue",
                "demo_native",
                {"tag": "2"},
                approve=True,
                check=True,
            ),
        ]
    if name == "linear":
        return [
            Run(f"Linear: ECS moves production to demo/web:{tag} 25% at a time", "demo_linear", {"tag": tag})
            for tag in ("1", "2")
        ]
    raise ValueError(f"unknown scenario {name!r}; one of {', '.join(SCENARIOS)}")


def run_demo(
    *, speed: float = 30.0, only: str | None = None, echo: Callable[[str], None] | None = None
) -> int:
    """Run the demo; 0 when every run ended as expected, 1 otherwise."""
    from corral.aws.poller import PollPolicy
    from corral.config.project import load_project
    from corral.demo.prepare import pipeline_inputs, prepare_sandbox
    from corral.sandbox import Sandbox
    from corral.store import Store
    from corral.wiring.ecs_steps import set_poll_policy

    if not (DEMO_PROJECT / "corral.yaml").is_file():
        raise RuntimeError(f"the demo project is not at {DEMO_PROJECT}; install Corral from its repository")
    names = [only] if only else list(SCENARIOS)
    started = time.monotonic()
    project = load_project(DEMO_PROJECT)
    with (
        tempfile.TemporaryDirectory(prefix="corral-demo-") as folder,
        Sandbox(speed=speed) as sandbox,
        check_endpoint() as check_url,
    ):
        say = echo or _printer()
        say(f"Sandbox AWS on {sandbox.endpoint_url} (speed {speed:g}x); project {DEMO_PROJECT}")
        sandbox.admin.set_images(
            {"image": "*:broken", "crashAfter": 2},  # the failure scenario's release
            {"image": "*/demo/job:*", "exitCode": 0, "exitAfter": 5},  # the run task's batch job
        )
        store = Store.open(f"sqlite:///{Path(folder) / 'corral.db'}")
        set_poll_policy(PollPolicy(fast=0.1, growth=1.5, slowest=0.5, min_gap=0.05))
        try:
            with _aws_environment(sandbox.endpoint_url):
                prepared = prepare_sandbox(sandbox.endpoint_url)
                say(
                    f"Prepared: cluster {prepared['cluster']}, load balancer {prepared['loadBalancer']} "
                    f"(listeners :80 and :8080, target groups blue and green)"
                )
                ok = True
                service_exists = False
                for name in names:
                    for run in scenario_runs(name, service_exists=service_exists):
                        inputs = pipeline_inputs(prepared, run.pipeline) | run.inputs
                        if run.check:
                            inputs["url"] = check_url
                        status = _run_one(project, store, run, inputs, echo)
                        service_exists = service_exists or (
                            run.pipeline == "demo_rolling" and status == "Success"
                        )
                        if status != run.expect:
                            ok = False
                            say(f"!! {run.title}: ended {status}, expected {run.expect}")
        finally:
            set_poll_policy(None)
            store.close()
        took = time.monotonic() - started
        say(
            f"Demo {'done' if ok else 'FAILED'} in {took:.0f}s. Next, yourself: corral sandbox --demo --speed 20 (it prints the commands to type in another terminal)"
        )
    return 0 if ok else 1


def _run_one(project: Any, store: Any, run: Run, inputs: dict[str, Any], echo: Any) -> str:
    from corral.cli.execution_view import ExecutionView
    from corral.cli.run_cmd import execute
    from corral.engine import create_execution

    view = ExecutionView.for_output(echo=echo)
    view.say("")
    view.say(f"== {run.title} ({run.pipeline})")
    record = create_execution(project, run.pipeline, store=store, inputs=inputs, triggered_by="demo")
    approver = None
    if run.approve:
        approver = threading.Thread(target=_approve_when_asked, args=(store, record.id, view), daemon=True)
        approver.start()
    execution = execute(project, store, record.id, view=view, read_more=False)  # its store is temporary
    if approver is not None:
        approver.join(timeout=5)
    return execution.status


def _approve_when_asked(store: Any, execution_id: str, view: Any) -> None:
    """Wait for the approval step, say so, pause as a reader would, then approve."""
    from corral.engine import approve

    while True:
        record = store.execution(execution_id)
        if record is None or record.ended_at is not None:
            return
        waiting = [r for r in store.requests(execution_id, waiting=True) if r.kind == "approval"]
        if waiting:
            break
        time.sleep(0.1)
    view.say(f"-- waiting for approval: {waiting[0].message}")
    view.say(f"-- the demo approves, as you would with: corral approve {execution_id}")
    time.sleep(APPROVAL_PAUSE)
    approve(execution_id, comment="approved by the demo", by="demo", store=store)


@contextmanager
def check_endpoint() -> Iterator[str]:
    """A loopback HTTP endpoint answering 200: the demo's stand-in for the new revision's health
    page behind the test listener (the sandbox simulates tasks; it serves no HTTP traffic)."""
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Health(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b'{"status": "ok"}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/health"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def _aws_environment(endpoint: str) -> Iterator[None]:
    """The standard AWS settings, pointed at the sandbox for the demo's duration."""
    values = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_DISABLE_HOST_PREFIX_INJECTION": "true",
    }
    saved = {key: os.environ.get(key) for key in [*values, "AWS_PROFILE", "AWS_SESSION_TOKEN"]}
    os.environ.update(values)
    os.environ.pop("AWS_PROFILE", None)
    os.environ.pop("AWS_SESSION_TOKEN", None)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _printer() -> Callable[[str], None]:
    import click

    return click.echo
