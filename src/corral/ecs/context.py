"""What every ECS step receives: AWS clients, its log, its deadline, abort, and a checkpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
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

    def calls(self) -> AbstractContextManager[None]:
        """AWS calls made inside are retried (throttling, 5xx, dropped connections) until the deadline."""
        from corral.aws.retry import call_scope

        return call_scope(deadline=self.deadline, abort=self.abort)

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def check(self) -> None:
        """Raise if the step was aborted or its time is up; called between actions."""
        if self.abort.is_set():
            raise StepAborted("The step was aborted.")
        if self.remaining() <= 0:
            raise StepTimedOut("The step timed out.")
