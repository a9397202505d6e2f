"""Steering an ECS-native service deployment: continue it past a PAUSE hook, roll it back, stop it.

What ECS documents (API reference: ContinueServiceDeployment, StopServiceDeployment; Developer
Guide: "Stopping Amazon ECS service deployments"):

- A deployment paused at a PAUSE lifecycle hook lists that hook in `lifecycleHookDetails` with
  status AWAITING_ACTION; `ContinueServiceDeployment(arn, hookId, action)` moves it on (CONTINUE)
  or rolls it back to the previous service revision (ROLLBACK).
- `StopServiceDeployment(arn, stopType)`: ROLLBACK rolls back to the previous revision even when
  the deployment was not configured for rollback; ABORT stops it where it is. A deployment can be
  stopped while PENDING, IN_PROGRESS, STOP_REQUESTED, ROLLBACK_REQUESTED or ROLLBACK_IN_PROGRESS.

Each action is safe to repeat after a crash: a hook this step already continued, a rollback or a
stop already under way is recognised from ECS's answer and waited for, not sent again.

Callers make the calls inside `with ctx.calls():`; waiting goes through follow.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from corral.errors import DeploymentError

from ..context import StepContext
from .follow import ServiceDeploymentFailed, wait_for_service_deployment
from .judge import PAUSED, SUCCESSFUL, WAIT_UNTIL, paused_hooks, short_id

ROLLBACK_SUCCESSFUL = "ROLLBACK_SUCCESSFUL"
STOPPED = "STOPPED"

# statuses from which StopServiceDeployment is accepted (the Developer Guide's list)
STOPPABLE = ("PENDING", "IN_PROGRESS", "STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
ROLLING_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
ENDED = ("SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")

CONTINUE_ROLLBACK = "ContinueServiceDeployment ROLLBACK"
STOP_ROLLBACK = "StopServiceDeployment ROLLBACK"
ALREADY_ROLLING_BACK = "already rolling back"


@dataclass(frozen=True)
class DeploymentArn:
    """`arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID`, as ECS names one."""

    arn: str
    region: str
    account: str
    cluster: str
    service: str

    @classmethod
    def parse(cls, arn: str) -> DeploymentArn:
        parts = arn.split(":", 5)
        resource = parts[5].split("/") if len(parts) == 6 else []
        if (
            parts[0] != "arn"
            or len(resource) != 4
            or parts[2] != "ecs"
            or resource[0] != "service-deployment"
            or not all(resource[1:])
        ):
            raise DeploymentError(
                f"{arn!r} is not an ECS service deployment ARN "
                "(expected arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID)"
            )
        return cls(arn=arn, region=parts[3], account=parts[4], cluster=resource[1], service=resource[2])


# ---------------------------------------------------------------- what ECS says (pure)


def summary(deployment: dict[str, Any]) -> str:
    """One line: status, stage and reason, as a person reads them in the console."""
    text = f"{deployment.get('status', '?')}"
    if deployment.get("lifecycleStage"):
        text += f" at {deployment['lifecycleStage']}"
    paused = list(paused_hooks(deployment))
    if paused:
        text += f", paused at hook {', '.join(paused)}"
    if deployment.get("statusReason"):
        text += f" ({deployment['statusReason']})"
    return text


def hooks_to_continue(
    deployment: dict[str, Any], hook_id: str | None, already: Iterable[str] = ()
) -> list[str]:
    """The hooks a Continue acts on: `hook_id`, else every hook awaiting action. `already`: hooks
    an earlier attempt continued; ECS moved them on, so none left to continue is not an error."""
    arn = deployment.get("serviceDeploymentArn")
    paused = list(paused_hooks(deployment))
    done = set(already)
    if hook_id:
        if hook_id in paused:
            return [hook_id]
        if hook_id in done:
            return []
        known = [str(h.get("hookId")) for h in deployment.get("lifecycleHookDetails") or []]
        if hook_id not in known:
            raise DeploymentError(
                f"Service deployment {arn} has no lifecycle hook {hook_id} "
                f"(its hooks: {', '.join(known) or 'none'})"
            )
        raise DeploymentError(
            f"Lifecycle hook {hook_id} of service deployment {arn} is not awaiting action; "
            f"the deployment is {summary(deployment)}"
        )
    if paused or done:
        return paused
    raise DeploymentError(
        f"Service deployment {arn} is not paused at a lifecycle hook: it is {summary(deployment)}"
    )


def rollback_move(deployment: dict[str, Any]) -> str:
    """How to roll a deployment back: through its paused hook, by stopping it, or by waiting for
    the rollback already under way. A deployment that ended cannot be rolled back through ECS."""
    status = str(deployment.get("status"))
    if status in ROLLING_BACK:
        return ALREADY_ROLLING_BACK
    if status in ("PENDING", "IN_PROGRESS"):
        return CONTINUE_ROLLBACK if list(paused_hooks(deployment)) else STOP_ROLLBACK
    raise DeploymentError(
        f"Service deployment {deployment.get('serviceDeploymentArn')} cannot be rolled back through "
        f"ECS: it is {summary(deployment)}"
        + (
            "; deploy the previous revision instead (the stage's EcsRollingRollback does)"
            if status == SUCCESSFUL
            else ""
        )
    )


def is_unfinished(deployment: dict[str, Any]) -> bool:
    return str(deployment.get("status")) not in ENDED


# ---------------------------------------------------------------- calls


def describe(ctx: StepContext, arn: str) -> dict[str, Any]:
    """DescribeServiceDeployments for one ARN; a DeploymentError when ECS does not know it."""
    answer = ctx.clients.ecs.describe_service_deployments(serviceDeploymentArns=[arn])
    found = answer.get("serviceDeployments") or []
    if found:
        return dict(found[0])
    reasons = "; ".join(
        f"{f.get('reason', '?')}: {f.get('detail', '')}".rstrip(": ") for f in answer.get("failures") or []
    )
    raise DeploymentError(f"ECS has no service deployment {arn}" + (f" ({reasons})" if reasons else ""))


def continue_deployment(
    ctx: StepContext, arn: str, *, hook_id: str | None = None, already: Iterable[str] = ()
) -> list[str]:
    """CONTINUE on the paused hook(s). Returns the hooks continued (journal them before: `ctx.checkpoint`
    is called with them, so a re-run after a crash knows they were sent)."""
    deployment = describe(ctx, arn)
    hooks = hooks_to_continue(deployment, hook_id, already)
    ctx.checkpoint({"serviceDeploymentArn": arn, "continuedHookIds": sorted({*already, *hooks})})
    for hook in hooks:
        ctx.log.info(f"Continuing service deployment {arn} past lifecycle hook {hook}")
        ctx.clients.ecs.continue_service_deployment(serviceDeploymentArn=arn, hookId=hook, action="CONTINUE")
    if not hooks:
        ctx.log.info(f"Service deployment {arn} was already continued: it is {summary(deployment)}")
    return hooks


def start_rollback(ctx: StepContext, arn: str) -> str:
    """Roll the deployment back through ECS; returns which move was made (rollback_move)."""
    deployment = describe(ctx, arn)
    move = rollback_move(deployment)
    ctx.log.info(f"Service deployment {arn} is {summary(deployment)}")
    if move == CONTINUE_ROLLBACK:
        for hook in list(paused_hooks(deployment))[:1]:  # one ROLLBACK ends the deployment
            ctx.log.info(f"Rolling back service deployment {arn} at lifecycle hook {hook}")
            ctx.clients.ecs.continue_service_deployment(
                serviceDeploymentArn=arn, hookId=hook, action="ROLLBACK"
            )
    elif move == STOP_ROLLBACK:
        ctx.log.info(f"Stopping service deployment {arn} with a rollback to the previous revision")
        ctx.clients.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ROLLBACK")
    else:
        ctx.log.info(f"Service deployment {arn} is already rolling back; waiting for it")
    return move


def stop(ctx: StepContext, arn: str) -> dict[str, Any]:
    """StopServiceDeployment ABORT: the deployment stops where it is; a stop under way is fine."""
    deployment = describe(ctx, arn)
    status = str(deployment.get("status"))
    if status in (STOPPED, "STOP_REQUESTED"):
        ctx.log.info(f"Service deployment {arn} is already {status}")
        return deployment
    if status not in STOPPABLE:
        raise DeploymentError(f"Service deployment {arn} cannot be stopped: it is {summary(deployment)}")
    ctx.log.info(f"Stopping service deployment {arn} where it is (ABORT)")
    ctx.clients.ecs.stop_service_deployment(serviceDeploymentArn=arn, stopType="ABORT")
    return describe(ctx, arn)


def list_deployments(
    ecs: Any, cluster: str, service: str, *, statuses: list[str] | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    """The service's deployments, newest first, described (ListServiceDeployments gives ARNs and
    a few fields; DescribeServiceDeployments takes at most 20 ARNs a call)."""
    request: dict[str, Any] = {"cluster": cluster, "service": service}
    if statuses:
        request["status"] = statuses
    arns: list[str] = []
    while len(arns) < limit:
        page = ecs.list_service_deployments(**request, maxResults=min(100, limit - len(arns)))
        arns += [d["serviceDeploymentArn"] for d in page.get("serviceDeployments") or []]
        if not page.get("nextToken"):
            break
        request["nextToken"] = page["nextToken"]
    described: list[dict[str, Any]] = []
    for start in range(0, len(arns), 20):
        answer = ecs.describe_service_deployments(serviceDeploymentArns=arns[start : start + 20])
        described += answer.get("serviceDeployments") or []
    described.sort(key=lambda d: str(d.get("createdAt") or ""), reverse=True)
    return described


# ---------------------------------------------------------------- the steps' flows


def wait(ctx: StepContext, arn: str, until: str) -> dict[str, Any]:
    """Follow the deployment (follow.py) until `until`: a WAIT_UNTIL point, or the end of a
    rollback (ROLLBACK_SUCCESSFUL) or stop (STOPPED) this step asked for; its last description.
    ECS's rollback or stop fails the wait unless it is the end asked for."""
    cluster = DeploymentArn.parse(arn).cluster
    if until in WAIT_UNTIL:
        return wait_for_service_deployment(ctx, cluster, arn, until=until)
    try:
        wait_for_service_deployment(ctx, cluster, arn)
    except ServiceDeploymentFailed as ended:
        if ended.deployment is not None and ended.deployment.get("status") == until:
            return ended.deployment
        raise
    raise DeploymentError(f"Service deployment {arn} succeeded instead of ending {until}")


