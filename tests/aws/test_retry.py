"""Retrying throttling, 5xx and dropped connections within the caller's deadline."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from corral.aws.clients import Clients
from corral.aws.retry import Aborted, RetryPolicy, call_scope, current_scope, is_retryable
from corral.sandbox import Sandbox

from .conftest import make_cluster

QUICK = RetryPolicy(base=0.01, cap=0.05)  # the same back-off law, shorter, so tests stay fast


def outcomes(sandbox: Sandbox, operation: str) -> list[str]:
    return [call["outcome"] for call in sandbox.admin.calls() if call["operation"] == operation]


def test_a_throttle_storm_is_ridden_out(sandbox: Sandbox, clients: Clients) -> None:
    make_cluster(sandbox, "storm")
    sandbox.admin.add_fault("throttle", operation="DescribeServices", count=20)
    with call_scope(deadline=time.monotonic() + 60, policy=QUICK):
        answer = clients.ecs.describe_services(cluster="storm", services=["web"])
    assert answer["failures"][0]["reason"] == "MISSING"
    assert outcomes(sandbox, "DescribeServices") == ["ThrottlingException"] * 20 + ["ok"]


def test_a_throttle_storm_on_many_threads(sandbox: Sandbox, clients: Clients) -> None:
    make_cluster(sandbox, "storm")
    sandbox.admin.add_fault("throttle", operation="DescribeServices", count=20)

    def describe(_: int) -> str:
        with call_scope(deadline=time.monotonic() + 60, policy=QUICK):
            return clients.ecs.describe_services(cluster="storm", services=["web"])["failures"][0]["reason"]

    with ThreadPoolExecutor(max_workers=10) as pool:
        assert list(pool.map(describe, range(10))) == ["MISSING"] * 10
    assert outcomes(sandbox, "DescribeServices").count("ThrottlingException") == 20


def test_default_back_off_without_a_scope(sandbox: Sandbox, clients: Clients) -> None:
    sandbox.admin.add_fault("throttle", operation="GetCallerIdentity", count=3)
    assert clients.sts.get_caller_identity()["Account"] == "123456789012"
    assert outcomes(sandbox, "GetCallerIdentity") == ["ThrottlingException"] * 3 + ["ok"]


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried(sandbox: Sandbox, clients: Clients, status: int) -> None:
    sandbox.admin.add_fault("error", operation="GetCallerIdentity", status=status, count=4)
    with call_scope(policy=QUICK):
        assert clients.sts.get_caller_identity()["Account"] == "123456789012"
    assert outcomes(sandbox, "GetCallerIdentity") == ["InternalFailure"] * 4 + ["ok"]


def test_dropped_connections_are_retried(sandbox: Sandbox, clients: Clients) -> None:
    sandbox.admin.add_fault("drop", operation="GetCallerIdentity", count=3)
    with call_scope(policy=QUICK):
        assert clients.sts.get_caller_identity()["Account"] == "123456789012"
    assert outcomes(sandbox, "GetCallerIdentity") == ["dropped"] * 3 + ["ok"]


def test_the_last_error_surfaces_once_the_deadline_has_passed(sandbox: Sandbox, clients: Clients) -> None:
    clients.sts.get_caller_identity()
    sandbox.admin.add_fault("throttle", operation="GetCallerIdentity")
    with call_scope(deadline=time.monotonic() + 0.5, policy=QUICK), pytest.raises(ClientError) as raised:
        clients.sts.get_caller_identity()
    assert raised.value.response["Error"]["Code"] == "ThrottlingException"
    assert len(outcomes(sandbox, "GetCallerIdentity")) > 2, "it was retried until the deadline"


def test_a_deadline_already_passed_allows_one_attempt(sandbox: Sandbox, clients: Clients) -> None:
    sandbox.admin.add_fault("error", operation="GetCallerIdentity", status=503)
    with call_scope(deadline=time.monotonic() - 1), pytest.raises(ClientError):
        clients.sts.get_caller_identity()
    assert outcomes(sandbox, "GetCallerIdentity") == ["InternalFailure"]


def test_errors_that_are_not_transient_surface_at_once(sandbox: Sandbox, clients: Clients) -> None:
    with pytest.raises(ClientError) as raised:
        clients.logs.describe_log_streams(logGroupName="/ecs/nothing-here")
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert len(outcomes(sandbox, "DescribeLogStreams")) == 1


def test_abort_stops_the_retries(sandbox: Sandbox, clients: Clients) -> None:
    sandbox.admin.add_fault("throttle", operation="GetCallerIdentity")
    stop = threading.Event()
    stop.set()
    with call_scope(abort=stop), pytest.raises(Aborted, match="ThrottlingException"):
        clients.sts.get_caller_identity()
    assert outcomes(sandbox, "GetCallerIdentity") == ["ThrottlingException"]


def test_scopes_nest_without_extending_the_deadline() -> None:
    stop = threading.Event()
    assert current_scope().deadline is None
    with call_scope(deadline=100.0, abort=stop):
        with call_scope(deadline=200.0) as inner:
            assert inner.deadline == 100.0 and inner.abort is stop
        with call_scope(deadline=50.0) as inner:
            assert inner.deadline == 50.0
    assert current_scope().deadline is None


def test_scopes_do_not_leak_into_other_threads() -> None:
    seen: list[float | None] = []
    with call_scope(deadline=100.0):
        thread = threading.Thread(target=lambda: seen.append(current_scope().deadline))
        thread.start()
        thread.join()
    assert seen == [None]


def _answer(code: str, status: int = 400, message: str = "") -> tuple[None, dict[str, object]]:
    return None, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}


def test_what_counts_as_retryable() -> None:
    assert is_retryable(_answer("ThrottlingException", message="Rate exceeded"))
    assert is_retryable(_answer("Throttling"))  # ELBv2's spelling
    assert is_retryable(_answer("RequestLimitExceeded"))  # EC2's
    assert is_retryable(_answer("SomethingNew", message="Rate exceeded"))
    assert is_retryable(_answer("ServerException", 500))
    assert is_retryable(_answer("Anything", 503))
    assert not is_retryable(_answer("LimitExceededException")), "an ECS quota is not transient"
    assert not is_retryable(_answer("InvalidParameterException"))
    assert not is_retryable(_answer("ClusterNotFoundException"))
    assert not is_retryable((None, {"ResponseMetadata": {"HTTPStatusCode": 200}}))


def test_full_jitter_stays_under_the_capped_exponential() -> None:
    policy = RetryPolicy()
    for attempt, ceiling in [(1, 0.2), (2, 0.4), (3, 0.8), (5, 3.2), (6, 5.0), (40, 5.0)]:
        draws = [policy.delay(attempt) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in draws)
        assert max(draws) > ceiling / 2, "the draws spread over the whole range"
