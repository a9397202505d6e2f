"""`corral demo`: the example pipelines against an embedded sandbox, shown as `corral run` shows them."""

from __future__ import annotations

import sys

import click

from corral.demo.pipeline_demo import SCENARIOS


@click.command("demo")
@click.option(
    "--speed", default=30.0, show_default=True, type=click.FloatRange(min=1), help="Sandbox time speed."
)
@click.option("--only", type=click.Choice(SCENARIOS), default=None, help="Run one scenario.")
def demo(speed: float, only: str | None) -> None:
    """Start a sandbox AWS in this process and run the example pipelines: rolling, canary, blue
    green with an approval, run task, a failing deployment that rolls back, ECS's own blue/green
    paused for a check and an approval, and ECS's own linear rollout."""
    from corral.demo.pipeline_demo import run_demo

    try:
        code = run_demo(speed=speed, only=only)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
    sys.exit(code)
