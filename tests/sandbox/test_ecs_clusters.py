"""Clusters: create, describe with counts, list, delete, tags, simulated container instances."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_ecs_support import error_of, fargate_definition, fargate_service, network

INSTANCES = "corral:sandbox:containerInstances"


@pytest.fixture
def ecs(sandbox: Sandbox) -> Any:
    return sandbox.client("ecs")


def test_create_describe_list_delete(ecs: Any) -> None:
    created = ecs.create_cluster(clusterName="apps", tags=[{"key": "team", "value": "web"}])["cluster"]
    assert created["clusterArn"] == "arn:aws:ecs:us-east-1:123456789012:cluster/apps"
    assert created["status"] == "ACTIVE"
    assert created["tags"] == [{"key": "team", "value": "web"}]
    assert ecs.create_cluster(clusterName="apps")["cluster"]["clusterArn"] == created["clusterArn"], (
        "idempotent"
    )
    ecs.create_cluster(clusterName="batch")
    assert ecs.list_clusters()["clusterArns"] == [
        created["clusterArn"],
        created["clusterArn"].replace("apps", "batch"),
    ]
    described = ecs.describe_clusters(clusters=["apps", "arn:aws:ecs:us-east-1:123456789012:cluster/nope"])
    assert [c["clusterName"] for c in described["clusters"]] == ["apps"]
    assert "tags" not in described["clusters"][0]
    assert described["failures"] == [
        {"arn": "arn:aws:ecs:us-east-1:123456789012:cluster/nope", "reason": "MISSING"}
    ]
    assert (
        ecs.describe_clusters(clusters=["apps"], include=["TAGS"])["clusters"][0]["tags"] == created["tags"]
    )

    deleted = ecs.delete_cluster(cluster="batch")["cluster"]
    assert deleted["status"] == "INACTIVE"
    assert ecs.describe_clusters(clusters=["batch"])["clusters"][0]["status"] == "INACTIVE"
    assert ecs.list_clusters()["clusterArns"] == [created["clusterArn"]]
    with pytest.raises(ClientError) as gone:
        ecs.list_services(cluster="batch")
    assert error_of(gone)[0] == "ClusterNotFoundException"
    with pytest.raises(ClientError) as unknown:
        ecs.list_services(cluster="ghost")
    assert error_of(unknown) == ("ClusterNotFoundException", "Cluster not found.")


def test_default_cluster_exists_when_no_cluster_is_named(ecs: Any) -> None:
    assert ecs.list_services()["serviceArns"] == []
    (cluster,) = ecs.describe_clusters()["clusters"]
    assert cluster["clusterName"] == "default"


def test_counts_follow_tasks_and_services(sandbox: Sandbox, ecs: Any) -> None:
    ecs.create_cluster(clusterName="apps")
    definition = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", definition, 2)
    ecs.run_task(
        cluster="apps", taskDefinition=definition, launchType="FARGATE", networkConfiguration=network(ecs)
    )

    def counts() -> tuple[int, int, int] | None:
        c = ecs.describe_clusters(clusters=["apps"])["clusters"][0]
        found = (c["runningTasksCount"], c["pendingTasksCount"], c["activeServicesCount"])
        return found if found == (3, 0, 1) else None

    wait_until(counts, message="three running tasks")
    with pytest.raises(ClientError) as busy:
        ecs.delete_cluster(cluster="apps")
    assert error_of(busy)[0] == "ClusterContainsServicesException"


def test_container_instances_from_the_cluster_tag(ecs: Any) -> None:
    created = ecs.create_cluster(clusterName="hosts", tags=[{"key": INSTANCES, "value": "3"}])["cluster"]
    assert created["registeredContainerInstancesCount"] == 3
    arns = ecs.list_container_instances(cluster="hosts")["containerInstanceArns"]
    assert len(arns) == 3 and all(":container-instance/hosts/" in a for a in arns)
    described = ecs.describe_container_instances(cluster="hosts", containerInstances=[*arns, "missing"])
    assert {i["status"] for i in described["containerInstances"]} == {"ACTIVE"}
    assert all(
        i["ec2InstanceId"].startswith("i-") and i["agentConnected"] for i in described["containerInstances"]
    )
    assert described["failures"] == [{"arn": "missing", "reason": "MISSING"}]
    page = ecs.list_container_instances(cluster="hosts", maxResults=2)
    assert len(page["containerInstanceArns"]) == 2 and page["nextToken"]

    ecs.tag_resource(resourceArn=created["clusterArn"], tags=[{"key": INSTANCES, "value": "5"}])
    assert len(ecs.list_container_instances(cluster="hosts")["containerInstanceArns"]) == 5
    ecs.tag_resource(resourceArn=created["clusterArn"], tags=[{"key": INSTANCES, "value": "1"}])
    assert len(ecs.list_container_instances(cluster="hosts")["containerInstanceArns"]) == 1
    with pytest.raises(ClientError) as bad:
        ecs.tag_resource(resourceArn=created["clusterArn"], tags=[{"key": INSTANCES, "value": "many"}])
    assert error_of(bad)[0] == "InvalidParameterException"
    assert ecs.delete_cluster(cluster="hosts")["cluster"]["status"] == "INACTIVE"


def test_update_cluster_settings(ecs: Any) -> None:
    ecs.create_cluster(clusterName="apps")
    updated = ecs.update_cluster(cluster="apps", settings=[{"name": "containerInsights", "value": "enabled"}])
    assert updated["cluster"]["settings"] == [{"name": "containerInsights", "value": "enabled"}]
    described = ecs.describe_clusters(clusters=["apps"], include=["SETTINGS"])["clusters"][0]
    assert described["settings"] == [{"name": "containerInsights", "value": "enabled"}]


def test_tags_on_every_resource_kind(ecs: Any) -> None:
    cluster = ecs.create_cluster(clusterName="apps")["cluster"]["clusterArn"]
    definition = fargate_definition(ecs, "web", "web:1")
    service = fargate_service(ecs, "apps", "web", definition, 0)["serviceArn"]
    (task,) = ecs.run_task(
        cluster="apps", taskDefinition=definition, launchType="FARGATE", networkConfiguration=network(ecs)
    )["tasks"]
    for arn in (cluster, definition, service, task["taskArn"]):
        ecs.tag_resource(resourceArn=arn, tags=[{"key": "a", "value": "1"}, {"key": "b", "value": "2"}])
        ecs.untag_resource(resourceArn=arn, tagKeys=["a"])
        assert ecs.list_tags_for_resource(resourceArn=arn)["tags"] == [{"key": "b", "value": "2"}], arn
    with pytest.raises(ClientError) as missing:
        ecs.list_tags_for_resource(resourceArn=service.replace("/web", "/nope"))
    assert error_of(missing)[0] == "ServiceNotFoundException"
    with pytest.raises(ClientError) as malformed:
        ecs.list_tags_for_resource(resourceArn="arn:aws:s3:::bucket")
    assert error_of(malformed)[0] == "InvalidParameterException"
