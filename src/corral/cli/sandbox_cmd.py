"""`corral sandbox`: run the local AWS for ECS deployments in the foreground."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import click


@click.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=4566, show_default=True, type=int, help="Port to listen on (0: any free port)."
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Run sandbox time N times faster: task start, health checks, draining, grace periods. "
    "API throttling refills in real time regardless.",
)
@click.option("--no-throttling", is_flag=True, help="Turn off the ECS API token buckets.")
@click.option(
    "--timing-seed",
    type=int,
    help="Vary task start, health check and draining times from run to run within the ranges AWS "
    "documents, drawn from this seed (docs/sandbox.md); without it they are fixed.",
)
@click.option(
    "--state-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the emulated services' state in this file across restarts.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML file with `images:` and `functions:` behaviours and `faults:` to start with.",
)
@click.option(
    "--demo",
    is_flag=True,
    help="Once up, create what examples/sandbox-demo deploys into (cluster corral-demo, load "
    "balancers, listeners, rules, roles) and write each demo pipeline's inputs to "
    "<project>/.corral/sandbox-inputs/PIPELINE.yaml; prints the commands to run them.",
)
@click.option(
    "--demo-project",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    help="The demo project folder for --demo (default: examples/sandbox-demo of this Corral).",
)
def sandbox(
    host: str,
    port: int,
    speed: float,
    no_throttling: bool,
    timing_seed: int | None,
    state_file: Path | None,
    config_file: Path | None,
    demo: bool,
    demo_project: Path | None,
) -> None:
    """Run a local AWS endpoint for ECS deployments (ECS, ELBv2, Auto Scaling, Cloud Map,
    CloudFormation, Lambda with Python functions, and EC2, S3, IAM, STS, ECR, CloudWatch, Logs,
    Secrets Manager, SSM through moto).

    Point boto3 at it with AWS_ENDPOINT_URL=http://HOST:PORT, or the AWS CLI with --endpoint-url.
    The admin API lives under /_sandbox/ (see docs/sandbox.md).
    """
    from corral.sandbox import Sandbox

    try:
        server = Sandbox(
            host=host,
            port=port,
            speed=speed,
            throttling=not no_throttling,
            state_file=state_file,
            config_file=config_file,
            timing_seed=timing_seed,
        )
    except OSError as exc:
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc

    stopping = threading.Event()

    def stop(signum: int, frame: object) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    throttling = "off" if no_throttling else "on"
    if not demo:
        click.echo(
            f"Corral sandbox ready on {server.endpoint_url} (speed {speed:g}x, throttling {throttling})"
        )
        sys.stdout.flush()
        server.serve_until(stopping)
        return
    server.start()
    try:
        project = _prepare_demo(server, demo_project)
        click.echo(
            f"Corral sandbox ready on {server.endpoint_url} (speed {speed:g}x, throttling {throttling})"
        )
        click.echo(_demo_hint(server.endpoint_url, project))
        sys.stdout.flush()
        stopping.wait()
    finally:
        server.stop()


def _prepare_demo(server: Any, demo_project: Path | None) -> Path:
    from corral.demo.pipeline_demo import DEMO_PROJECT
    from corral.demo.sandbox_inputs import prepare_demo_project
    from corral.errors import CorralError

    project = (demo_project or DEMO_PROJECT).resolve()
    if not (project / "corral.yaml").is_file():
        raise click.ClickException(
            f"--demo: no corral.yaml in {project}; name the demo project with --demo-project"
        )
    try:
        prepare_demo_project(server, project)
    except CorralError as exc:
        raise click.ClickException(f"--demo: {exc}") from exc
    return project


def _demo_hint(endpoint: str, project: Path) -> str:
    """What to type in another terminal: the standard AWS settings, then the runs."""
    return "\n".join(
        [
            f"Demo prepared: cluster corral-demo, load balancers and inputs in {project / '.corral' / 'sandbox-inputs'}",
            "In another terminal:",
            f"  cd {project}",
            f"  export AWS_ENDPOINT_URL={endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
            "AWS_DEFAULT_REGION=us-east-1",
            "  corral run demo_rolling --inputs-file .corral/sandbox-inputs/demo_rolling.yaml",
            "  (any demo pipeline the same way: corral ls pipelines; add --input tag=2 for another image tag)",
        ]
    )
