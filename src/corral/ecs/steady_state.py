"""Waiting for a deployment to be done, and done meaning done.

A service step succeeds only when the PRIMARY deployment is the one this step made (its id, or
for services without rollout state its task definition) and its `rolloutState` is COMPLETED.
A FAILED rollout, a circuit-breaker rollback (a new PRIMARY that is not ours) or tasks that keep
failing fail the step at once with ECS's reason and the recent events. The verdict is a pure
function of the service description (`judge`), tested without AWS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from corral.errors import DeploymentError

from .context import StepAborted, StepContext, StepTimedOut
from .settle_forecast import SettleForecast, target_group_timing

if TYPE_CHECKING:
    from corral.aws.poller import Watch

RECENT_EVENTS = 5


@dataclass(frozen=True)
class Verdict:
    done: bool = False
    failure: str | None = None
    progress: str = ""


def failure_threshold(desired: int) -> int:
    """ECS's circuit-breaker threshold, also used when the breaker is off: ceil(desired/2) in [3, 200]."""
    return min(200, max(3, math.ceil(0.5 * desired)))


def _ours(deployment: dict[str, Any], deployment_id: str | None, task_definition_arn: str) -> bool:
    if deployment_id is not None:
        return deployment.get("id") == deployment_id
    return deployment.get("taskDefinition") == task_definition_arn


def judge(service: dict[str, Any], *, deployment_id: str | None, task_definition_arn: str) -> Verdict:
    """Is the deployment we made done, failed, or still going (and how far)?"""
    name = service.get("serviceName", "")
    status = service.get("status")
    if status != "ACTIVE":
        return Verdict(failure=f"Service {name} is {status or 'MISSING'}")
    deployments = service.get("deployments", [])
    primary = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    mine = next((d for d in deployments if _ours(d, deployment_id, task_definition_arn)), None)
    if mine is not None and mine.get("rolloutState") == "FAILED":
        return Verdict(
            failure=f"Deployment {mine.get('id')} failed: {mine.get('rolloutStateReason', 'no reason given')}"
        )
    if primary is None:
        return Verdict(progress="Waiting for ECS to start the deployment ...")
    if mine is None or primary is not mine:
        if _completed_before_replaced(service, mine, deployment_id):
            return Verdict(done=True, progress=f"Deployment {deployment_id} completed")
        return Verdict(failure=_replaced(service, primary, deployment_id))
    if mine.get("failedTasks", 0) >= failure_threshold(mine.get("desiredCount", 0)):
        return Verdict(
            failure=f"Tasks keep failing: {mine['failedTasks']} tasks of deployment {mine.get('id')} failed"
        )
    # The service's count is the target: a desired-count change alone (scale, autoscaling) starts no
    # new deployment, and the deployment's own count catches up only when the scheduler has run.
    running, desired = mine.get("runningCount", 0), service.get("desiredCount", mine.get("desiredCount", 0))
    progress = f"Waiting for pending tasks to finish. {running}/{desired} running ..."
    settled = len(deployments) == 1 and running == desired and mine.get("pendingCount", 0) == 0
    if "rolloutState" in mine:
        return Verdict(done=mine["rolloutState"] == "COMPLETED" and settled, progress=progress)
    return Verdict(done=settled, progress=progress)


def _completed_before_replaced(
    service: dict[str, Any], mine: dict[str, Any] | None, deployment_id: str | None
) -> bool:
    """Ours reached COMPLETED and a later deployment (someone else's, waiting for ours) started
    before we looked again: ECS said so with `(service S) (deployment ID) deployment completed.`
    (Amazon ECS Developer Guide, "Amazon ECS service event messages",
    https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html)."""
    if mine is not None and mine.get("rolloutState") == "COMPLETED":
        return True
    marker = f"(deployment {deployment_id}) deployment completed."
    return deployment_id is not None and any(
        marker in e.get("message", "") for e in service.get("events", [])
    )


def overtaken_by(service: dict[str, Any], deployment_id: str | None) -> dict[str, Any] | None:
    """The PRIMARY deployment that replaced ours when someone else started it (not ECS rolling
    ours back: no circuit breaker reason, no `deployment failed` event of ours), else None."""
    deployments = service.get("deployments", [])
    primary: dict[str, Any] | None = next((d for d in deployments if d.get("status") == "PRIMARY"), None)
    if deployment_id is None or primary is None or primary.get("id") == deployment_id:
        return None
    mine = next((d for d in deployments if d.get("id") == deployment_id), None)
    if mine is not None and mine.get("rolloutState") == "FAILED":
        return None
    if "circuit breaker" in (primary.get("rolloutStateReason") or ""):
        return None
    marker = f"(deployment {deployment_id}) deployment failed"
    if any(marker in e.get("message", "") for e in service.get("events", [])):
        return None
    return primary


