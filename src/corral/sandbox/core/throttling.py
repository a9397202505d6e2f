"""ECS API request throttling: one token bucket per account, Region and bucket.

The buckets and rates are those of the reference (../shared/reference/ecs-control-plane.md
section 8). Refill runs on real time, not sandbox time: `--speed` does not change it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

# bucket -> (burst, refill per second)
BUCKETS: dict[str, tuple[float, float]] = {
    "service-read": (100, 20),
    "service-modify": (50, 5),
    "task-definition-modify": (20, 1),
    "task-definition-read": (50, 20),
    "cluster-resource-read": (100, 20),
    "cluster-resource-modify": (100, 40),
    "cluster-read": (50, 20),
    "cluster-modify": (20, 1),
    "tag-modify": (20, 10),
    "tag-read": (50, 20),
    "service-deployments": (50, 20),
}

ECS_OPERATION_BUCKETS: dict[str, str] = {
    "DescribeServices": "service-read",
    "ListServices": "service-read",
    "CreateService": "service-modify",
    "UpdateService": "service-modify",
    "DeleteService": "service-modify",
    "RegisterTaskDefinition": "task-definition-modify",
    "DeregisterTaskDefinition": "task-definition-modify",
    "DescribeTaskDefinition": "task-definition-read",
    "ListTaskDefinitions": "task-definition-read",
    "ListTaskDefinitionFamilies": "task-definition-read",
    "DescribeTasks": "cluster-resource-read",
    "ListTasks": "cluster-resource-read",
    "DescribeContainerInstances": "cluster-resource-read",
    "ListContainerInstances": "cluster-resource-read",
    "RunTask": "cluster-resource-modify",
    "StartTask": "cluster-resource-modify",
    "StopTask": "cluster-resource-modify",
    "DescribeClusters": "cluster-read",
    "ListClusters": "cluster-read",
    "CreateCluster": "cluster-modify",
    "DeleteCluster": "cluster-modify",
    "UpdateCluster": "cluster-modify",
    "TagResource": "tag-modify",
    "UntagResource": "tag-modify",
    "ListTagsForResource": "tag-read",
    "DescribeServiceDeployments": "service-deployments",
    "ListServiceDeployments": "service-deployments",
}


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
