"""The rate budget adapts to throttling: a throttled bucket is empty, repeated throttling lowers
its refill share (down to a floor), successful calls raise it back to the configured share."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from corral.aws.budget import (
    DECREASE,
    MIN_REFILL_SHARE,
    RECOVERY_PER_SECOND,
    REPEAT_WINDOW,
    RateBudget,
)
from corral.aws.clients import Clients
from corral.aws.ecs_limits import BUCKETS
from corral.aws.retry import Aborted
from corral.errors import ConfigError
from corral.sandbox import Sandbox

from .conftest import make_cluster

READ_RATE = BUCKETS["service-read"][1]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def share(budget: RateBudget) -> float:
    return budget.refill_share_now("acct", "r", "DescribeServices")


def test_after_a_throttle_the_next_call_waits_one_refill_interval() -> None:
    budget = RateBudget(clock=FakeClock())
    assert budget.reserve("acct", "r", "DescribeServices") == 0.0, "a full bucket"
    budget.throttled("acct", "r", "DescribeServices")
    assert budget.reserve("acct", "r", "ListServices") == pytest.approx(1 / READ_RATE), "same bucket"
    assert budget.reserve("acct", "r", "ListServices") == pytest.approx(2 / READ_RATE)
    assert share(budget) == 1.0, "one throttle only empties the bucket"
    assert budget.reserve("acct", "r", "UpdateService") == 0.0, "other buckets are untouched"


def test_repeated_throttles_lower_the_rate_down_to_the_floor() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    budget.throttled("acct", "r", "DescribeServices")
    clock.now += 1
    budget.throttled("acct", "r", "DescribeServices")
    assert share(budget) == pytest.approx(DECREASE)
    assert budget.reserve("acct", "r", "DescribeServices") == pytest.approx(1 / (READ_RATE * DECREASE))
    for _ in range(20):
        clock.now += 1
        budget.throttled("acct", "r", "DescribeServices")
    assert share(budget) == pytest.approx(MIN_REFILL_SHARE)


def test_throttles_far_apart_do_not_lower_the_rate() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    for _ in range(3):
        budget.throttled("acct", "r", "DescribeServices")
        clock.now += REPEAT_WINDOW + 1
    assert share(budget) == 1.0


def test_calls_queued_before_a_throttle_lower_the_rate_once() -> None:
    """20 threads throttled at once are one event: they reserved before the first answer came."""
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    budget.throttled("acct", "r", "DescribeServices")  # the bucket was drained by someone else
    clock.now += 1
    epoch = budget.epoch("acct", "r", "DescribeServices")  # 20 calls reserve their tokens now
    for _ in range(20):
        budget.throttled("acct", "r", "DescribeServices", epoch=epoch)
    assert share(budget) == pytest.approx(DECREASE)
    budget.throttled("acct", "r", "DescribeServices", epoch=epoch - 1)
    assert share(budget) == pytest.approx(DECREASE), "older still: only empties the bucket"


def test_successful_calls_restore_the_rate_up_to_the_configured_share() -> None:
    clock = FakeClock()
    budget = RateBudget(refill_share=0.9, clock=clock)
    budget.throttled("acct", "r", "DescribeServices")
    budget.throttled("acct", "r", "DescribeServices")
    lowered = 0.9 * DECREASE
    assert share(budget) == pytest.approx(lowered)
    clock.now += 2
    budget.succeeded("acct", "r", "DescribeServices")
    assert share(budget) == pytest.approx(lowered + 2 * RECOVERY_PER_SECOND)
    clock.now += 0.5
    budget.succeeded("acct", "r", "DescribeServices")
    assert share(budget) == pytest.approx(lowered + 2.5 * RECOVERY_PER_SECOND)
    clock.now += 60
    budget.succeeded("acct", "r", "DescribeServices")
    assert share(budget) == 0.9, "never above the configured share"
    clock.now += 60
    waits = [budget.reserve("acct", "r", "DescribeServices") for _ in range(101)]
    assert waits[-1] == pytest.approx(1 / (READ_RATE * 0.9))


def test_shares_from_the_environment() -> None:
    budget = RateBudget.from_environment({"CORRAL_ECS_RATE_SHARE": "0.5", "CORRAL_ECS_BURST_SHARE": "0.25"})
    assert (budget.refill_share, budget.burst_share) == (0.5, 0.25)
    assert (RateBudget.from_environment({}).refill_share, RateBudget.from_environment({}).burst_share) == (
        1.0,
        1.0,
    )
    for bad in ("0", "1.5", "half", "nan"):
        with pytest.raises(ConfigError, match=r"CORRAL_ECS_RATE_SHARE.*expected a number in \(0, 1\]"):
            RateBudget.from_environment({"CORRAL_ECS_RATE_SHARE": bad})


def test_ecs_throttling_answers_reach_the_budget(sandbox: Sandbox, clients: Clients) -> None:
    """Through a real client: two throttles in a row lower the bucket's share, the retry then succeeds."""
    make_cluster(sandbox, "adapt")
    scope = clients.account_key()
    sandbox.admin.add_fault("throttle", operation="DescribeServices", count=2)
    answer = clients.ecs.describe_services(cluster="adapt", services=["web"])
    assert answer["failures"][0]["reason"] == "MISSING", "no throttling error reached the caller"
    lowered = clients.budget.refill_share_now(scope, clients.region, "DescribeServices")
    assert DECREASE <= lowered < 1.0
    assert clients.budget.refill_share_now(scope, clients.region, "UpdateService") == 1.0


def test_an_aborted_wait_after_a_throttle_leaves_no_attempt_behind() -> None:
    budget = RateBudget(clock=FakeClock())
    budget.throttled("acct", "r", "DescribeServices")
    aborted = threading.Event()
    aborted.set()
    with pytest.raises(Aborted):
        budget.acquire("acct", "r", "DescribeServices", abort=aborted)
    assert budget.reserve("acct", "r", "DescribeServices") == pytest.approx(1 / READ_RATE)


def test_a_fleet_of_task_definitions_registered_at_once_sees_no_throttling_error(
    sandbox: Sandbox, clients: Clients
) -> None:
    """25 RegisterTaskDefinition at once: 5 more than ECS's burst of 20, at its 1 per second."""
    sandbox.admin.clear_calls()

    def register(number: int) -> str:
        definition = clients.ecs.register_task_definition(
            family=f"fleet-{number}",
            containerDefinitions=[{"name": "app", "image": "app:1", "memory": 32, "essential": True}],
        )["taskDefinition"]
        return str(definition["status"])

    with ThreadPoolExecutor(max_workers=25) as pool:
        assert list(pool.map(register, range(25))) == ["ACTIVE"] * 25
    outcomes = [c["outcome"] for c in sandbox.admin.calls() if c["operation"] == "RegisterTaskDefinition"]
    assert outcomes.count("ok") == 25
