"""Amazon ECS events on EventBridge: what ECS sends to the account and Region's default event bus.

Four detail types, in the shapes of the ECS Developer Guide, source `aws.ecs`:

- `ECS Deployment State Change` (resources: the service ARN): detail `eventType` (INFO, or ERROR for
  a failure), `eventName` (SERVICE_DEPLOYMENT_IN_PROGRESS / _COMPLETED / _FAILED), `deploymentId`,
  `updatedAt`, `reason`. A circuit breaker rollback is a new deployment: IN_PROGRESS whose reason
  names the deployment it rolls back to.
- `ECS Service Action` (resources: the service ARN): detail `eventType` (INFO/WARN/ERROR),
  `eventName`, `clusterArn`, `createdAt`.
- `ECS Hook State Change` (resources: the service deployment ARN): detail `eventType`, `eventName`
  (HOOK_IN_PROGRESS / _AWAITING_ACTION / _SUCCEEDED / _FAILED / _TIMED_OUT), `hookId`, `hookType`,
  `expiresAt`, `lifecycleStage`, `clusterArn`, `serviceArn`, `serviceDeploymentArn`, `updatedAt`.
- `ECS Task State Change` (resources: the task ARN): detail is the task as DescribeTasks shows it
  (JSON, timestamps ISO 8601) plus `updatedAt`; sent when `lastStatus` or `desiredStatus` changes.

Each event is published at the sandbox moment of the change it reports, to moto's EventBridge
(rule matching and delivery to SQS, CloudWatch Logs, other buses), in-process: moto's PutEvents
would stamp its own envelope. With no enabled rule on the default bus, publishing is one dict lookup
and no event is built, so a sandbox nobody subscribes to pays nothing.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import uuid
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .backend import Backend
    from .deployments import Deployment
    from .hooks import HookRun
    from .service_deployments import ServiceDeployment
    from .services import Service
    from .tasks import Task

log = logging.getLogger(__name__)

SOURCE = "aws.ecs"
DEPLOYMENT_STATE_CHANGE = "ECS Deployment State Change"
SERVICE_ACTION = "ECS Service Action"
TASK_STATE_CHANGE = "ECS Task State Change"
HOOK_STATE_CHANGE = "ECS Hook State Change"

DEPLOYMENT_IN_PROGRESS = "SERVICE_DEPLOYMENT_IN_PROGRESS"
DEPLOYMENT_COMPLETED = "SERVICE_DEPLOYMENT_COMPLETED"
DEPLOYMENT_FAILED = "SERVICE_DEPLOYMENT_FAILED"

STEADY_STATE = "SERVICE_STEADY_STATE"
TASK_START_IMPAIRED = "SERVICE_TASK_START_IMPAIRED"
TASK_PLACEMENT_FAILURE = "SERVICE_TASK_PLACEMENT_FAILURE"
DESIRED_COUNT_UPDATED = "SERVICE_DESIRED_COUNT_UPDATED"

INFO, WARN, ERROR = "INFO", "WARN", "ERROR"


def deployment_state_change(service: Service, deployment: Deployment, event_name: str, at: float) -> None:
    """The deployment's rolloutState changed (its reason is already set)."""
    rules = _rules(service.backend)
    if not rules:
        return
    detail = {
        "eventType": ERROR if event_name == DEPLOYMENT_FAILED else INFO,
        "eventName": event_name,
        "deploymentId": deployment.id,
        "updatedAt": iso_millis(at),
        "reason": deployment.rollout_state_reason,
    }
    _publish(rules, service.backend, DEPLOYMENT_STATE_CHANGE, [service.arn], detail, at)


def service_action(service: Service, event_name: str, event_type: str, at: float, **extra: Any) -> None:
    rules = _rules(service.backend)
    if not rules:
        return
    detail = {
        "eventType": event_type,
        "eventName": event_name,
        "clusterArn": service.cluster.arn,
        "createdAt": iso_millis(at),
        **extra,
    }
    _publish(rules, service.backend, SERVICE_ACTION, [service.arn], detail, at)


