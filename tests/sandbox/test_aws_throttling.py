"""ECS API throttling in the sandbox against "Request throttling for the Amazon ECS API"
(aws_fixtures/throttling_buckets.yaml): every category's bucket size, its refill, and which actions
share it, driven through boto3 with retries off.

Each category runs in a Region of its own: the buckets are per account and Region, so every check
starts from a full bucket. Refill runs on real time, so the upper bounds allow for the refill that
came in while the burst ran (burst + refill x elapsed).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import botocore.exceptions
import pytest
from botocore.config import Config

from corral.sandbox import Sandbox

from .aws_fixture_data import entries, entry

NO_RETRIES = Config(retries={"total_max_attempts": 1})
ARN = "arn:aws:ecs:us-east-1:123456789012"

# a cheap call of each action the sandbox serves (most fail for a missing resource: a refused call
# costs a token like any other)
CALLS: dict[str, Callable[[Any, int], object]] = {
    "CreateCluster": lambda ecs, i: ecs.create_cluster(clusterName=f"throttle-{i}"),
    "DeleteCluster": lambda ecs, i: ecs.delete_cluster(cluster="missing"),
    "UpdateCluster": lambda ecs, i: ecs.update_cluster(
        cluster="missing", settings=[{"name": "containerInsights", "value": "enabled"}]
    ),
    "UpdateClusterSettings": lambda ecs, i: ecs.update_cluster_settings(
        cluster="missing", settings=[{"name": "containerInsights", "value": "enabled"}]
    ),
    "PutClusterCapacityProviders": lambda ecs, i: ecs.put_cluster_capacity_providers(
        cluster="missing", capacityProviders=[], defaultCapacityProviderStrategy=[]
    ),
    "DescribeClusters": lambda ecs, i: ecs.describe_clusters(clusters=["missing"]),
    "ListClusters": lambda ecs, i: ecs.list_clusters(),
    "RegisterTaskDefinition": lambda ecs, i: ecs.register_task_definition(
        family="throttle", containerDefinitions=[{"name": "app", "image": "app:1", "memory": 128}]
    ),
    "DeregisterTaskDefinition": lambda ecs, i: ecs.deregister_task_definition(taskDefinition="missing:1"),
    "DescribeTaskDefinition": lambda ecs, i: ecs.describe_task_definition(taskDefinition="missing:1"),
    "ListTaskDefinitions": lambda ecs, i: ecs.list_task_definitions(),
    "ListTaskDefinitionFamilies": lambda ecs, i: ecs.list_task_definition_families(),
    "TagResource": lambda ecs, i: ecs.tag_resource(
        resourceArn=f"{ARN}:cluster/missing", tags=[{"key": "k", "value": "v"}]
    ),
    "UntagResource": lambda ecs, i: ecs.untag_resource(resourceArn=f"{ARN}:cluster/missing", tagKeys=["k"]),
    "ListTagsForResource": lambda ecs, i: ecs.list_tags_for_resource(resourceArn=f"{ARN}:cluster/missing"),
    "RunTask": lambda ecs, i: ecs.run_task(cluster="missing", taskDefinition="missing:1"),
    "StopTask": lambda ecs, i: ecs.stop_task(cluster="missing", task="0123456789abcdef"),
    "DescribeTasks": lambda ecs, i: ecs.describe_tasks(cluster="missing", tasks=["0123456789abcdef"]),
    "ListTasks": lambda ecs, i: ecs.list_tasks(cluster="missing"),
    "DescribeContainerInstances": lambda ecs, i: ecs.describe_container_instances(
        cluster="missing", containerInstances=["0123456789abcdef"]
    ),
    "ListContainerInstances": lambda ecs, i: ecs.list_container_instances(cluster="missing"),
    "CreateService": lambda ecs, i: ecs.create_service(
        cluster="missing", serviceName="web", taskDefinition="missing:1"
    ),
    "UpdateService": lambda ecs, i: ecs.update_service(cluster="missing", service="web", desiredCount=1),
    "DeleteService": lambda ecs, i: ecs.delete_service(cluster="missing", service="web"),
    "DescribeServices": lambda ecs, i: ecs.describe_services(cluster="missing", services=["web"]),
    "ListServices": lambda ecs, i: ecs.list_services(cluster="missing"),
    "DescribeServiceDeployments": lambda ecs, i: ecs.describe_service_deployments(
        serviceDeploymentArns=[f"{ARN}:service-deployment/missing/web/0123456789"]
    ),
    "ListServiceDeployments": lambda ecs, i: ecs.list_service_deployments(cluster="missing", service="web"),
    "DescribeServiceRevisions": lambda ecs, i: ecs.describe_service_revisions(
        serviceRevisionArns=[f"{ARN}:service-revision/missing/web/0123456789"]
    ),
}

CATEGORIES = [e for e in entries("throttling_buckets") if "actions" in e]
SERVED = [e for e in CATEGORIES if any(a in CALLS for a in e["actions"])]
REGIONS = [
    "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
    "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-southeast-1", "ap-southeast-2",
    "ca-central-1", "sa-east-1",
]  # fmt: skip


def outcome(call: Callable[[Any, int], object], ecs: Any, i: int) -> str:
    try:
        call(ecs, i)
        return "ok"
    except botocore.exceptions.ClientError as error:
        return str(error.response["Error"]["Code"])


def until_throttled(ecs: Any, action: str, limit: int) -> int:
    """Call `action` until it is throttled; the number of calls that went through."""
    for i in range(limit):
        if outcome(CALLS[action], ecs, i) == "ThrottlingException":
            return i
    raise AssertionError(f"{action}: {limit} calls and none throttled")


def test_every_action_the_sandbox_serves_is_in_its_documented_category() -> None:
    documented = {action for category in CATEGORIES for action in category["actions"]}
    # served, and throttled by AWS's table: every one of them must be exercised below
    assert set(CALLS) <= documented, sorted(set(CALLS) - documented)


@pytest.mark.sandbox(throttling=True)
@pytest.mark.parametrize("category", SERVED, ids=[e["id"] for e in SERVED])
def test_each_category_has_its_documented_bucket(sandbox: Sandbox, category: dict[str, Any]) -> None:
    burst, refill = category["burst"], category["refill"]
    served = [a for a in category["actions"] if a in CALLS]
    ecs = sandbox.client("ecs", region_name=REGIONS[SERVED.index(category)], config=NO_RETRIES)

    started = time.monotonic()
    passed = until_throttled(ecs, served[0], limit=burst * 3 + 50)
    elapsed = time.monotonic() - started
    assert passed >= burst, f"{served[0]}: the whole burst of {burst} goes through, got {passed}"
    assert passed <= burst + refill * elapsed + 1, f"{served[0]}: {passed} calls in {elapsed:.2f}s"

    # the other actions of the category draw from the same, now empty, bucket
    for action in served[1:]:
        since = time.monotonic()
        more = until_throttled(ecs, action, limit=burst)
        assert more <= refill * (time.monotonic() - since) + 1, f"{action} has a bucket of its own"


@pytest.mark.sandbox(throttling=True)
def test_an_empty_bucket_refills_at_the_documented_rate(sandbox: Sandbox) -> None:
    category = entry("throttling_buckets", "cluster-read")
    ecs = sandbox.client("ecs", region_name="af-south-1", config=NO_RETRIES)
    until_throttled(ecs, "ListClusters", limit=category["burst"] * 3)
    emptied = time.monotonic()
    time.sleep(0.5)
    passed = until_throttled(ecs, "DescribeClusters", limit=category["burst"] * 2)
    elapsed = time.monotonic() - emptied
    assert passed >= int(category["refill"] * 0.5), "half a second of refill lets calls through"
    assert passed <= category["refill"] * elapsed + 1, f"{passed} calls after {elapsed:.2f}s"


@pytest.mark.sandbox(throttling=True)
def test_a_throttled_call_is_answered_as_documented(sandbox: Sandbox) -> None:
    documented = entry("throttling_buckets", "throttled-error")
    ecs = sandbox.client("ecs", region_name="me-south-1", config=NO_RETRIES)
    until_throttled(ecs, "DescribeClusters", limit=200)
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        for _ in range(100):  # the next call, unless a token refilled meanwhile
            ecs.describe_clusters(clusters=["missing"])
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert (error["Error"]["Code"], error["Error"]["Message"]) == (documented["code"], documented["message"])