def continue_and_wait(
    ctx: StepContext, arn: str, *, hook_id: str | None, already: Iterable[str], until: str | None
) -> tuple[list[str], dict[str, Any]]:
    """EcsServiceDeploymentContinue: the hooks continued, and the deployment after `until`."""
    hooks = continue_deployment(ctx, arn, hook_id=hook_id, already=already)
    deployment = wait(ctx, arn, until) if until else describe(ctx, arn)
    return hooks, deployment


def roll_back(ctx: StepContext, arn: str) -> tuple[str, dict[str, Any]]:
    """Roll back through ECS and wait for ROLLBACK_SUCCESSFUL; the move made and the deployment."""
    move = start_rollback(ctx, arn)
    deployment = wait(ctx, arn, ROLLBACK_SUCCESSFUL)
    ctx.log.info(f"Service deployment {arn} rolled back: {summary(deployment)}")
    return move, deployment


def roll_back_unfinished(ctx: StepContext, arn: str, deployment: dict[str, Any] | None = None) -> str | None:
    """The stage rollback's part: a deployment still under way (or paused) is rolled back through
    ECS; one that ended is left to the rolling rollback. Returns the move made, or None.
    `deployment`: its description, when the caller has just read it."""
    deployment = deployment if deployment is not None else describe(ctx, arn)
    if not is_unfinished(deployment):
        ctx.log.info(f"Service deployment {arn} ended ({summary(deployment)}); no ECS rollback needed")
        return None
    if deployment.get("status") == "STOP_REQUESTED":  # an ABORT under way: let it end, then restore
        wait(ctx, arn, STOPPED)
        return None
    return roll_back(ctx, arn)[0]