def hook_state_change(record: ServiceDeployment, hook: HookRun, at: float) -> None:
    """A lifecycle hook started (HOOK_IN_PROGRESS, or HOOK_AWAITING_ACTION for PAUSE) or ended
    (HOOK_SUCCEEDED, HOOK_FAILED, HOOK_TIMED_OUT), in the shape of the ECS Developer Guide's
    "Amazon ECS service deployment hook state change events"."""
    service = record.service
    rules = _rules(service.backend)
    if not rules:
        return
    detail: dict[str, Any] = {
        "eventType": ERROR if hook.status in ("FAILED", "TIMED_OUT") else INFO,
        "eventName": f"HOOK_{hook.status}",
        "hookId": hook.hook_id,
        "hookType": hook.target_type,
        "lifecycleStage": hook.stage,
        "clusterArn": service.cluster.arn,
        "serviceArn": service.arn,
        "serviceDeploymentArn": record.arn,
        "updatedAt": iso_millis(at),
    }
    if hook.expires_at is not None:
        detail["expiresAt"] = iso_millis(hook.expires_at)
    _publish(rules, service.backend, HOOK_STATE_CHANGE, [record.arn], detail, at)


def task_state_change(task: Task) -> None:
    """Call after a task's lastStatus or desiredStatus changed and its fields are up to date;
    a call that finds neither changed since the last event sends nothing."""
    rules = _rules(task.backend)
    if not rules:
        return
    state = (task.last_status, task.desired_status)
    if getattr(task, "announced", None) == state:
        return
    task.announced = state
    from . import views  # views imports tasks, which imports this module

    now = task.now()
    detail = _json(views.task(task, []))
    detail["updatedAt"] = iso_millis(now)
    _publish(rules, task.backend, TASK_STATE_CHANGE, [task.arn], detail, now)


# ---------------------------------------------------------------------- time formats


def iso_millis(seconds: float) -> str:
    """Timestamps inside `detail`: UTC with milliseconds, as ECS writes them."""
    moment = dt.datetime.fromtimestamp(seconds, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------- moto's EventBridge


def _rules(backend: Backend) -> list[Any]:
    """The enabled rules of the default bus, without making moto create anything."""
    models = sys.modules.get("moto.events.models")
    if models is None:  # nobody called EventBridge in this process: no rule can exist
        return []
    per_account = dict.get(models.events_backends, backend.account_id)
    events = dict.get(per_account, backend.region_name) if per_account is not None else None
    bus = events.event_buses.get("default") if events is not None else None
    if bus is None or not bus.rules:
        return []
    return [rule for rule in list(bus.rules.values()) if rule.state == "ENABLED" and rule.targets]


def _publish(
    rules: list[Any],
    backend: Backend,
    detail_type: str,
    resources: list[str],
    detail: dict[str, Any],
    at: float,
) -> None:
    event = {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": SOURCE,
        "account": backend.account_id,
        # epoch seconds: moto's delivery writes them as ISO 8601 ("2026-11-22T13:00:00Z")
        "time": int(at),
        "region": backend.region_name,
        "resources": resources,
        "detail": detail,
    }
    for rule in rules:
        # moto's default input template drops `account`; deliver the event whole unless a target
        # asks for a transformation
        transform = any(target.get("InputTransformer") for target in rule.targets)
        try:
            rule.send_to_targets(event, transform_input=transform)
        except Exception:  # a target that is gone must not stop the deployment that reports
            log.warning(
                "could not deliver %s to the targets of rule %s", detail_type, rule.name, exc_info=True
            )


def _json(value: Any) -> Any:
    """An API dict as JSON: datetimes in ISO 8601, absent (None) members left out."""
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_json(item) for item in value]
    if isinstance(value, dt.datetime):
        return iso_millis(value.timestamp())
    return value
