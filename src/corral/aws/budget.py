"""Client-side rate budget for the ECS API, and a per-process count of AWS calls.

ECS throttles each account and Region with one token bucket per group of actions
(`corral.aws.ecs_limits`; e.g. DescribeServices and ListServices share "service read": 100 burst,
20 per second). A throttled call costs a round trip and a back-off, and the buckets are shared
by *every* caller in the account, so Corral keeps itself under them instead of relying on retries:

- one `TokenBucket` per (scope, Region, ECS bucket), shared by every client in the process; the
  scope is the account id, or the endpoint URL when one is set (the sandbox, a test endpoint);
- refill at `refill_share` of the ECS rate (default 80%) and burst at `burst_share` of the ECS
  burst (default 50%). Other tools in the account draw from the same buckets (the console,
  Terraform, CI jobs, Application Auto Scaling, other Corral processes): leaving a fifth of the
  refill and half of the burst to them keeps Corral from starving them, and keeps Corral's own
  calls from being throttled when the server-side bucket is already partly drained.

`RateBudget.install(client, ...)` hooks the budget into an ECS client through botocore's
`before-send.ecs` event, i.e. once per HTTP attempt, retries included. The calling thread blocks
until its token is due. Tokens are *reserved* in arrival order (the bucket may go negative, each
caller sleeping until its slot), which is fair and needs no polling. If the token would come
after the current call scope's deadline (`corral.aws.retry.call_scope`), `BudgetTimeout` is
raised at once; if the scope's abort event is set while waiting, `Aborted` is raised.

`CALLS` counts every HTTP attempt made by Corral's clients, by (service, operation), for tests and
benchmarks.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .ecs_limits import BUCKETS, ECS_OPERATION_BUCKETS
from .retry import Aborted, current_scope

DEFAULT_REFILL_SHARE = 0.8
DEFAULT_BURST_SHARE = 0.5


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


class RateBudget:
    """Token buckets per (scope, Region, ECS bucket) at a share of the ECS rates; thread-safe."""

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
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()

    def bucket_name(self, operation: str) -> str | None:
        """The ECS bucket an operation draws from, or None if ECS does not throttle it by bucket."""
        return self._operation_buckets.get(operation)

    def reserve(self, scope: str, region: str, operation: str, *, deadline: float | None = None) -> float:
        """Reserve a token; return seconds to wait before sending. Raises `BudgetTimeout`."""
        name = self._operation_buckets.get(operation)
        if name is None:
            return 0.0
        with self._lock:
            now = self._clock()
            bucket = self._bucket((scope, region, name), now)
            if deadline is not None and now + bucket.wait_for_next(now) > deadline:
                raise BudgetTimeout(
                    f"no ECS {name} token for {operation} before the deadline "
                    f"(budget {bucket.rate:g}/s, burst {bucket.capacity:g})"
                )
            return bucket.reserve(now)

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
        wait = self.reserve(scope, region, operation, deadline=deadline)
        if wait <= 0:
            return 0.0
        if abort is None:
            time.sleep(wait)
        elif abort.wait(wait):
            self._refund(scope, region, operation)
            raise Aborted(f"aborted while waiting for the ECS rate budget ({operation})")
        return wait

    def install(self, client: Any, *, scope: Callable[[], str], region: str) -> None:
        """Hook the budget into an ECS client: every attempt waits for its token first.

        `scope` is called at send time (it may look up the account id once and cache it).
        """

        def before_send(event_name: str, **_: Any) -> None:
            self.acquire(scope(), region, event_name.rsplit(".", 1)[-1])
            # returning None lets botocore send the request

        client.meta.events.register("before-send.ecs", before_send, unique_id="corral-budget")

    def _bucket(self, key: tuple[str, str, str], now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            burst, rate = self._limits[key[2]]
            capacity = max(1.0, burst * self.burst_share)
            bucket = self._buckets[key] = TokenBucket(capacity, rate * self.refill_share, capacity, now)
        return bucket

    def _refund(self, scope: str, region: str, operation: str) -> None:
        name = self._operation_buckets.get(operation)
        if name is None:
            return
        with self._lock:
            now = self._clock()
            self._bucket((scope, region, name), now).refund(now)


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
    """The process-wide budget every `Clients` uses unless given another."""
    global _default_budget
    with _default_lock:
        if _default_budget is None:
            _default_budget = RateBudget()
        return _default_budget
