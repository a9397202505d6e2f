"""`corral sandbox`: run the local AWS for ECS deployments in the foreground."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

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
def sandbox(
    host: str, port: int, speed: float, no_throttling: bool, state_file: Path | None, config_file: Path | None
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
    click.echo(f"Corral sandbox ready on {server.endpoint_url} (speed {speed:g}x, throttling {throttling})")
    sys.stdout.flush()
    server.serve_until(stopping)