# the stages a hook can run at, in ECS's order; PAUSE hooks may not use TEST_TRAFFIC_SHIFT or
# PRODUCTION_TRAFFIC_SHIFT, so a deployment paused in stage PRODUCTION_TRAFFIC_SHIFT waits on a
# PRE_PRODUCTION_TRAFFIC_SHIFT hook
HOOK_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
)


def pauses_ahead(deployment: dict[str, Any], paused_in: str | None) -> bool:
    """Whether a PAUSE hook of the deployment's configuration runs after stage `paused_in` (None:
    from the start)."""
    stage = "PRE_PRODUCTION_TRAFFIC_SHIFT" if paused_in == "PRODUCTION_TRAFFIC_SHIFT" else paused_in
    after = HOOK_STAGES.index(stage) if stage in HOOK_STAGES else -1
    hooks = (deployment.get("deploymentConfiguration") or {}).get("lifecycleHooks") or []
    return any(
        hook.get("targetType") == "PAUSE" and stage_ in HOOK_STAGES and HOOK_STAGES.index(stage_) > after
        for hook in hooks
        for stage_ in hook.get("lifecycleStages") or []
    )


def follow_past_pauses(ctx: StepContext, cluster: str, arn: str) -> dict[str, Any]:
    """Follow a deployment Corral's rollback started until SUCCESSFUL, continuing each PAUSE hook
    it stops at: the hooks gate new releases; a rollback that waited for a person would leave the
    service half way between two revisions."""
    paused_in = None
    while pauses_ahead(describe(ctx, arn), paused_in):
        deployment = wait_for_service_deployment(ctx, cluster, arn, until=PAUSED)
        hooks = list(paused_hooks(deployment))
        if deployment.get("status") == SUCCESSFUL or not hooks:
            return deployment
        paused_in = deployment.get("lifecycleStage")
        for hook in hooks:
            ctx.log.warn(
                f"The rollback's service deployment {short_id(arn)} paused at hook {hook} ({paused_in}); "
                "continuing it: a rollback does not wait for checks"
            )
            ctx.clients.ecs.continue_service_deployment(
                serviceDeploymentArn=arn, hookId=hook, action="CONTINUE"
            )
    return wait_for_service_deployment(ctx, cluster, arn)
