"""Seeded variation of task start, health check and draining times (off unless a seed is given).

Without it every deployment of the same service takes exactly the same sandbox time, so a
poller whose fixed interval happens to line up with that duration looks better than it is.
With a seed, each of these moments is drawn from a range AWS's documentation gives (or, where
AWS names no figure, a stated choice), from one `random.Random(seed)`: the same seed and the
same sequence of calls give the same timings, another seed others.

- ENI attachment (PROVISIONING) of an awsvpc task: "an overhead of several seconds"
  (Amazon ECS Developer Guide, "Optimize Amazon ECS task launch time",
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-recommendations.html):
  1 to 5 s.
- Image pull and container start (PENDING): AWS gives no figure, only that it grows with the
  image size and distance ("Linux containers on Fargate container image pull behavior",
  .../developerguide/fargate-pull-behavior.html); the image behaviour's `startDelay` times a
  factor from 0.5 to 2 (a choice, recorded with the seed).
- Health checks: a load balancer checks each target every `HealthCheckIntervalSeconds` and
  changes its state after `HealthyThresholdCount` / `UnhealthyThresholdCount` consecutive
  results ("Health checks for Application Load Balancer target groups",
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html);
  ECS runs a container's check every `interval` ("HealthCheck", Amazon ECS API Reference,
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_HealthCheck.html). When the
  first check comes after registration or start is not documented, so it comes anywhere in
  the first interval: a new target is healthy at its first passing check, a later change takes
  between (threshold - 1) and threshold intervals.
- Draining: a deregistering target stays `draining` for at most the deregistration delay
  (0-3600 s, default 300 s); "if a deregistering target has no in-flight requests and no active
  connections, Elastic Load Balancing immediately completes the deregistration process"
  ("Edit target group attributes", Deregistration delay,
  https://docs.aws.amazon.com/elasticloadbalancing/latest/application/edit-target-group-attributes.html):
  anywhere from 0 to the delay.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class JitterRanges:
    provision_seconds: tuple[float, float] = (1.0, 5.0)
    pull_factor: tuple[float, float] = (0.5, 2.0)
    first_check_share: tuple[float, float] = (0.0, 1.0)  # of one health check interval
    drain_share: tuple[float, float] = (0.0, 1.0)  # of the deregistration delay


class TimingJitter:
    def __init__(self, seed: int, ranges: JitterRanges | None = None) -> None:
        self.seed = seed
        self.ranges = ranges or JitterRanges()
        self._random = random.Random(seed)

    def provision(self) -> float:
        """Sandbox seconds an awsvpc task spends attaching its ENI."""
        return self._random.uniform(*self.ranges.provision_seconds)

    def pull(self, start_delay: float) -> float:
        """Sandbox seconds from PENDING to RUNNING for an image whose behaviour says `start_delay`."""
        return start_delay * self._random.uniform(*self.ranges.pull_factor)

    def first_check(self, interval: float) -> float:
        """Seconds from registration (or container start) to the first health check, in (0, interval]."""
        low, high = self.ranges.first_check_share
        return max(interval * self._random.uniform(low, high), 1e-3)

    def drain(self, delay: float) -> float:
        """Seconds a deregistered target stays `draining` under a deregistration delay of `delay`."""
        return delay * self._random.uniform(*self.ranges.drain_share)

    def describe(self) -> dict[str, Any]:
        """The seed and ranges, for whoever records results measured with them."""
        return {"seed": self.seed, "ranges": {k: list(v) for k, v in asdict(self.ranges).items()}}

    def fresh(self) -> TimingJitter:
        """The same seed and ranges from the start (a reset sandbox)."""
        return TimingJitter(self.seed, self.ranges)
