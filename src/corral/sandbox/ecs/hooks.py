"""Lifecycle hooks of a service deployment: PAUSE and AWS_LAMBDA (native.py runs them in order).

- PAUSE ("Lifecycle hooks for Amazon ECS service deployments", ECS Developer Guide; the API
  Reference's ContinueServiceDeployment): the deployment waits AWAITING_ACTION until
  ContinueServiceDeployment says CONTINUE or ROLLBACK, or until `timeoutConfiguration`'s
  `timeoutInMinutes` pass (`expiresAt`), when its `action` is taken (status TIMED_OUT).
- AWS_LAMBDA ("Lambda hooks for Amazon ECS service deployments"): ECS invokes the function with
  the stage's payload (`executionDetails`: serviceArn, targetServiceRevisionArn, testTrafficWeights,
  productionTrafficWeights; plus hookDetails); it answers `hookStatus` SUCCEEDED (go on), FAILED
  (roll back) or IN_PROGRESS (called again after `callBackDelay` seconds, default 30, with the
  `hookDetails` it returned). No valid hookStatus, or a function error, rolls back.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, field
from typing import Any

from ..core.clock import to_datetime
from .ids import new_uuid

PAUSE = "PAUSE"
AWS_LAMBDA = "AWS_LAMBDA"
AWAITING_ACTION = "AWAITING_ACTION"
IN_PROGRESS = "IN_PROGRESS"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
TIMED_OUT = "TIMED_OUT"
CONTINUE = "CONTINUE"
ROLLBACK = "ROLLBACK"
DEFAULT_CALLBACK_DELAY = 30.0
# a PAUSE hook without timeoutConfiguration: 1,440 minutes, then ROLLBACK ("Pause hooks for Amazon
# ECS service deployments", ECS Developer Guide)
DEFAULT_PAUSE_TIMEOUT_MINUTES = 1440
HOOK_STATUSES = (SUCCEEDED, FAILED, IN_PROGRESS)


@dataclass(eq=False)
class HookRun:
    """One hook at one lifecycle stage of one service deployment."""

    stage: str  # the hook's lifecycle stage (may be PRE_PRODUCTION_TRAFFIC_SHIFT)
    target_type: str
    target_arn: str | None
    hook_details: Any = None
    timeout_minutes: int | None = None
    timeout_action: str | None = None
    hook_id: str = field(default_factory=new_uuid)
    status: str = IN_PROGRESS
    expires_at: float | None = None
    started_at: float = 0.0
    answer_details: Any = None  # hookDetails returned with IN_PROGRESS, handed back next call

    @classmethod
    def from_config(cls, stage: str, hook: dict[str, Any], now: float) -> HookRun:
        timeout = hook.get("timeoutConfiguration") or {}
        kind = hook.get("targetType") or AWS_LAMBDA
        run = cls(
            stage=stage,
            target_type=kind,
            target_arn=hook.get("hookTargetArn"),
            hook_details=copy.deepcopy(hook.get("hookDetails")),
            timeout_minutes=timeout.get("timeoutInMinutes"),
            timeout_action=timeout.get("action"),
            started_at=now,
        )
        if kind == PAUSE:
            # ECS's PAUSE hook ids read "ecs-pause-<43 characters>"
            run.hook_id = "ecs-pause-" + secrets.token_urlsafe(32)[:43]
            run.status = AWAITING_ACTION
            run.timeout_minutes = run.timeout_minutes or DEFAULT_PAUSE_TIMEOUT_MINUTES
            run.timeout_action = run.timeout_action or ROLLBACK
            run.expires_at = now + run.timeout_minutes * 60.0
        elif run.timeout_minutes is not None:
            # the sandbox's reading: a Lambda hook's timeoutConfiguration bounds its IN_PROGRESS answers
            run.timeout_action = run.timeout_action or ROLLBACK
            run.expires_at = now + run.timeout_minutes * 60.0
        return run

    @property
    def passed(self) -> bool:
        """Done, and the deployment may go on."""
        return self.status == SUCCEEDED or (self.status == TIMED_OUT and self.timeout_action == CONTINUE)

    def to_api(self) -> dict[str, Any]:
        out: dict[str, Any] = {"hookId": self.hook_id, "targetType": self.target_type, "status": self.status}
        if self.target_arn and self.target_type == AWS_LAMBDA:
            out["targetArn"] = self.target_arn
        if self.expires_at is not None:
            out["expiresAt"] = to_datetime(self.expires_at)
        if self.timeout_action is not None:
            out["timeoutAction"] = self.timeout_action
        return out


def read_answer(answer: Any) -> tuple[str | None, float, Any]:
    """(hookStatus or None when invalid, callBackDelay seconds, hookDetails) from a function's answer."""
    if not isinstance(answer, dict):
        return None, DEFAULT_CALLBACK_DELAY, None
    status = answer.get("hookStatus")
    delay = answer.get("callBackDelay", DEFAULT_CALLBACK_DELAY)
    if not isinstance(delay, (int, float)) or isinstance(delay, bool) or delay < 0:
        delay = DEFAULT_CALLBACK_DELAY
    return (status if status in HOOK_STATUSES else None), float(delay), answer.get("hookDetails")


def invoke_lambda(world: Any, account_id: str, region: str, arn: str, payload: dict[str, Any]) -> Any:
    """Run the function through the sandbox's Lambda emulation; a FunctionError (raised, timed
    out, missing) is returned as an Exception, never raised into the deployment."""
    try:
        from corral.sandbox.lambda_ import invoke as lambda_invoke
    except ImportError as exc:  # the Lambda emulation is not part of this sandbox build
        return exc
    try:
        return lambda_invoke.invoke_function(world, account_id, region, arn, payload)
    except lambda_invoke.FunctionError as exc:
        return exc
