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
    found = []
    if deployed.image and serving.images and deployed.image not in serving.images:
        found.append(f"{serving.name} runs {', '.join(serving.images)}; {where} deployed {deployed.image}")
    if (
        deployed.task_definition
        and serving.task_definition
        and deployed.task_definition != serving.task_definition
    ):
        found.append(
            f"{serving.name} runs task definition {serving.task_definition}; {where} registered "
            f"{deployed.task_definition}"
        )
    return found
