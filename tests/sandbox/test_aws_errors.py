"""The sandbox's errors for the ECS calls Corral makes, against the API Reference's Errors sections,
"API failure reasons" and the throttling page (aws_fixtures/api_errors.yaml): the code is one the
operation documents, with its HTTP status; a missing resource of a Describe call is a `failures`
entry with reason MISSING, not an error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest
from botocore.config import Config

from corral.sandbox import Sandbox

from .aws_fixture_data import entry
from .helpers import wait_until
from .test_ecs_support import describe, fargate_definition, fargate_service

NO_RETRIES = Config(retries={"total_max_attempts": 1})
ARN = "arn:aws:ecs:us-east-1:123456789012"


@pytest.fixture
def ecs(sandbox: Sandbox) -> Any:
    client = sandbox.client("ecs", config=NO_RETRIES)
    client.create_cluster(clusterName="apps")
    return client


def error(call: Callable[[], object]) -> tuple[str, int]:
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def documented(entry_id: str) -> dict[str, int]:
    return dict(entry("api_errors", entry_id)["errors"])


def test_describe_services_answers_its_documented_errors(ecs: Any) -> None:
    errors = documented("describe-services-errors")
    code, status = error(lambda: ecs.describe_services(cluster="missing", services=["web"]))
    assert (code, status) == ("ClusterNotFoundException", errors["ClusterNotFoundException"])
    code, status = error(lambda: ecs.describe_services(cluster="apps", services=[f"s{i}" for i in range(11)]))
    assert (code, status) == ("InvalidParameterException", errors["InvalidParameterException"])


def test_delete_service_answers_its_documented_errors(ecs: Any) -> None:
    errors = documented("delete-service-errors")
    code, status = error(lambda: ecs.delete_service(cluster="apps", service="missing"))
    assert (code, status) == ("ServiceNotFoundException", errors["ServiceNotFoundException"])
    code, status = error(lambda: ecs.delete_service(cluster="missing", service="web"))
    assert (code, status) == ("ClusterNotFoundException", errors["ClusterNotFoundException"])
    fargate_service(ecs, "apps", "web", fargate_definition(ecs, "web", "web:1"), 1)
    # "If the service is actively maintaining tasks, you can't delete it" (without force)
    code, status = error(lambda: ecs.delete_service(cluster="apps", service="web"))
    assert (code, status) == ("InvalidParameterException", errors["InvalidParameterException"])


def test_update_service_answers_the_documented_service_errors(ecs: Any) -> None:
    errors = documented("service-error-codes")
    code, status = error(lambda: ecs.update_service(cluster="apps", service="missing", desiredCount=1))
    assert (code, status) == ("ServiceNotFoundException", errors["ServiceNotFoundException"])
    fargate_service(ecs, "apps", "web", fargate_definition(ecs, "web", "web:1"), 0)
    ecs.delete_service(cluster="apps", service="web")
    wait_until(lambda: describe(ecs, "apps", "web")["status"] == "INACTIVE", message="web INACTIVE")
    code, status = error(lambda: ecs.update_service(cluster="apps", service="web", desiredCount=1))
    assert (code, status) == ("ServiceNotActiveException", errors["ServiceNotActiveException"])


@pytest.mark.parametrize(
    ("entry_id", "call", "arn"),
    [
        (
            "describe-clusters-missing",
            lambda ecs: ecs.describe_clusters(clusters=["gone"]),
            f"{ARN}:cluster/gone",
        ),
        (
            "describe-services-missing",
            lambda ecs: ecs.describe_services(cluster="apps", services=["gone"]),
            f"{ARN}:service/apps/gone",
        ),
        (
            "describe-tasks-missing",
            lambda ecs: ecs.describe_tasks(cluster="apps", tasks=["0123456789abcdef0123456789abcdef"]),
            f"{ARN}:task/apps/0123456789abcdef0123456789abcdef",
        ),
        (
            "describe-service-deployments-missing",
            lambda ecs: ecs.describe_service_deployments(
                serviceDeploymentArns=[f"{ARN}:service-deployment/apps/web/0123456789"]
            ),
            f"{ARN}:service-deployment/apps/web/0123456789",
        ),
    ],
    ids=["DescribeClusters", "DescribeServices", "DescribeTasks", "DescribeServiceDeployments"],
)
def test_a_missing_resource_is_a_failure_with_the_documented_reason(
    ecs: Any, entry_id: str, call: Callable[[Any], dict[str, Any]], arn: str
) -> None:
    answer = call(ecs)
    assert answer["failures"] == [{"arn": arn, "reason": entry("api_errors", entry_id)["reason"]}]


@pytest.mark.sandbox(throttling=True)
def test_a_throttled_call_has_the_documented_code_status_and_message(sandbox: Sandbox) -> None:
    throttled = entry("api_errors", "throttled")
    ecs = sandbox.client("ecs", config=NO_RETRIES)
    for _ in range(200):
        try:
            ecs.list_services(cluster="default")
        except botocore.exceptions.ClientError as caught:
            response = caught.response
            break
    else:
        raise AssertionError("200 ListServices calls and none throttled")
    assert (response["Error"]["Code"], response["Error"]["Message"]) == (
        throttled["code"],
        throttled["message"],
    )
    assert response["ResponseMetadata"]["HTTPStatusCode"] == throttled["status"]
