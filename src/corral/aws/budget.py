"""Client-side rate budget for the ECS API, and a per-process count of AWS calls.

ECS throttles each account and Region with one token bucket per group of actions
(`corral.aws.ecs_limits`; e.g. DescribeServices and ListServices share "service read": 100 burst,
20 per second). A throttled call costs a round trip and a back-off, and the buckets are shared
by *every* caller in the account, so Corral paces itself instead of relying on retries:

- one `TokenBucket` per (scope, Region, ECS bucket), shared by every client in the process; the
  scope is the account id, or the endpoint URL when one is set (the sandbox, a test endpoint);
- by default the bucket has ECS's whole burst and refill (`refill_share` and `burst_share` 1.0):
  while nobody else calls, a release goes as fast as the account allows;
- it adapts to the other callers of the account (the console, Terraform, CI jobs, Application
  Auto Scaling, other Corral processes), like botocore's adaptive retry mode (AIMD):
  - a `ThrottlingException` means ECS's bucket is empty right now, so Corral's is set to empty
    too (tokens <= 0): every caller of that bucket waits a refill interval instead of hammering;
  - a throttle that comes within `REPEAT_WINDOW` seconds of the previous one, for a call that
    reserved its token after that one was answered, means Corral still asks for more than is
    left: the bucket's refill share is multiplied by `DECREASE` (0.7), down to `MIN_REFILL_SHARE`
    (0.2) of ECS's rate. Calls already queued before a throttle do not lower it again, so 20
    threads throttled at once count as one event;
  - successful calls raise the share back by `RECOVERY_PER_SECOND` (0.05 of ECS's rate per
    second since the last throttle or raise), up to the configured `refill_share`.
- explicit shares: `RateBudget(refill_share=..., burst_share=...)`, or for the process-wide
  budget the environment variables `CORRAL_ECS_RATE_SHARE` (refill) and `CORRAL_ECS_BURST_SHARE`
  (burst), each a number in (0, 1], e.g. 0.5 to leave half of each bucket to other tools. The
  refill share is the ceiling the adaptation returns to.

`RateBudget.install(client, ...)` hooks the budget into an ECS client through botocore's
`before-send.ecs` event, i.e. once per HTTP attempt, retries included, and reads every attempt's
outcome from the `needs-retry.ecs` event (which runs before `corral.aws.retry` waits out its
back-off). The calling thread blocks until its token is due. Tokens are *reserved* in arrival
order (the bucket may go negative, each caller sleeping until its slot), which is fair and needs
no polling. If the token would come after the current call scope's deadline
(`corral.aws.retry.call_scope`), `BudgetTimeout` is raised at once; if the scope's abort event is
set while waiting, `Aborted` is raised.

`CALLS` counts every HTTP attempt made by Corral's clients, by (service, operation), for tests and
benchmarks.
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..errors import ConfigError, Problem
from .ecs_limits import BUCKETS, ECS_OPERATION_BUCKETS
from .retry import Aborted, current_scope, is_throttling

DEFAULT_REFILL_SHARE = 1.0
DEFAULT_BURST_SHARE = 1.0
DECREASE = 0.7  # multiplicative decrease of the refill share on a repeated throttle
MIN_REFILL_SHARE = 0.2  # of ECS's refill rate, whatever the throttling
RECOVERY_PER_SECOND = 0.05  # additive increase of the refill share, per second of successful calls
REPEAT_WINDOW = 10.0  # seconds: a throttle this soon after the previous one lowers the share

REFILL_SHARE_ENV = "CORRAL_ECS_RATE_SHARE"
BURST_SHARE_ENV = "CORRAL_ECS_BURST_SHARE"


class BudgetTimeout(TimeoutError):
    """The rate budget has no token for this call before the caller's deadline."""


@dataclass
class TokenBucket:
    """A token bucket that hands out reservations: `reserve` returns how long to wait."""

    capacity: float
    rate: float  # tokens per second
    tokens: float
    updated: float

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_for_next(self, now: float) -> float:
        """Seconds until one more token would be free, without taking it."""
        self._refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def reserve(self, now: float) -> float:
        """Take a token (possibly not yet refilled); return the seconds until it is due."""
        wait = self.wait_for_next(now)
        self.tokens -= 1
        return wait

    def refund(self, now: float) -> None:
        self._refill(now)
        self.tokens = min(self.capacity, self.tokens + 1)

    def empty(self, now: float) -> None:
        """No token left now; reservations already handed out (negative tokens) stay queued."""
        self._refill(now)
        self.tokens = min(self.tokens, 0.0)

    def set_rate(self, rate: float, now: float) -> None:
        self._refill(now)  # tokens accrued so far at the old rate
        self.rate = rate


