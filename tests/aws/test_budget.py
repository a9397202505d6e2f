"""The client-side ECS rate budget: shares of the ECS buckets, reservations, deadlines, counting."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.config import Config

from corral.aws.budget import CALLS, BudgetTimeout, RateBudget
from corral.aws.clients import Clients
from corral.aws.ecs_limits import BUCKETS
from corral.aws.retry import Aborted, call_scope
from corral.sandbox import Sandbox


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_default_budget_is_the_whole_ecs_burst_then_the_whole_refill() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    burst, refill = BUCKETS["service-read"]
    waits = [budget.reserve("acct", "us-east-1", "DescribeServices") for _ in range(int(burst) + 2)]
    assert waits[: int(burst)] == [0.0] * int(burst)
    assert waits[-2:] == pytest.approx([1 / refill, 2 / refill])
    clock.now += 10
    assert budget.reserve("acct", "us-east-1", "ListServices") == 0.0, "the bucket refilled"


def test_buckets_are_per_scope_region_and_ecs_bucket() -> None:
    budget = RateBudget(clock=FakeClock())
    capacity = int(BUCKETS["cluster-modify"][0])
    for _ in range(capacity):
        budget.reserve("acct", "us-east-1", "CreateCluster")
    assert budget.reserve("acct", "us-east-1", "DeleteCluster") > 0, "same bucket, drained"
    assert budget.reserve("acct", "eu-west-1", "CreateCluster") == 0.0
    assert budget.reserve("other", "us-east-1", "CreateCluster") == 0.0
    assert budget.reserve("acct", "us-east-1", "DescribeServices") == 0.0
    assert budget.reserve("acct", "us-east-1", "DescribeCapacityProviders") == 0.0, "not in a bucket"


def test_shares_are_configurable() -> None:
    budget = RateBudget(refill_share=0.5, burst_share=0.1, clock=FakeClock())
    burst, refill = BUCKETS["service-modify"]
    waits = [budget.reserve("acct", "r", "UpdateService") for _ in range(int(burst * 0.1) + 1)]
    assert waits[-1] == pytest.approx(1 / (refill * 0.5))
    with pytest.raises(ValueError):
        RateBudget(refill_share=0)


def test_a_token_due_after_the_deadline_fails_at_once_without_taking_it() -> None:
    clock = FakeClock()
    budget = RateBudget(refill_share=0.8, burst_share=0.5, clock=clock)
    for _ in range(int(BUCKETS["task-definition-modify"][0] * 0.5)):
        budget.reserve("acct", "r", "RegisterTaskDefinition")
    with pytest.raises(BudgetTimeout, match="RegisterTaskDefinition"):
        budget.reserve("acct", "r", "RegisterTaskDefinition", deadline=clock.now + 0.5)
    assert budget.reserve("acct", "r", "RegisterTaskDefinition", deadline=clock.now + 2) == pytest.approx(
        1.25
    )


def test_an_aborted_wait_gives_its_token_back() -> None:
    clock = FakeClock()
    budget = RateBudget(refill_share=0.8, burst_share=0.5, clock=clock)
    for _ in range(int(BUCKETS["cluster-modify"][0] * 0.5)):
        budget.reserve("acct", "r", "CreateCluster")
    aborted = threading.Event()
    aborted.set()
    with pytest.raises(Aborted):
        budget.acquire("acct", "r", "CreateCluster", abort=aborted)
    assert budget.reserve("acct", "r", "CreateCluster") == pytest.approx(1 / 0.8), (
        "the next caller is first in line"
    )


def test_the_call_counter_counts_attempts_by_service_and_operation(clients: Clients) -> None:
    before = CALLS.snapshot()
    clients.sts.get_caller_identity()
    clients.sts.get_caller_identity()
    after = CALLS.snapshot()
    assert after[("sts", "GetCallerIdentity")] - before.get(("sts", "GetCallerIdentity"), 0) == 2


@pytest.mark.slow
def test_a_burst_of_300_describe_services_gets_no_throttling_error_and_few_throttles(
    sandbox: Sandbox, clients: Clients
) -> None:
    clients.ecs.create_cluster(clusterName="burst")
    sandbox.admin.clear_calls()

    def describe(_: int) -> int:
        return len(clients.ecs.describe_services(cluster="burst", services=["web"])["failures"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(describe, range(300)))
    assert answers == [1] * 300, "every call answered (the service does not exist)"
    outcomes = [c["outcome"] for c in sandbox.admin.calls() if c["operation"] == "DescribeServices"]
    assert outcomes.count("ok") == 300
    # the budget takes ECS's whole bucket: a throttle (typically one, when the burst runs out and the
    # latency of the first calls differs from the later ones') empties it, which resynchronises it
    assert outcomes.count("ThrottlingException") <= 20, "at most once per thread, not repeatedly"


def test_without_the_budget_the_same_burst_is_throttled(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs", config=Config(retries={"total_max_attempts": 1}))
    ecs.create_cluster(clusterName="burst")

    def describe(_: int) -> str:
        try:
            ecs.describe_services(cluster="burst", services=["web"])
            return "ok"
        except ecs.exceptions.ClientError as error:
            return str(error.response["Error"]["Code"])

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(describe, range(150)))
    assert "ThrottlingException" in outcomes


def test_the_budget_honours_the_call_scope_deadline() -> None:
    clock = FakeClock()
    budget = RateBudget(clock=clock)
    with call_scope(deadline=clock.now + 0.01):
        for _ in range(int(BUCKETS["cluster-modify"][0])):
            budget.acquire("acct", "r", "CreateCluster")
        with pytest.raises(BudgetTimeout):
            budget.acquire("acct", "r", "CreateCluster")
