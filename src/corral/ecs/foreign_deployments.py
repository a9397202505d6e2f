"""One deployment per ECS service, whoever starts it: a step waits for a deployment it did not start.

Before a step changes a service it asks ECS itself (not Corral's store, which another Corral,
the console or another tool never write) whether a deployment is in flight:

    wait_turn(ctx, cluster, "web")      # returns once no foreign deployment is in flight

ECS's own view, from DescribeServices (AWS, Amazon ECS API Reference, "Deployment" data type,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html): `status` PRIMARY
is the most recent deployment, ACTIVE one that still has tasks being replaced by the PRIMARY;
`rolloutState` starts IN_PROGRESS and becomes COMPLETED when the service reaches a steady state,
or FAILED (a FAILED deployment launches no new tasks). `rolloutState` is returned only for the
ECS (rolling) deployment controller, so without it more than one deployment means in flight.

A deployment in flight is *foreign* when this execution's checkpoints do not name it
(`OwnDeployments`: ids it started, and the intent it journaled before starting one, so a resumed
execution never waits for itself). A foreign one makes the step wait, with a line naming it
(id, task definition, when it started) and a line whenever its progress changes, until it ends
or the step's time is up; with `ctx.no_wait` the step fails at once and changes nothing. A
deployment ECS runs with a native strategy is also described once (DescribeServiceDeployments):
its stage and hooks tell a paused deployment from one that progresses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from corral.errors import DeploymentError

from .context import StepAborted, StepContext, StepTimedOut
from .services import describe_service

IN_PROGRESS = "IN_PROGRESS"
FAILED = "FAILED"


class ServiceBusy(DeploymentError):
    """Another deployment is in flight on the service and the run was told not to wait."""


def in_flight(service: dict[str, Any]) -> bool:
    """Is a deployment of the service still rolling out, by ECS's own account?"""
    if service.get("status") != "ACTIVE":
        return False
    deployments = service.get("deployments") or []
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if primary is None:
        return False
    state = primary.get("rolloutState")
    if state == IN_PROGRESS:
        return True
    # FAILED launches nothing more (older tasks may stay ACTIVE for good): nothing to wait for
    return state is None and len(deployments) > 1


def foreign_deployment(service: dict[str, Any], ctx: StepContext) -> dict[str, Any] | None:
    """The PRIMARY deployment in flight when this execution did not start it, else None."""
    if not in_flight(service):
        return None
    primary = next(d for d in service["deployments"] if d.get("status") == "PRIMARY")
    return None if ctx.own.is_ours(service.get("serviceName", ""), primary) else primary


def describe_deployment(deployment: dict[str, Any]) -> str:
    started = deployment.get("createdAt")
    when = f"{started:%Y-%m-%d %H:%M:%S %Z}".strip() if isinstance(started, datetime) else str(started or "?")
    return f"deployment {deployment.get('id')} (task definition {deployment.get('taskDefinition')}, started {when})"


def progress(service: dict[str, Any], deployment: dict[str, Any]) -> str:
    return (
        f"{deployment.get('runningCount', 0)}/{service.get('desiredCount', deployment.get('desiredCount', 0))} "
        f"tasks of {deployment.get('id')} running, {len(service.get('deployments') or [])} deployment(s)"
    )


def busy_message(name: str, deployment: dict[str, Any]) -> str:
    return (
        f"Service {name} has a deployment in progress that this execution did not start: "
        f"{describe_deployment(deployment)}"
    )


def wait_turn(ctx: StepContext, cluster: str, name: str, *, may_refuse: bool = True) -> dict[str, Any] | None:
    """Return once no foreign deployment is in flight on the service (its description then, or
    None when it is MISSING); raise ServiceBusy with `ctx.no_wait`, StepTimedOut at the deadline.

    Rollback steps pass `may_refuse=False`: they always wait (a rollback refused would leave the
    service half deployed), e.g. for ECS's own circuit-breaker rollback to end."""
    live = describe_service(ctx, cluster, name)
    other = foreign_deployment(live, ctx) if live is not None else None
    if other is None or live is None:
        return live
    if ctx.no_wait and may_refuse:
        raise ServiceBusy(
            f"{busy_message(name, other)}; not waiting (the run was started with --no-wait). Nothing was changed."
        )
    ctx.log.info(f"Waiting: {busy_message(name, other)}")
    _log_service_deployment(ctx, live)
    _wait_until_free(ctx, cluster, name, other)
    return describe_service(ctx, cluster, name)  # with its tags, which the shared poller leaves out


def _log_service_deployment(ctx: StepContext, service: dict[str, Any]) -> None:
    """A deployment ECS runs with a native strategy: where it is (a PAUSE hook waits for someone's
    ContinueServiceDeployment, a bake time runs), which task counts alone do not tell."""
    from .native.progress import progress_text
    from .native.started import native_strategy

    arn = service.get("currentServiceDeployment")
    if not arn or native_strategy(service) is None:
        return
    found = ctx.clients.ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"]
    for deployment in found:
        ctx.log.info(f"Waiting: {progress_text(deployment)}")


def _wait_until_free(ctx: StepContext, cluster: str, name: str, first: dict[str, Any]) -> None:
    from corral.aws.poller import ServicePoller
    from corral.aws.retry import Aborted

    shown = {"id": first.get("id"), "progress": ""}

    def free(service: dict[str, Any]) -> bool:
        other = foreign_deployment(service, ctx)
        if other is None:
            return True
        if other.get("id") != shown["id"]:
            shown["id"] = other.get("id")
            ctx.log.info(f"Waiting: {busy_message(name, other)}")
        line = progress(service, other)
        if line != shown["progress"]:
            shown["progress"] = line
            ctx.log.info(f"Waiting for {line} ...")
        return False

    with ServicePoller.for_cluster(ctx.clients, cluster).watch(name) as watch:
        try:
            service = watch.wait(free, deadline=ctx.deadline, abort=ctx.abort)
        except TimeoutError as exc:
            raise StepTimedOut(
                f"Timed out waiting for deployment {shown['id']} of service {name}, which this execution "
                "did not start, to end; nothing was changed"
            ) from exc
        except Aborted as exc:
            raise StepAborted(f"Aborted while waiting for another deployment of service {name}") from exc
    done = next((d for d in service.get("deployments") or [] if d.get("status") == "PRIMARY"), {})
    ctx.log.info(
        f"Service {name} is free: deployment {done.get('id')} is {done.get('rolloutState', 'done')}; going on"
    )
