"""The verdict on one ECS service deployment, from what DescribeServiceDeployments answers.

A pure function (`judge`), tested over recorded answers without AWS. Done is SUCCESSFUL on the
revision the step asked for, or the point the step waits for (`until`: a PAUSE hook awaiting
action, or a lifecycle stage reached). A deployment that ECS stops or rolls back fails the step
with ECS's reason (`statusReason`, `rollback.reason`) and what triggered it (circuit breaker,
alarms, a failed or timed-out hook); the failure is `settled` once ECS has finished with it
(STOPPED, ROLLBACK_SUCCESSFUL, ROLLBACK_FAILED), so the caller can wait for ECS's own rollback
to end before it reports.

Statuses, stages and hook states are the botocore model's enums (ServiceDeploymentStatus,
ServiceDeploymentLifecycleStage, DeploymentLifecycleHookStatus); the stage order is the one the
Amazon ECS Developer Guide gives ("Deployment lifecycle stages",
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle.html).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from .progress import deployment_state, progress_text

SUCCESSFUL = "SUCCESSFUL"
PAUSED = "PAUSED"
LIFECYCLE_STAGES = (
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
# what a step may wait until (EcsRollingDeploy's `waitUntil`)
WAIT_UNTIL = (SUCCESSFUL, PAUSED, *LIFECYCLE_STAGES)

STOPPING = ("STOP_REQUESTED",)
ROLLING_BACK = ("ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS")
FINISHED_BADLY = ("STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED")


@dataclass(frozen=True)
class Verdict:
    """`done`: the step's wait is over; `failure`: why the step fails; `settled`: ECS has nothing
    more to do with the deployment; `state`: what changed since the last look, for logging once."""

    done: bool = False
    failure: str | None = None
    settled: bool = False
    progress: str = ""
    state: tuple[Any, ...] = ()
    paused_hook_ids: tuple[str, ...] = ()


def short_id(arn: str) -> str:
    """`arn:aws:ecs:…:service-deployment/cluster/service/ID` → ID."""
    return arn.rsplit("/", 1)[-1]


def find(answer: dict[str, Any], arn: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """(the deployment, the failure entry) for `arn` in a DescribeServiceDeployments answer."""
    deployment = next(
        (d for d in answer.get("serviceDeployments", []) if d.get("serviceDeploymentArn") == arn), None
    )
    failure = next((f for f in answer.get("failures", []) if f.get("arn") == arn), None)
    return deployment, failure


def paused_hooks(deployment: dict[str, Any]) -> tuple[str, ...]:
    """The PAUSE hooks waiting for ContinueServiceDeployment."""
    return tuple(
        str(h.get("hookId"))
        for h in deployment.get("lifecycleHookDetails") or []
        if h.get("targetType") == "PAUSE" and h.get("status") == "AWAITING_ACTION"
    )


def judge(
    answer: dict[str, Any],
    *,
    service_deployment_arn: str,
    until: str = SUCCESSFUL,
    revision_arn: str | None = None,
    now: dt.datetime | None = None,
    state_since: dt.datetime | None = None,
) -> Verdict:
    """Is the service deployment done (up to `until`), failed, or still going (and how far)?

    `revision_arn`: the service revision the step asked for, when it knows it; `now` and
    `state_since` (when the current stage and weights were first seen) give the bake time left."""
    if until not in WAIT_UNTIL:
        raise ValueError(f"until must be one of {', '.join(WAIT_UNTIL)}, not {until!r}")
    deployment, failure = find(answer, service_deployment_arn)
    name = short_id(service_deployment_arn)
    if deployment is None:
        if failure is not None:
            why = ": ".join(str(failure[k]) for k in ("reason", "detail") if failure.get(k))
            return Verdict(failure=f"ECS cannot describe service deployment {name}: {why}", settled=True)
        return Verdict(progress=f"Waiting for ECS to describe service deployment {name} ...")
    progress = progress_text(deployment, now=now, state_since=state_since)
    state = deployment_state(deployment)
    status = deployment.get("status")
    if status in STOPPING + ROLLING_BACK + FINISHED_BADLY:
        return Verdict(
            failure=failure_text(deployment),
            settled=status in FINISHED_BADLY,
            progress=progress,
            state=state,
        )
    target = (deployment.get("targetServiceRevision") or {}).get("arn")
    if revision_arn is not None and target is not None and target != revision_arn:
        return Verdict(
            failure=f"Service deployment {name} deploys revision {target}, not the revision this step "
            f"asked for ({revision_arn})",
            settled=True,
            progress=progress,
            state=state,
        )
    paused = paused_hooks(deployment)
    if status == SUCCESSFUL:
        return Verdict(done=True, settled=True, progress=progress, state=state)
    reached = (until == PAUSED and bool(paused)) or _stage_reached(deployment, until)
    return Verdict(done=reached, progress=progress, state=state, paused_hook_ids=paused)


def _stage_reached(deployment: dict[str, Any], until: str) -> bool:
    stage = deployment.get("lifecycleStage")
    if until not in LIFECYCLE_STAGES or stage not in LIFECYCLE_STAGES:
        return False
    return deployment.get("status") == "IN_PROGRESS" and LIFECYCLE_STAGES.index(
        stage
    ) >= LIFECYCLE_STAGES.index(until)


def failure_text(deployment: dict[str, Any]) -> str:
    """Why ECS stopped or rolled back the deployment, in ECS's words, and where that left the service."""
    name = short_id(str(deployment.get("serviceDeploymentArn", "")))
    status = deployment.get("status")
    head = {
        "STOP_REQUESTED": f"Service deployment {name} is being stopped",
        "STOPPED": f"Service deployment {name} was stopped",
        "ROLLBACK_REQUESTED": f"ECS is rolling back service deployment {name}",
        "ROLLBACK_IN_PROGRESS": f"ECS is rolling back service deployment {name}",
        "ROLLBACK_SUCCESSFUL": f"ECS rolled back service deployment {name}",
        "ROLLBACK_FAILED": f"ECS could not roll back service deployment {name}: the rollback failed",
    }.get(str(status), f"Service deployment {name} is {status}")
    reasons = _reasons(deployment)
    text = head + (": " + "; ".join(reasons) if reasons else "") + "."
    restored = (deployment.get("rollback") or {}).get("serviceRevisionArn")
    if status == "ROLLBACK_SUCCESSFUL" and restored:
        text += f" The service runs revision {restored} again."
    return text


