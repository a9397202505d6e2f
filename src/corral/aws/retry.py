"""Retrying throttled and failing AWS calls for as long as the caller's deadline allows.

Step code makes plain client calls inside a *call scope*; it never wraps calls in try/except:

    with call_scope(deadline=time.monotonic() + 600, abort=stop_event):
        clients.ecs.update_service(cluster="c", service="web", taskDefinition=arn)

How it works: every client made by `corral.aws.clients.Clients` carries `needs_retry`, a botocore
`needs-retry` handler (botocore's own retries are off: `total_max_attempts=1`). It retries

- throttling: error codes in `THROTTLING_CODES` or a message containing `Rate exceeded`;
- transient server errors: HTTP 5xx and the codes in `TRANSIENT_CODES`;
- connection errors: refused, closed or timed out connections (botocore `ConnectionError`,
  `HTTPClientError`);

with full-jitter exponential back-off (`uniform(0, min(cap, base * 2**(attempt-1)))`, base 0.2 s,
cap 5 s). Retrying inside botocore's request loop re-sends the same request, so idempotency tokens
(`clientToken` of RunTask, CreateService) stay the same across attempts.

The deadline is a `time.monotonic()` value held in a context variable (`call_scope`), so it follows
the code that set it but not into new threads: a thread (or pool worker) opens its own scope.
Scopes nest; an inner scope never extends the outer deadline. While time remains no retryable
error reaches the caller; the last attempt starts no later than the deadline, and if it fails too
its error is raised. Without a deadline, a call is retried for `RetryPolicy.window` seconds
(default 60) from its first failure. If the scope's `abort` event is set while a retry waits,
`Aborted` is raised.

A retried ECS attempt also waits for its token in the rate budget (`corral.aws.budget`), which
learns from the throttling answers (`is_throttling`): a throttled bucket is treated as empty.
"""

from __future__ import annotations

import functools
import logging
import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
        "EC2ThrottledException",
        "ProvisionedThroughputExceededException",
        "BandwidthLimitExceeded",
    }
)
# Not "LimitExceededException": for ECS that is a quota (e.g. too many services), never transient.
TRANSIENT_CODES = frozenset(
    {
        "InternalError",
        "InternalFailure",
        "InternalServerError",
        "ServerException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)


@functools.cache
def connection_errors() -> tuple[type[Exception], ...]:
    """Refused, closed and timed-out connections (botocore imported on first use)."""
    from botocore.exceptions import ConnectionError, HTTPClientError

    return (ConnectionError, HTTPClientError)


_STARTED = "corral_retry_started"  # key in botocore's per-call request context


class Aborted(Exception):
    """The caller's abort event was set while an AWS call or a wait was in progress."""


@dataclass(frozen=True)
class RetryPolicy:
    """Back-off parameters. `window`: how long to retry when the scope has no deadline."""

    base: float = 0.2
    cap: float = 5.0
    window: float = 60.0

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Full jitter: a uniform draw below the capped exponential for this attempt (1-based)."""
        ceiling = min(self.cap, self.base * 2 ** min(attempt - 1, 30))
        return (rng or random).uniform(0.0, ceiling)


DEFAULT_POLICY = RetryPolicy()


@dataclass(frozen=True)
class CallScope:
    """What the current code allows its AWS calls: a deadline (`time.monotonic()`), an abort event."""

    deadline: float | None = None
    abort: threading.Event | None = None
    policy: RetryPolicy = DEFAULT_POLICY

    def remaining(self) -> float | None:
        return None if self.deadline is None else self.deadline - time.monotonic()


# CallScope is frozen, so one shared default is safe
_scope: ContextVar[CallScope] = ContextVar("corral_aws_call_scope", default=CallScope())  # noqa: B039


def current_scope() -> CallScope:
    return _scope.get()


@contextmanager
def call_scope(
    *,
    deadline: float | None = None,
    abort: threading.Event | None = None,
    policy: RetryPolicy | None = None,
) -> Iterator[CallScope]:
    """Run the enclosed AWS calls under a deadline (`time.monotonic()` value) and abort event.

    Nested scopes keep the earlier deadline; `abort` and `policy` default to the outer scope's.
    """
    outer = _scope.get()
    if outer.deadline is not None and (deadline is None or outer.deadline < deadline):
        deadline = outer.deadline
    scope = CallScope(deadline, abort or outer.abort, policy or outer.policy)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def is_throttling(response: Any) -> bool:
    """Whether an attempt's response (botocore's `(http_response, parsed)` pair) is a throttling error."""
    if response is None:
        return False
    parsed = response[1] if isinstance(response, tuple) else response
    error = parsed.get("Error") or {}
    return bool(error) and (
        error.get("Code", "") in THROTTLING_CODES or "Rate exceeded" in str(error.get("Message", ""))
    )


def is_retryable(response: Any = None, caught_exception: BaseException | None = None) -> bool:
    """Whether an attempt's outcome is throttling, a transient server error or a connection error.

    `response` is botocore's `(http_response, parsed)` pair; `caught_exception` what the attempt raised.
    """
    if caught_exception is not None:
        return isinstance(caught_exception, connection_errors())
    if response is None:
        return False
    parsed = response[1] if isinstance(response, tuple) else response
    error = parsed.get("Error") or {}
    status = parsed.get("ResponseMetadata", {}).get("HTTPStatusCode", 200)
    code = error.get("Code", "")
    if not error and status < 500:
        return False
    return is_throttling(parsed) or code in TRANSIENT_CODES or status >= 500


def is_retryable_error(error: BaseException) -> bool:
    """`is_retryable` for an exception raised by a client call (a `ClientError` or connection error)."""
    response = getattr(error, "response", None)
    if response is not None:
        return is_retryable(response)
    return isinstance(error, connection_errors())


def needs_retry(
    response: Any = None,
    caught_exception: BaseException | None = None,
    attempts: int = 1,
    request_dict: dict[str, Any] | None = None,
    operation: Any = None,
    **_: Any,
) -> float | None:
    """botocore `needs-retry` handler: wait out the back-off here, then return 0 (retry now).

    Returns None (do not retry) for success, non-retryable errors and when the deadline has passed.
    """
    if not is_retryable(response, caught_exception):
        return None
    scope = _scope.get()
    now = time.monotonic()
    deadline = scope.deadline
    if deadline is None:
        context = request_dict.get("context", {}) if request_dict is not None else {}
        deadline = context.setdefault(_STARTED, now) + scope.policy.window
    remaining = deadline - now
    if remaining <= 0:
        return None
    delay = min(scope.policy.delay(attempts), remaining)
    log.debug(
        "retrying %s (attempt %d) in %.2fs: %s",
        getattr(operation, "name", "call"),
        attempts + 1,
        delay,
        _describe(response, caught_exception),
    )
    if scope.abort is not None:
        if scope.abort.wait(delay):
            raise Aborted(f"aborted while retrying after {_describe(response, caught_exception)}")
    elif delay > 0:
        time.sleep(delay)
    return 0


def install(client: Any) -> None:
    """Register `needs_retry` on one client (only that client's event system is touched)."""
    client.meta.events.register("needs-retry", needs_retry, unique_id="corral-retry")


def _describe(response: Any, caught_exception: BaseException | None) -> str:
    if caught_exception is not None:
        return f"{type(caught_exception).__name__}: {caught_exception}"
    parsed = response[1] if isinstance(response, tuple) else response or {}
    error = parsed.get("Error") or {}
    return f"{error.get('Code', 'HTTP ' + str(parsed.get('ResponseMetadata', {}).get('HTTPStatusCode')))}"
