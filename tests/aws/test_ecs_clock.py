"""The endpoint's clock learned from `Date`: a forecast moment is never placed after it comes."""

from __future__ import annotations

import random
from email.utils import formatdate

import pytest

from corral.aws.ecs_clock import EcsClock, header_time


class Endpoint:
    """An endpoint whose clock reads `origin + rate * local`; answers take `rtt` local seconds."""

    def __init__(self, rate: float, origin: float, rtt: float, seed: int) -> None:
        self.rate, self.origin, self.rtt = rate, origin, rtt
        self.random = random.Random(seed)

    def clock_at(self, local: float) -> float:
        return self.origin + self.rate * local

    def ask(self, clock: EcsClock, sent: float) -> None:
        served = sent + self.random.uniform(0, self.rtt)  # when the endpoint stamped its answer
        clock.observe(sent, sent + self.rtt, formatdate(self.clock_at(served), usegmt=True))


@pytest.mark.parametrize("rate", [1.0, 2.0, 4.0, 20.0, 200.0])
def test_a_moment_is_never_placed_later_than_the_endpoint_reaches_it(rate: float) -> None:
    endpoint = Endpoint(rate, origin=1_800_000_000.3, rtt=0.02, seed=int(rate))
    clock = EcsClock()
    local = 0.0
    for _ in range(40):
        endpoint.ask(clock, local)
        local += endpoint.random.uniform(0.05, 3.0) / rate**0.5
        bounds = clock.rate_bounds()
        if bounds is None:
            continue
        assert bounds[0] <= rate <= bounds[1]
        for ahead in (0.5, 5.0, 40.0, 300.0):  # endpoint seconds after its clock now
            target = endpoint.clock_at(local) + ahead
            true_local = (target - endpoint.origin) / rate
            placed = clock.earliest_local(target)
            assert placed is not None and placed <= true_local


def test_the_estimate_tightens_as_answers_span_more_time() -> None:
    endpoint = Endpoint(2.0, origin=1_800_000_000.0, rtt=0.01, seed=1)
    clock = EcsClock()
    endpoint.ask(clock, 0.0)
    assert clock.rate_bounds() is None, "a single answer says nothing about the rate"
    endpoint.ask(clock, 2.0)
    low, high = clock.rate_bounds() or (0.0, 0.0)
    endpoint.ask(clock, 30.0)
    tighter = clock.rate_bounds() or (0.0, 0.0)
    assert tighter[1] - tighter[0] < (high - low) / 5 and tighter[0] <= 2.0 <= tighter[1]


def test_a_clock_that_goes_back_starts_the_estimate_over() -> None:
    clock = EcsClock()
    clock.observe(0.0, 0.01, formatdate(1_800_000_100, usegmt=True))
    clock.observe(5.0, 5.01, formatdate(1_800_000_105, usegmt=True))
    clock.observe(6.0, 6.01, formatdate(1_800_000_000, usegmt=True))  # e.g. a restarted sandbox
    assert clock.rate_bounds() is None and clock.now_at_least() == 1_800_000_000


def test_answers_without_a_readable_date_are_ignored() -> None:
    clock = EcsClock()
    clock.observe(0.0, 0.01, None)
    clock.observe(1.0, 1.01, "not a date")
    assert clock.now_at_least() is None and clock.earliest_local(1_800_000_000) is None
    assert header_time("Tue, 15 Nov 1994 08:12:31 GMT") == 784887151
