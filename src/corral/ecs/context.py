"""What every ECS step receives: AWS clients, its log, its deadline, abort, and a checkpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corral.errors import DeploymentError
from corral.step_log import StepLog

if TYPE_CHECKING:
    from corral.aws.clients import Clients

DEFAULT_TIMEOUT_SECONDS = 600.0  # the reference's default step timeout, 10m


class StepAborted(DeploymentError):
    """The step was aborted by a person or by the pipeline; rollback follows."""


class StepTimedOut(DeploymentError):
    """The step ran out of time before ECS finished."""


def _no_checkpoint(data: dict[str, Any]) -> None:
    return None


OWN_DEPLOYMENTS = "ecsDeployments"  # the checkpoint key under which a step marks what it started


@dataclass
class OwnDeployments:
    """The ECS deployments this execution started, as its checkpoints record them.

    ECS has no "started by" on a service deployment (UpdateService takes no client token), so
    Corral marks its own in its journal: `starting` (service, task definition, the PRIMARY before)
    is written just before CreateService / UpdateService, `started` (the deployment id ECS
    answered) just after. After a crash between the two, the intent still tells: a PRIMARY
    deployment of that service and task definition that is not the one before is ours.
    """

    started: set[str] = field(default_factory=set)
    starting: list[dict[str, Any]] = field(default_factory=list)

    def is_ours(self, service_name: str, deployment: dict[str, Any]) -> bool:
        if deployment.get("id") in self.started:
            return True
        return any(
            intent.get("service") == service_name
            and intent.get("taskDefinition") == deployment.get("taskDefinition")
            and intent.get("after") != deployment.get("id")
            for intent in self.starting
        )

    def add(self, recorded: dict[str, Any] | None) -> None:
        """Take in what a checkpoint recorded (`to_dict`'s form)."""
        for deployment_id in (recorded or {}).get("started") or []:
            self.started.add(str(deployment_id))
        for intent in (recorded or {}).get("starting") or []:
            if isinstance(intent, dict) and intent not in self.starting:
                self.starting.append(intent)

    def to_dict(self) -> dict[str, Any]:
        return {"started": sorted(self.started), "starting": list(self.starting)}

    @classmethod
    def merged(cls, *recorded: dict[str, Any] | None) -> OwnDeployments:
        own = cls()
        for data in recorded:
            own.add(data)
        return own


@dataclass
class StepContext:
    """`checkpoint(rollback_data)` is called before the step's first change to AWS, so a rollback
    can run after a crash; the pipeline engine journals it, the Python API may keep it."""

    clients: Clients
    log: StepLog = field(default_factory=StepLog)
    deadline: float = field(default_factory=lambda: time.monotonic() + DEFAULT_TIMEOUT_SECONDS)
    abort: threading.Event = field(default_factory=threading.Event)
    checkpoint: Callable[[dict[str, Any]], None] = _no_checkpoint
    # another's deployment in flight on a service this step changes: fail at once, do not wait
    no_wait: bool = False
    own: OwnDeployments = field(default_factory=OwnDeployments)

    @classmethod
    def with_timeout(cls, clients: Clients, seconds: float, **kwargs: Any) -> StepContext:
        return cls(clients=clients, deadline=time.monotonic() + seconds, **kwargs)

    @contextmanager
    def calls(self) -> Iterator[None]:
        """AWS calls made inside are retried (throttling, 5xx, dropped connections) until the deadline.

        An AWS error that leaves the block becomes a `DeploymentError` naming the operation, ECS's
        error code and message (a `StepTimedOut` when the deadline ran out while retrying, a
        `StepAborted` on abort), so a user never sees a Python traceback for an AWS-side failure.
        Code inside may still catch `ClientError` for the answers it expects.
        """
        from corral.aws.retry import call_scope

        try:
            with call_scope(deadline=self.deadline, abort=self.abort):
                yield
        except DeploymentError:
            raise
        except Exception as exc:
            translated = self._translate(exc)
            if translated is None:
                raise
            raise translated from exc

    def _translate(self, exc: Exception) -> DeploymentError | None:
        from botocore.exceptions import BotoCoreError, ClientError

        from corral.aws.retry import Aborted, is_retryable_error

        if isinstance(exc, Aborted):
            return StepAborted("The step was aborted.")
        if isinstance(exc, TimeoutError):  # the rate budget had no token before the deadline
            return StepTimedOut(f"The step timed out: {exc}")
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            operation = getattr(exc, "operation_name", "call")
            what = f"{operation} failed: {error.get('Code', 'Error')}: {error.get('Message', '')}".rstrip(
                ": "
            )
            if self.remaining() <= 0 and is_retryable_error(exc):
                return StepTimedOut(f"The step timed out while AWS kept refusing calls. {what}")
            return DeploymentError(f"AWS {what}")
        if isinstance(exc, BotoCoreError):
            if self.remaining() <= 0:
                return StepTimedOut(f"The step timed out while AWS could not be reached: {exc}")
            return DeploymentError(f"AWS could not be reached: {exc}")
        return None

    def adopt(self, data: dict[str, Any] | None) -> None:
        """The deployments an earlier step's data (rollback data, a Blue Green `setup`) names as
        started by it are this execution's too: its rollback or next step does not wait for them."""
        self.own.add((data or {}).get(OWN_DEPLOYMENTS))

    def starting(
        self, data: dict[str, Any], service_name: str, task_definition: str, before: str | None
    ) -> None:
        """Journal (in `data`, the step's checkpoint) that this step is about to start a deployment."""
        intent = {"service": service_name, "taskDefinition": task_definition, "after": before}
        if intent not in self.own.starting:
            self.own.starting.append(intent)
        data[OWN_DEPLOYMENTS] = self.own.to_dict()
        self.checkpoint(data)

    def started(self, data: dict[str, Any], deployment_id: str | None) -> None:
        """Journal (in `data`, the step's checkpoint) the deployment ECS answered; before waiting for it."""
        if deployment_id is not None:
            self.own.started.add(deployment_id)
        data[OWN_DEPLOYMENTS] = self.own.to_dict()
        self.checkpoint(data)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        """Raise if the step was aborted or its time is up; called between actions."""
        if self.abort.is_set():
            raise StepAborted("The step was aborted.")
        if self.remaining() <= 0:
            raise StepTimedOut("The step timed out.")
