"""Fault injection through the admin API: what a tool under test sees."""

from __future__ import annotations

import botocore.exceptions
import pytest
from botocore.config import Config

from corral.sandbox import Sandbox
from corral.sandbox.client import SandboxAdminError

NO_RETRIES = Config(retries={"total_max_attempts": 1})


def test_throttle_storm_answers_throttling_exception(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("throttle", operation="GetCallerIdentity", count=2)
    sts = sandbox.client("sts", config=NO_RETRIES)
    for _ in range(2):
        with pytest.raises(botocore.exceptions.ClientError) as raised:
            sts.get_caller_identity()
        assert raised.value.response["Error"]["Code"] == "ThrottlingException"
        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert sts.get_caller_identity()["Account"] == "123456789012", "the storm ends after `count` calls"


def test_server_errors_are_retried_by_boto3_when_retries_are_on(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("error", service="ec2", operation="Describe*", status=503, count=1)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        sandbox.client("ec2", config=NO_RETRIES).describe_vpcs()
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    sandbox.admin.add_fault("error", service="ec2", operation="DescribeVpcs", status=500, count=1)
    assert sandbox.client("ec2").describe_vpcs()["Vpcs"], "a default client retries past one 500"
    outcomes = [c["outcome"] for c in sandbox.admin.calls() if c["operation"] == "DescribeVpcs"]
    assert outcomes == ["InternalFailure", "InternalFailure", "ok"]


def test_dropped_connection_reaches_the_client_as_a_connection_error(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("drop", operation="GetCallerIdentity", count=1)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        sandbox.client("sts", config=NO_RETRIES).get_caller_identity()
    assert [c["outcome"] for c in sandbox.admin.calls()] == ["dropped"]


def test_added_latency_is_recorded_in_the_call_log(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("latency", operation="GetCallerIdentity", latency_ms=150)
    sandbox.client("sts").get_caller_identity()
    (call,) = sandbox.admin.calls()
    assert call["duration_ms"] >= 150


def test_faults_can_be_listed_and_removed(sandbox: Sandbox) -> None:
    fault = sandbox.admin.add_fault("throttle", operation="Describe*", rate=0.5)
    assert [f["id"] for f in sandbox.admin.faults()] == [fault["id"]]
    sandbox.admin.clear_faults(fault["id"])
    assert sandbox.admin.faults() == []
    with pytest.raises(SandboxAdminError, match="fault kind must be one of"):
        sandbox.admin.add_fault("explode")


def test_drop_after_makes_the_change_but_loses_the_answer(sandbox: Sandbox) -> None:
    sandbox.admin.add_fault("drop_after", operation="CreateCluster", count=1)
    ecs = sandbox.client("ecs", config=NO_RETRIES)
    with pytest.raises(botocore.exceptions.ConnectionClosedError):
        ecs.create_cluster(clusterName="made-anyway")
    assert ecs.describe_clusters(clusters=["made-anyway"])["clusters"][0]["status"] == "ACTIVE"
    assert [c["outcome"] for c in sandbox.admin.calls()] == ["dropped", "ok"]
