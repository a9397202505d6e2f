"""The sandbox's errors as boto3 sees them, against boto3's "Retries" guide
(aws_fixtures/sdk_retries.yaml): throttling and server errors are retried up to the mode's attempts,
client errors are not. The sandbox's answers decide this (code and HTTP status), so an answer AWS
would not give shows up as a different number of calls in the sandbox's call log."""

from __future__ import annotations

import re
from typing import Any

import botocore.exceptions
import pytest
from botocore.config import Config

from corral.sandbox import Sandbox

from .aws_fixture_data import entry


def calls_of(sandbox: Sandbox, operation: str) -> list[str]:
    return [c["outcome"] for c in sandbox.admin.calls() if c["operation"] == operation]


def failed(call: Any) -> dict[str, Any]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    return caught.value.response | {"text": str(caught.value)}


@pytest.mark.sandbox(throttling=True)
def test_a_throttled_call_is_tried_the_documented_number_of_times(sandbox: Sandbox) -> None:
    standard = entry("sdk_retries", "standard")
    documented = entry("throttling_buckets", "throttled-error")
    assert "ThrottlingException" in standard["retried_codes"]
    sandbox.admin.add_fault("throttle", service="ecs", operation="DescribeClusters", count=10)
    ecs = sandbox.client("ecs", config=Config(retries={"mode": "standard"}))  # its default attempts

    error = failed(lambda: ecs.describe_clusters(clusters=["default"]))

    attempts = standard["max_attempts"]
    assert calls_of(sandbox, "DescribeClusters") == ["ThrottlingException"] * attempts
    # the throttling page's example of the same failure (legacy mode: 4 retries), with this mode's
    # retries; the page ends the sentence with a full stop the SDK's message does not have
    example = re.sub(r"max retries: \d+", f"max retries: {attempts - 1}", documented["cli_example"])
    assert error["text"] == example.removesuffix(".")


@pytest.mark.sandbox(throttling=True)
def test_a_server_error_is_retried(sandbox: Sandbox) -> None:
    standard = entry("sdk_retries", "standard")
    assert 503 in standard["retried_statuses"]
    sandbox.admin.add_fault("error", service="ecs", operation="ListClusters", status=503, count=1)
    # two attempts are enough to see the retry (each further one waits up to twice as long)
    ecs = sandbox.client("ecs", config=Config(retries={"mode": "standard", "total_max_attempts": 2}))
    assert ecs.list_clusters()["clusterArns"] == []
    assert calls_of(sandbox, "ListClusters") == ["InternalFailure", "ok"]


@pytest.mark.sandbox(throttling=True)
@pytest.mark.parametrize("mode", ["legacy", "standard"])
def test_a_client_error_is_not_retried(sandbox: Sandbox, mode: str) -> None:
    retried = entry("sdk_retries", mode)["retried_codes"]
    ecs = sandbox.client("ecs", config=Config(retries={"mode": mode}))
    error = failed(lambda: ecs.update_service(cluster="missing", service="web", desiredCount=1))
    assert error["Error"]["Code"] == "ClusterNotFoundException" not in retried
    assert error["ResponseMetadata"]["HTTPStatusCode"] not in entry("sdk_retries", mode)["retried_statuses"]
    assert calls_of(sandbox, "UpdateService") == ["ClusterNotFoundException"]