class DeploymentOvertaken(DeploymentError):
    """Someone else's deployment replaced ours while we waited (a race nobody could see coming:
    both looked, saw the service free, and updated it)."""

    def __init__(self, message: str, other: dict[str, Any]) -> None:
        super().__init__(message)
        self.other = other


def _replaced(service: dict[str, Any], primary: dict[str, Any], deployment_id: str | None) -> str:
    """Why a deployment is no longer the PRIMARY one. Its own entry may be gone from the array
    already (ECS drops it once a rollback completes); the service events still tell."""
    reason = primary.get("rolloutStateReason") or f"deployment {primary.get('id')} replaced it"
    now = f"the PRIMARY deployment {primary.get('id')} runs {primary.get('taskDefinition')}"
    why = None
    if deployment_id is not None:
        marker = f"(deployment {deployment_id}) deployment failed: "
        why = next(
            (e["message"].split(marker, 1)[1] for e in service.get("events", []) if marker in e["message"]),
            None,
        )
    rolled_back = "circuit breaker" in reason or any(
        "rolling back to deployment" in e.get("message", "") for e in service.get("events", [])[:20]
    )
    if why is not None or (rolled_back and deployment_id is not None):
        what = f"Deployment {deployment_id} failed: {why or 'ECS rolled it back'}"
        if rolled_back:
            return f"{what} The ECS deployment circuit breaker rolled back: {now} ({reason})"
        return f"{what} ({now})"
    return f"ECS replaced the deployment: {now} ({reason})"


def event_lines(service: dict[str, Any], seen: set[str]) -> list[str]:
    """New service events, oldest first, in the reference's `# AWS Event:` form; marks them seen."""
    lines = []
    for event in reversed(service.get("events", [])):
        if event["id"] in seen:
            continue
        seen.add(event["id"])
        created = event["createdAt"]
        lines.append(
            f"# AWS Event: {created:%Y-%m-%d %H:%M:%S}.{created.microsecond // 1000:03d} {event['message']}"
        )
    return lines


# words of the service events that say why a deployment does not progress
PROBLEM_WORDS = ("unhealthy", "unable", "failed", "error", "throttled", "rolling back")
MORE_PROBLEM_EVENTS = 3


def recent_events(service: dict[str, Any]) -> str:
    """The newest events, plus the newest few older ones that name a problem (the events that
    explain a failure are often pushed out by the replacements ECS starts after it)."""
    events = service.get("events", [])
    shown = events[:RECENT_EVENTS]
    problems = [e for e in events[RECENT_EVENTS:] if any(w in e["message"].lower() for w in PROBLEM_WORDS)]
    return "\n".join(
        f"  {e['createdAt']:%H:%M:%S} {e['message']}" for e in shown + problems[:MORE_PROBLEM_EVENTS]
    )


def stopped_task_reasons(
    ctx: StepContext, cluster: str, deployment_id: str | None, limit: int = 3
) -> list[str]:
    """Why the deployment's latest tasks stopped, naming container and exit code where ECS says."""
    if deployment_id is None:
        return []
    arns = ctx.clients.ecs.list_tasks(cluster=cluster, startedBy=deployment_id, desiredStatus="STOPPED")[
        "taskArns"
    ]
    if not arns:
        return []
    tasks = ctx.clients.ecs.describe_tasks(cluster=cluster, tasks=arns[:limit])["tasks"]
    reasons = []
    for task in tasks:
        # exit codes explain a task that exited; a task stopped for a health check exits on SIGTERM
        exited = task.get("stopCode") == "EssentialContainerExited"
        exits = ", ".join(
            f"container {c['name']} exit code {c['exitCode']}"
            for c in task.get("containers", [])
            if c.get("exitCode") is not None and (exited or c["exitCode"] != 0)
        )
        reasons.append(
            f"task {task['taskArn'].rsplit('/', 1)[-1]}: {task.get('stoppedReason', 'stopped')}"
            + (f" ({exits})" if exits else "")
        )
    return reasons


