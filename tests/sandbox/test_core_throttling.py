"""ECS API throttling: the token buckets of the ECS documentation, refilled in real time."""

from __future__ import annotations

import time

import botocore.exceptions
import pytest
from botocore.config import Config

from corral.sandbox import Sandbox

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def describe(ecs: object) -> str:
    try:
        ecs.describe_services(cluster="default", services=["web"])  # type: ignore[attr-defined]
        return "ok"
    except botocore.exceptions.ClientError as error:
        assert error.response["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert error.response["Error"]["Message"] == "Rate exceeded"
        return error.response["Error"]["Code"]


def test_a_burst_past_the_service_read_bucket_is_throttled_then_refills(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs", config=NO_RETRIES)
    # Call until refused (the bucket refills in real time, so a slow machine needs more calls)
    burst: list[str] = []
    started = time.monotonic()
    while (not burst or burst[-1] == "ok") and time.monotonic() - started < 60:
        burst.append(describe(ecs))
    elapsed = time.monotonic() - started
    assert burst[-1] == "ThrottlingException", f"{len(burst)} calls in {elapsed:.1f} s, none refused"
    # 100 tokens of burst, plus what refilled at 20/s while the burst ran
    assert len(burst) > 100, "the whole burst of 100 goes through"
    assert len(burst) - 1 <= 100 + 20 * elapsed + 1, "no more than burst plus refill"

    started = time.monotonic()
    time.sleep(1.0)
    after = [describe(ecs) for _ in range(60)]
    elapsed = time.monotonic() - started
    succeeded = after.count("ok")
    assert succeeded >= 15, "a second of refill at 20 per second lets calls through again"
    assert succeeded <= 20 * elapsed + 1, "no more than the refill rate allows"


def test_other_buckets_are_separate(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs", config=NO_RETRIES)
    while describe(ecs) == "ok":
        pass
    # DescribeServices is exhausted; ListClusters draws from the cluster read bucket
    assert isinstance(ecs.list_clusters()["clusterArns"], list)


@pytest.mark.sandbox(throttling=False)
def test_no_throttling_flag_turns_the_buckets_off(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs", config=NO_RETRIES)
    assert {describe(ecs) for _ in range(250)} == {"ok"}
    assert sandbox.admin.health()["throttling"] is False