@dataclass
class _Adaptive:
    """One ECS bucket's local token bucket and what throttling taught about it."""

    bucket: TokenBucket
    ecs_rate: float
    share: float  # current refill share of ecs_rate
    epoch: int = 0  # number of throttles answered; a reservation remembers the epoch it was made in
    last_throttle: float | None = None
    last_change: float = 0.0  # the last throttle or raise: recovery counts from here


@dataclass(frozen=True)
class _Attempt:
    """What `before-send` reserved for the attempt in flight on this thread."""

    budget: RateBudget
    key: tuple[str, str, str]
    epoch: int


_in_flight = threading.local()  # .attempt: the _Attempt of this thread's current ECS call


class RateBudget:
    """Adaptive token buckets per (scope, Region, ECS bucket), at most a share of ECS's; thread-safe."""

    def __init__(
        self,
        *,
        refill_share: float = DEFAULT_REFILL_SHARE,
        burst_share: float = DEFAULT_BURST_SHARE,
        limits: Mapping[str, tuple[float, float]] = BUCKETS,
        operation_buckets: Mapping[str, str] = ECS_OPERATION_BUCKETS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not (0 < refill_share <= 1 and 0 < burst_share <= 1):
            raise ValueError("refill_share and burst_share must be in (0, 1]")
        self.refill_share = refill_share
        self.burst_share = burst_share
        self._limits = dict(limits)
        self._operation_buckets = dict(operation_buckets)
        self._clock = clock
        self._buckets: dict[tuple[str, str, str], _Adaptive] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> RateBudget:
        """A budget with the shares of `CORRAL_ECS_RATE_SHARE` / `CORRAL_ECS_BURST_SHARE` if set."""
        environ = os.environ if environ is None else environ
        return cls(
            refill_share=_share(environ, REFILL_SHARE_ENV, DEFAULT_REFILL_SHARE),
            burst_share=_share(environ, BURST_SHARE_ENV, DEFAULT_BURST_SHARE),
        )

    def bucket_name(self, operation: str) -> str | None:
        """The ECS bucket an operation draws from, or None if ECS does not throttle it by bucket."""
        return self._operation_buckets.get(operation)

    def reserve(self, scope: str, region: str, operation: str, *, deadline: float | None = None) -> float:
        """Reserve a token; return seconds to wait before sending. Raises `BudgetTimeout`."""
        return self._reserve(scope, region, operation, deadline)[0]

    def acquire(
        self,
        scope: str,
        region: str,
        operation: str,
        *,
        deadline: float | None = None,
        abort: threading.Event | None = None,
    ) -> float:
        """Block until this call may be sent; return the seconds waited.

        `deadline` and `abort` default to the current call scope's (`corral.aws.retry.call_scope`).
        """
        call = current_scope()
        deadline = call.deadline if deadline is None else deadline
        abort = call.abort if abort is None else abort
        wait, key, epoch = self._reserve(scope, region, operation, deadline)
        _in_flight.attempt = None if key is None else _Attempt(self, key, epoch)
        if wait <= 0:
            return 0.0
        if abort is None:
            time.sleep(wait)
        elif abort.wait(wait):
            _in_flight.attempt = None
            self._refund(scope, region, operation)
            raise Aborted(f"aborted while waiting for the ECS rate budget ({operation})")
        return wait

    def throttled(self, scope: str, region: str, operation: str, *, epoch: int | None = None) -> None:
        """ECS answered a call of this operation `ThrottlingException`: its bucket is empty.

        `epoch` is the bucket's epoch when the call reserved its token (`None`: now). A call
        reserved before the last throttle was answered only empties the bucket again.
        """
        name = self._operation_buckets.get(operation)
        if name is not None:
            self._throttled((scope, region, name), epoch)

    def succeeded(self, scope: str, region: str, operation: str) -> None:
        """ECS answered a call of this operation without throttling it: recover the refill share."""
        name = self._operation_buckets.get(operation)
        if name is not None:
            self._succeeded((scope, region, name))

    def refill_share_now(self, scope: str, region: str, operation: str) -> float:
        """The share of ECS's refill rate the operation's bucket currently gets (1.0 if unbucketed)."""
        name = self._operation_buckets.get(operation)
        if name is None:
            return 1.0
        with self._lock:
            return self._state((scope, region, name), self._clock()).share

    def epoch(self, scope: str, region: str, operation: str) -> int:
        """How many throttles of the operation's bucket were counted; a reservation made now
        belongs to this epoch (pass it to `throttled` for the answer to that call)."""
        name = self._operation_buckets.get(operation)
        if name is None:
            return 0
        with self._lock:
            return self._state((scope, region, name), self._clock()).epoch

    def install(self, client: Any, *, scope: Callable[[], str], region: str) -> None:
        """Hook the budget into an ECS client: every attempt waits for its token first, and every
        attempt's answer (throttled or not) adapts the bucket.

        `scope` is called at send time (it may look up the account id once and cache it).
        """

        def before_send(event_name: str, **_: Any) -> None:
            self.acquire(scope(), region, event_name.rsplit(".", 1)[-1])
            # returning None lets botocore send the request

        def after_attempt(response: Any = None, caught_exception: Any = None, **_: Any) -> None:
            attempt: _Attempt | None = getattr(_in_flight, "attempt", None)
            _in_flight.attempt = None
            if attempt is None or attempt.budget is not self or caught_exception is not None:
                return  # not paced by this budget, or no answer from ECS (connection error)
            if is_throttling(response):
                self._throttled(attempt.key, attempt.epoch)
            elif not (response[1] if isinstance(response, tuple) else response or {}).get("Error"):
                self._succeeded(attempt.key)
            # returning None leaves the retry decision to corral.aws.retry

        client.meta.events.register("before-send.ecs", before_send, unique_id="corral-budget")
        client.meta.events.register("needs-retry.ecs", after_attempt, unique_id="corral-budget-adapt")

    # ------------------------------------------------------------------ internals

    def _reserve(
        self, scope: str, region: str, operation: str, deadline: float | None
    ) -> tuple[float, tuple[str, str, str] | None, int]:
        name = self._operation_buckets.get(operation)
        if name is None:
            return 0.0, None, 0
        key = (scope, region, name)
        with self._lock:
            now = self._clock()
            state = self._state(key, now)
            bucket = state.bucket
            if deadline is not None and now + bucket.wait_for_next(now) > deadline:
                raise BudgetTimeout(
                    f"no ECS {name} token for {operation} before the deadline "
                    f"(budget {bucket.rate:g}/s, burst {bucket.capacity:g})"
                )
            return bucket.reserve(now), key, state.epoch

    def _throttled(self, key: tuple[str, str, str], epoch: int | None) -> None:
        with self._lock:
            now = self._clock()
            state = self._state(key, now)
            state.bucket.empty(now)
            if epoch is not None and epoch != state.epoch:
                return  # reserved on what was known before the last throttle: that one counted
            if state.last_throttle is not None and now - state.last_throttle <= REPEAT_WINDOW:
                state.share = max(MIN_REFILL_SHARE, state.share * DECREASE)
                state.bucket.set_rate(state.ecs_rate * state.share, now)
            state.last_throttle = state.last_change = now
            state.epoch += 1

    def _succeeded(self, key: tuple[str, str, str]) -> None:
        with self._lock:
            now = self._clock()
            state = self._state(key, now)
            if state.share >= self.refill_share:
                return
            state.share = min(
                self.refill_share, state.share + RECOVERY_PER_SECOND * (now - state.last_change)
            )
            state.last_change = now
            state.bucket.set_rate(state.ecs_rate * state.share, now)

    def _state(self, key: tuple[str, str, str], now: float) -> _Adaptive:
        state = self._buckets.get(key)
        if state is None:
            burst, rate = self._limits[key[2]]
            capacity = max(1.0, burst * self.burst_share)
            bucket = TokenBucket(capacity, rate * self.refill_share, capacity, now)
            state = self._buckets[key] = _Adaptive(bucket, rate, self.refill_share, last_change=now)
        return state

    def _refund(self, scope: str, region: str, operation: str) -> None:
        name = self._operation_buckets.get(operation)
        if name is None:
            return
        with self._lock:
            now = self._clock()
            self._state((scope, region, name), now).bucket.refund(now)


def _share(environ: Mapping[str, str], name: str, default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:  # also false for NaN
        raise ConfigError([Problem("environment", name, f"expected a number in (0, 1], got {text!r}")])
    return value


class CallCounter:
    """HTTP attempts by (service, operation), e.g. `CALLS.get("ecs", "DescribeServices")`."""

    def __init__(self) -> None:
        self._counts: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()

    def record(self, service: str, operation: str) -> None:
        with self._lock:
            self._counts[(service, operation)] += 1

    def get(self, service: str, operation: str) -> int:
        with self._lock:
            return self._counts[(service, operation)]

    def snapshot(self) -> dict[tuple[str, str], int]:
        with self._lock:
            return dict(self._counts)

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()

    def install(self, client: Any) -> None:
        """Count every attempt this client sends (`before-send`, all operations)."""

        def before_send(event_name: str, **_: Any) -> None:
            _event, service, operation = event_name.split(".", 2)  # before-send.<service>.<Operation>
            self.record(service, operation)

        client.meta.events.register("before-send", before_send, unique_id="corral-call-counter")


CALLS = CallCounter()

_default_budget: RateBudget | None = None
_default_lock = threading.Lock()


def default_budget() -> RateBudget:
    """The process-wide budget every `Clients` uses unless given another (shares from the
    environment: `CORRAL_ECS_RATE_SHARE`, `CORRAL_ECS_BURST_SHARE`)."""
    global _default_budget
    with _default_lock:
        if _default_budget is None:
            _default_budget = RateBudget.from_environment()
        return _default_budget
