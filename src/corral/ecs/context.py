"""What every ECS step receives: AWS clients, its log, its deadline, abort, and a checkpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from corral.errors import DeploymentError

from .log import StepLog

if TYPE_CHECKING:
    from corral.aws.clients import Clients

DEFAULT_TIMEOUT_SECONDS = 600.0  # the reference's default step timeout, 10m


class StepAborted(DeploymentError):
    """The step was aborted by a person or by the pipeline; rollback follows."""


class StepTimedOut(DeploymentError):
    """The step ran out of time before ECS finished."""


def _no_checkpoint(data: dict[str, Any]) -> None:
    return None


@dataclass
class StepContext:
    """`checkpoint(rollback_data)` is called before the step's first change to AWS, so a rollback
    can run after a crash; the pipeline engine journals it, the Python API may keep it."""

    clients: Clients
    log: StepLog = field(default_factory=StepLog)
    deadline: float = field(default_factory=lambda: time.monotonic() + DEFAULT_TIMEOUT_SECONDS)
    abort: threading.Event = field(default_factory=threading.Event)
    checkpoint: Callable[[dict[str, Any]], None] = _no_checkpoint

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
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

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

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        """Raise if the step was aborted or its time is up; called between actions."""
        if self.abort.is_set():
            raise StepAborted("The step was aborted.")
        if self.remaining() <= 0:
            raise StepTimedOut("The step timed out.")