class _Observer:
    """Called by the poller on each change: logs new events and progress, judges."""

    def __init__(
        self,
        ctx: StepContext,
        deployment_id: str | None,
        task_definition_arn: str,
        seen: set[str],
        forecast: SettleForecast | None = None,
        watch: Watch | None = None,
    ) -> None:
        self.ctx = ctx
        self.forecast = forecast
        self.watch = watch
        self.deployment_id = deployment_id
        self.task_definition_arn = task_definition_arn
        self.seen = seen
        self.last_progress = ""
        self.last: dict[str, Any] = {}
        self.verdict = Verdict()

    def __call__(self, service: dict[str, Any]) -> bool:
        if not self.last and not self.seen:
            self._skip_events_before_deployment(service)
        self.last = service
        for line in event_lines(service, self.seen):
            self.ctx.log.info(line)
        self.verdict = judge(
            service, deployment_id=self.deployment_id, task_definition_arn=self.task_definition_arn
        )
        if self.verdict.progress and self.verdict.progress != self.last_progress and not self.verdict.done:
            self.ctx.log.info(self.verdict.progress)
            self.last_progress = self.verdict.progress
        finished = self.verdict.done or self.verdict.failure is not None
        if self.forecast is not None and self.watch is not None and not finished:
            # when ECS can settle at the earliest: the poller looks sparsely until then
            before, now = self.watch.endpoint_times(service)
            earliest = self.forecast.update(service, now, previous_at=before)
            self.watch.expect(earliest, until=self.forecast.latest)
        return finished

    def _skip_events_before_deployment(self, service: dict[str, Any]) -> None:
        """The service's older events (up to 100) are history, not news of this deployment."""
        mine = next(
            (
                d
                for d in service.get("deployments", [])
                if _ours(d, self.deployment_id, self.task_definition_arn)
            ),
            None,
        )
        started = mine.get("createdAt") if mine is not None else None
        if started is None:
            return
        for event in service.get("events", []):
            if event["createdAt"] < started:
                self.seen.add(event["id"])


def wait_for_steady_state(
    ctx: StepContext,
    cluster: str,
    service_name: str,
    *,
    deployment_id: str | None,
    task_definition_arn: str,
    seen_events: set[str] | None = None,
    just_started: bool = False,
    overtaking_raises: bool = False,
    container_health_checks: bool | None = None,
    answer: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Block until our deployment is COMPLETED; raise DeploymentError with ECS's reason otherwise.

    `just_started`: the caller has just made this deployment, so ECS will say when it ends; with
    an ECS event feed (corral.aws.events) the service is described when an event says so, not at
    once. Otherwise (nothing changed, a re-run) it is described at once: it may be done already.
    `overtaking_raises`: a deployment someone else started over ours raises DeploymentOvertaken
    (the caller waits for it and deploys again) instead of failing the step.
    `container_health_checks`: whether an essential container of the task definition has a
    health check (None: not known); with False, when the deployment can settle at the earliest is
    forecast (settle_forecast.py) and the service is described sparsely until then; behind a
    load balancer its target groups are read (health checks, deregistration delay) for
    the window in which it can settle.
    `answer`: the service as the CreateService / UpdateService that started the deployment
    answered (with `just_started`): judged first, so the first DescribeServices comes a poll
    interval later instead of repeating it at once."""
    from corral.aws.poller import ServicePoller
    from corral.aws.retry import Aborted

    ctx.log.info(f"Waiting for Service {service_name} to reach steady state")
    poller = ServicePoller.for_cluster(ctx.clients, cluster)
    known = answer if just_started else None
    first_after = poller.policy.fast if known is not None else 0.0
    watch = poller.watch(service_name, lazy=just_started, first_after=first_after)
    forecast = None
    if just_started:
        forecast = SettleForecast(deployment_id, container_health_checks)
        groups = [
            b["targetGroupArn"] for b in (known or {}).get("loadBalancers", []) if b.get("targetGroupArn")
        ]
        if groups and container_health_checks is False:
            forecast.load_balancer = target_group_timing(ctx.clients.elbv2, groups)
    observer = _Observer(
        ctx,
        deployment_id,
        task_definition_arn,
        seen_events if seen_events is not None else set(),
        forecast,
        watch,
    )
    try:
        if known is None or not observer(known):
            watch.wait(
                observer, deadline=ctx.deadline, abort=ctx.abort, lazy=just_started, first_after=first_after
            )
    except TimeoutError as exc:
        raise StepTimedOut(
            f"Timed out waiting for service {service_name} to reach a steady state. "
            f"{observer.verdict.progress}\nRecent events:\n{recent_events(observer.last)}"
        ) from exc
    except Aborted as exc:
        raise StepAborted(f"Aborted while waiting for service {service_name}") from exc
    finally:
        watch.close()
    if observer.verdict.failure is not None and overtaking_raises:
        other = overtaken_by(observer.last, deployment_id)
        if other is not None:
            raise DeploymentOvertaken(observer.verdict.failure, other)
    if observer.verdict.failure is not None:
        reasons = stopped_task_reasons(ctx, cluster, deployment_id)
        detail = "".join(f"\n  {r}" for r in reasons)
        raise DeploymentError(
            f"{observer.verdict.failure}{detail}\nRecent events:\n{recent_events(observer.last)}"
        )
    ctx.log.info(f"Service {service_name} reached steady state")
    return observer.last
