"""`corral demo`: run a real deployment against an embedded sandbox."""

from __future__ import annotations

import click


@click.command("demo")
@click.option("--speed", default=20.0, show_default=True, type=click.FloatRange(min=1), help="Sandbox time speed.")
def demo(speed: float) -> None:
    """Start an embedded sandbox and roll a Fargate service behind a load balancer to a new image."""
    from corral.demo.scripted import run

    try:
        run(click.echo, speed=speed)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from exc
