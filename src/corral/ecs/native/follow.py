"""Following one ECS service deployment until it is done, paused or at a stage, or ECS gives up.

    deployment = wait_for_service_deployment(ctx, "prod", arn)                    # SUCCESSFUL
    deployment = wait_for_service_deployment(ctx, "prod", arn, until="PAUSED")     # a PAUSE hook waits
    deployment = wait_for_service_deployment(ctx, "prod", arn, until="BAKE_TIME")  # stage reached

The deployment is described through the cluster's shared `ServiceDeploymentPoller`
(DescribeServiceDeployments, 20 ARNs a call, inside the client's rate budget; quiet rounds back
off from 0.5 s to 5 s). Each change of status, stage, traffic weights, tasks or hook states is
logged once in the step log (and so in the live view), with the bake time left. When ECS stops
or rolls the deployment back, the wait goes on until ECS has finished (so the service is as ECS
left it when the step reports) and then raises `ServiceDeploymentFailed` with ECS's reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from corral.errors import DeploymentError

from ..context import StepAborted, StepContext, StepTimedOut
from .judge import PAUSED, SUCCESSFUL, WAIT_UNTIL, Verdict, judge, paused_hooks, short_id
from .progress import bake_clock_key


class ServiceDeploymentFailed(DeploymentError):
    """ECS stopped or rolled back the service deployment; `deployment` is its last description."""

    def __init__(self, message: str, deployment: dict[str, Any] | None) -> None:
        super().__init__(message)
        self.deployment = deployment


def deployment_outputs(deployment: dict[str, Any]) -> dict[str, Any]:
    """What a step that followed a service deployment publishes about it (JSON-ready)."""
    return {
        "serviceDeploymentArn": deployment.get("serviceDeploymentArn"),
        "status": deployment.get("status"),
        "lifecycleStage": deployment.get("lifecycleStage"),
        "pausedHookIds": list(paused_hooks(deployment)),
    }


class _Follower:
    """Called by the poller with each new description: judges it and logs what changed."""

    def __init__(self, ctx: StepContext, arn: str, until: str, revision_arn: str | None) -> None:
        self.ctx = ctx
        self.arn = arn
        self.until = until
        self.revision_arn = revision_arn
        self.last: dict[str, Any] | None = None
        self.verdict = Verdict()
        self._stage: tuple[Any, ...] = ()
        self._stage_since: dt.datetime | None = None

    def __call__(self, description: dict[str, Any]) -> bool:
        if "serviceDeploymentArn" in description:
            self.last = description
            answer: dict[str, Any] = {"serviceDeployments": [description]}
        else:  # the poller's MISSING stand-in, with ECS's failure entry
            answer = {"failures": [description.get("failure") or {"arn": self.arn, "reason": "MISSING"}]}
        now = dt.datetime.now(dt.UTC)
        stage = bake_clock_key(description)
        if stage != self._stage:
            self._stage, self._stage_since = stage, now
        verdict = judge(
            answer,
            service_deployment_arn=self.arn,
            until=self.until,
            revision_arn=self.revision_arn,
            now=now,
            state_since=self._stage_since,
        )
        if verdict.progress and (verdict.state != self.verdict.state or not self.verdict.progress):
            self.ctx.log.info(verdict.progress)
        self.verdict = verdict
        return verdict.done or (verdict.failure is not None and verdict.settled)


def wait_for_service_deployment(
    ctx: StepContext,
    cluster: str,
    service_deployment_arn: str,
    *,
    until: str = SUCCESSFUL,
    revision_arn: str | None = None,
) -> dict[str, Any]:
    """Block until the service deployment is SUCCESSFUL (or paused at a PAUSE hook, `until="PAUSED"`,
    or at or past a lifecycle stage, `until="<stage>"`); return its last description.

    `revision_arn`: the service revision the step asked for, when known: a deployment of another
    revision fails. Raises `ServiceDeploymentFailed` when ECS stops or rolls it back (after ECS's
    rollback has ended), `StepTimedOut` at the step's deadline, `StepAborted` on abort."""
    from corral.aws.poller import ServiceDeploymentPoller
    from corral.aws.retry import Aborted

    if until not in WAIT_UNTIL:
        raise ValueError(f"until must be one of {', '.join(WAIT_UNTIL)}, not {until!r}")
    name = short_id(service_deployment_arn)
    follower = _Follower(ctx, service_deployment_arn, until, revision_arn)
    goal = "to succeed" if until == SUCCESSFUL else "to pause" if until == PAUSED else f"to reach {until}"
    ctx.log.info(f"Waiting for service deployment {name} {goal}")
    watch = ServiceDeploymentPoller.for_cluster(ctx.clients, cluster).watch(service_deployment_arn)
    try:
        watch.wait(follower, deadline=ctx.deadline, abort=ctx.abort)
    except TimeoutError as exc:
        if follower.verdict.failure is not None:
            raise ServiceDeploymentFailed(
                f"{follower.verdict.failure} ECS had not finished with it when the step's time ran out.",
                follower.last,
            ) from exc
        raise StepTimedOut(
            f"Timed out waiting for service deployment {name} {goal}. {follower.verdict.progress}"
        ) from exc
    except Aborted as exc:
        raise StepAborted(f"Aborted while waiting for service deployment {name}") from exc
    finally:
        watch.close()
    if follower.verdict.failure is not None:
        raise ServiceDeploymentFailed(follower.verdict.failure, follower.last)
    assert follower.last is not None
    _log_done(ctx, follower.last, until)
    return follower.last


def _log_done(ctx: StepContext, deployment: dict[str, Any], until: str) -> None:
    name = short_id(str(deployment.get("serviceDeploymentArn")))
    status, stage = deployment.get("status"), deployment.get("lifecycleStage")
    if status == SUCCESSFUL:
        if until == PAUSED:
            ctx.log.warn(f"Service deployment {name} finished without pausing: no PAUSE hook waited")
        ctx.log.info(f"Service deployment {name} is SUCCESSFUL")
    elif until == PAUSED:
        hooks = ", ".join(paused_hooks(deployment))
        ctx.log.info(f"Service deployment {name} is paused at stage {stage}: hook {hooks} awaits action")
    else:
        ctx.log.info(f"Service deployment {name} reached stage {stage}")
