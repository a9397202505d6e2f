"""Drift: AWS runs something other than what Corral last deployed there (pure, no AWS)."""

from __future__ import annotations

from .model import Deployment, LiveState


def drift(live: LiveState | None, deployed: Deployment | None) -> list[str]:
    """Sentences saying how the live service differs from the last successful deployment; empty
    when they agree, when Corral never deployed it, or when AWS could not be read."""
    if live is None or deployed is None:
        return []
    where = f"execution #{deployed.sequence_id} of {deployed.pipeline}"
    if not live.exists:
        return [f"the service {deployed.ecs_service} is missing in AWS; {where} deployed it"]
    serving = live.serving
    if serving is None or serving.status == "MISSING":
        return [f"no ECS service of {deployed.ecs_service} is active; {where} deployed it"]
    # production may be split (a traffic shift that stopped short of 100%): any service it reaches
    # may run the deployment
    reached = [s for s in live.services if s.serves_production and s.status != "MISSING"] or [serving]
    names = ", ".join(s.name for s in reached)
    found = []
    images = [image for s in reached for image in s.images]
    if deployed.image and images and deployed.image not in images:
        found.append(f"{names} runs {', '.join(images)}; {where} deployed {deployed.image}")
    revisions = [s.task_definition for s in reached if s.task_definition]
    if deployed.task_definition and revisions and deployed.task_definition not in revisions:
        found.append(
            f"{names} runs task definition {', '.join(revisions)}; {where} registered {deployed.task_definition}"
        )
    return found
