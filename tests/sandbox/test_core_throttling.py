"""ECS API throttling: buckets are separate and can be turned off. Their sizes and refill rates are
checked against AWS's table in test_aws_throttling.py."""

from __future__ import annotations

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