def _reasons(deployment: dict[str, Any]) -> list[str]:
    reasons: list[str] = []
    for why in ((deployment.get("rollback") or {}).get("reason"), deployment.get("statusReason")):
        if why and why not in reasons:
            reasons.append(str(why))
    breaker = deployment.get("deploymentCircuitBreaker") or {}
    if breaker.get("status") == "TRIGGERED":
        reasons.append(
            f"the deployment circuit breaker triggered ({breaker.get('failureCount', '?')} failed tasks, "
            f"threshold {breaker.get('threshold', '?')})"
        )
    alarms = deployment.get("alarms") or {}
    if alarms.get("status") == "TRIGGERED":
        names = ", ".join(alarms.get("triggeredAlarmNames") or []) or "an alarm"
        reasons.append(f"CloudWatch alarm {names} went into ALARM")
    for hook in deployment.get("lifecycleHookDetails") or []:
        # a hook that timed out with the CONTINUE action let the deployment go on: not a reason
        timed_out = hook.get("status") == "TIMED_OUT" and hook.get("timeoutAction") != "CONTINUE"
        if hook.get("status") == "FAILED" or timed_out:
            target = f" {hook['targetArn']}" if hook.get("targetArn") else ""
            reasons.append(
                f"lifecycle hook {hook.get('hookId')} ({hook.get('targetType', 'AWS_LAMBDA')}{target}) "
                f"{'failed' if hook['status'] == 'FAILED' else 'timed out'}"
            )
    return reasons
