"""ECS API request throttling: one token bucket per account, Region and bucket.

The buckets and rates are those of the reference (../shared/reference/ecs-control-plane.md
section 8). Refill runs on real time, not sandbox time: `--speed` does not change it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from corral.aws.ecs_limits import BUCKETS, ECS_OPERATION_BUCKETS


@dataclass
class TokenBucket:
    capacity: float
    refill_per_second: float
    tokens: float
    updated: float

    def take(self, now: float) -> bool:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.refill_per_second)
        self.updated = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Throttle:
    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._buckets: dict[tuple[str, str, str], TokenBucket] = {}
        self._lock = threading.Lock()
        self.throttled = 0

    def allow(self, account: str, region: str, service: str, operation: str) -> bool:
        if not self.enabled or service != "ecs":
            return True
        name = ECS_OPERATION_BUCKETS.get(operation)
        if name is None:
            return True
        now = time.monotonic()
        with self._lock:
            key = (account, region, name)
            bucket = self._buckets.get(key)
            if bucket is None:
                burst, rate = BUCKETS[name]
                bucket = self._buckets[key] = TokenBucket(burst, rate, burst, now)
            if bucket.take(now):
                return True
            self.throttled += 1
            return False

    def reset(self) -> None:
        with self._lock:
            self._buckets.clear()
            self.throttled = 0
