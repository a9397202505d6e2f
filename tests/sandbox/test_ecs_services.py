"""Services: create, describe, update, delete, DAEMON, scaling, tags, paging."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .helpers import wait_until
from .test_ecs_support import (
    describe,
    describe_tasks,
    ec2_definition,
    error_of,
    fargate_definition,
    fargate_service,
    messages,
    network,
    task_ids,
    wait_completed,
)

INSTANCES = "corral:sandbox:containerInstances"


@pytest.fixture
def ecs(sandbox: Sandbox) -> Any:
    client = sandbox.client("ecs")
    client.create_cluster(clusterName="apps")
    return client


def refused(call: Any, **params: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**params)
    return error_of(caught)


def test_a_new_service_as_describe_services_shows_it(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    created = fargate_service(ecs, "apps", "web", definition, 2, tags=[{"key": "team", "value": "web"}])
    assert created["serviceArn"] == "arn:aws:ecs:us-east-1:123456789012:service/apps/web"
    assert created["clusterArn"] == "arn:aws:ecs:us-east-1:123456789012:cluster/apps"
    assert (created["status"], created["desiredCount"], created["runningCount"]) == ("ACTIVE", 2, 0)
    assert (created["launchType"], created["platformVersion"]) == ("FARGATE", "LATEST")
    assert created["schedulingStrategy"] == "REPLICA"
    assert created["deploymentController"] == {"type": "ECS"}
    assert created["deploymentConfiguration"] == {
        "deploymentCircuitBreaker": {"enable": False, "rollback": False},
        "maximumPercent": 200,
        "minimumHealthyPercent": 100,
    }
    assert created["networkConfiguration"] == network(ecs)
    assert created["tags"] == [{"key": "team", "value": "web"}]
    assert created["createdBy"].startswith("arn:aws:iam::123456789012:")
    assert (created["propagateTags"], created["enableECSManagedTags"], created["enableExecuteCommand"]) == (
        "NONE",
        False,
        False,
    )
    (deployment,) = created["deployments"]
    assert re.fullmatch(r"ecs-svc/\d{19}", deployment["id"])
    assert (deployment["status"], deployment["rolloutState"]) == ("PRIMARY", "IN_PROGRESS")
    assert deployment["rolloutStateReason"] == f"ECS deployment {deployment['id']} in progress."

    done = wait_completed(ecs, "apps", "web", definition)
    assert done["runningCount"] == 2 and "tags" not in done
    events = messages(done)
    assert events[0].startswith("(service web) has started 2 tasks: (task ")
    assert events[-2:] == [
        f"(service web) (deployment {deployment['id']}) deployment completed.",
        "(service web) has reached a steady state.",
    ]
    assert all(re.fullmatch(r"[0-9a-f-]{36}", e["id"]) for e in done["events"])
    with_tags = ecs.describe_services(cluster="apps", services=["web"], include=["TAGS"])["services"][0]
    assert with_tags["tags"] == [{"key": "team", "value": "web"}]


def test_service_errors(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    assert refused(
        ecs.create_service,
        cluster="apps",
        serviceName="web",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
    ) == (
        "InvalidParameterException",
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
    )
    bridge = ec2_definition(ecs, "ec2web", "web:1")
    code, message = refused(
        ecs.create_service,
        cluster="apps",
        serviceName="web",
        taskDefinition=bridge,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
    )
    assert code == "InvalidParameterException" and "FARGATE" in message
    fargate_service(ecs, "apps", "web", definition, 1)
    assert refused(
        ecs.create_service,
        cluster="apps",
        serviceName="web",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
    ) == ("InvalidParameterException", "Creation of service was not idempotent.")
    assert (
        refused(ecs.update_service, cluster="apps", service="nope", desiredCount=1)[0]
        == "ServiceNotFoundException"
    )
    assert (
        refused(ecs.update_service, cluster="ghost", service="web", desiredCount=1)[0]
        == "ClusterNotFoundException"
    )
    assert refused(ecs.delete_service, cluster="apps", service="web") == (
        "InvalidParameterException",
        "The service cannot be stopped while it is scaled above 0.",
    )
    ecs.delete_service(cluster="apps", service="web", force=True)
    assert refused(ecs.update_service, cluster="apps", service="web", desiredCount=2) == (
        "ServiceNotActiveException",
        "Service was not ACTIVE.",
    )
    code, message = refused(
        ecs.create_service,
        cluster="apps",
        serviceName="web2",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
        loadBalancers=[
            {
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/1",
                "containerName": "app",
                "containerPort": 80,
            }
        ],
    )
    assert code == "InvalidParameterException"


def test_describe_services_limits_and_missing(ecs: Any) -> None:
    found = ecs.describe_services(cluster="apps", services=["ghost"])
    assert found["services"] == []
    assert found["failures"] == [
        {"arn": "arn:aws:ecs:us-east-1:123456789012:service/apps/ghost", "reason": "MISSING"}
    ]
    assert refused(ecs.describe_services, cluster="apps", services=[f"s{i}" for i in range(11)]) == (
        "InvalidParameterException",
        "services can have at most 10 items.",
    )


def test_desired_count_alone_scales_without_a_new_deployment(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", definition, 1)
    first = wait_completed(ecs, "apps", "web", definition)["deployments"][0]["id"]
    updated = ecs.update_service(cluster="apps", service="web", desiredCount=3)["service"]
    assert [d["id"] for d in updated["deployments"]] == [first]
    assert updated["deployments"][0]["desiredCount"] == 3
    wait_until(lambda: describe(ecs, "apps", "web")["runningCount"] == 3, message="3 running")
    forced = ecs.update_service(cluster="apps", service="web", forceNewDeployment=True)["service"]
    assert len(forced["deployments"]) == 2 and forced["deployments"][1]["id"] == first
    done = wait_completed(ecs, "apps", "web", definition)
    assert done["deployments"][0]["id"] != first and done["runningCount"] == 3


def test_deployment_configuration_alone_starts_no_deployment(ecs: Any) -> None:
    """UpdateService's deploymentConfiguration "doesn't trigger a new service deployment" (ECS API
    Reference, UpdateService): the service keeps its deployment and takes the new settings."""
    definition = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", definition, 1)
    first = wait_completed(ecs, "apps", "web", definition)["deployments"][0]["id"]
    breaker = {"enable": True, "rollback": True}
    updated = ecs.update_service(
        cluster="apps",
        service="web",
        deploymentConfiguration={"minimumHealthyPercent": 50, "deploymentCircuitBreaker": breaker},
    )["service"]

    assert [d["id"] for d in updated["deployments"]] == [first]
    assert updated["deploymentConfiguration"]["minimumHealthyPercent"] == 50
    assert updated["deploymentConfiguration"]["deploymentCircuitBreaker"] == breaker
    listed = ecs.list_service_deployments(cluster="apps", service="web")["serviceDeployments"]
    assert len(listed) == 1


def test_placement_tags_settings_alone_start_no_deployment(ecs: Any) -> None:
    """placementStrategy, placementConstraints, propagateTags and enableECSManagedTags each
    "doesn't trigger a new service deployment" (ECS API Reference, UpdateService); a new task
    definition does."""
    definition = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", definition, 1)
    first = wait_completed(ecs, "apps", "web", definition)["deployments"][0]["id"]
    updated = ecs.update_service(
        cluster="apps",
        service="web",
        placementConstraints=[],
        propagateTags="SERVICE",
        enableECSManagedTags=True,
    )["service"]

    assert [d["id"] for d in updated["deployments"]] == [first]
    assert updated["propagateTags"] == "SERVICE" and updated["enableECSManagedTags"] is True
    second = fargate_definition(ecs, "web", "web:2")
    redeployed = ecs.update_service(cluster="apps", service="web", taskDefinition=second)["service"]
    assert len(redeployed["deployments"]) == 2


def test_scale_in_stops_tasks_and_autoscaling_contract(sandbox: Sandbox, ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", definition, 3)
    wait_completed(ecs, "apps", "web", definition)
    backend = sandbox.world.region("123456789012", "us-east-1").ecs
    with sandbox.world.lock:
        assert backend.find_service("apps", "web").desired_count == 3
        assert backend.deployment_in_progress("apps", "web") is False
        backend.scale_from_autoscaling("apps", "web", 1)
    wait_until(lambda: len(task_ids(ecs, "apps", serviceName="web")) == 1, message="scaled in to 1")
    service = describe(ecs, "apps", "web")
    assert len(service["deployments"]) == 1 and service["desiredCount"] == 1
    assert any(m.startswith("(service web) has stopped 2 running tasks:") for m in messages(service))


def test_tags_propagated_to_service_tasks(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1", tags=[{"key": "from", "value": "definition"}])
    fargate_service(
        ecs,
        "apps",
        "web",
        definition,
        1,
        tags=[{"key": "from", "value": "service"}],
        propagateTags="SERVICE",
        enableECSManagedTags=True,
    )
    ids = wait_until(lambda: task_ids(ecs, "apps", serviceName="web"))
    tags = {t["key"]: t["value"] for t in describe_tasks(ecs, "apps", ids)[0]["tags"]}
    assert tags == {"from": "service", "aws:ecs:clusterName": "apps", "aws:ecs:serviceName": "web"}


def test_list_services_pages_and_hides_deleted(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    for i in range(12):
        fargate_service(ecs, "apps", f"web{i:02}", definition, 0)
    first = ecs.list_services(cluster="apps")
    assert len(first["serviceArns"]) == 10 and first["nextToken"]
    rest = ecs.list_services(cluster="apps", nextToken=first["nextToken"])
    assert len(rest["serviceArns"]) == 2 and "nextToken" not in rest
    ecs.delete_service(cluster="apps", service="web00")
    arns = [a for p in ecs.get_paginator("list_services").paginate(cluster="apps") for a in p["serviceArns"]]
    assert len(arns) == 11 and not any(a.endswith("/web00") for a in arns)
    assert ecs.list_services(cluster="apps", launchType="EC2")["serviceArns"] == []


@pytest.mark.sandbox(speed=100)
def test_list_tasks_pages_through_250_tasks(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    created = fargate_service(ecs, "apps", "big", definition, 250)
    wait_until(lambda: len(task_ids(ecs, "apps", serviceName="big")) == 250, message="250 tasks")
    first = ecs.list_tasks(cluster="apps", serviceName="big")
    assert len(first["taskArns"]) == 100 and first["nextToken"]
    second = ecs.list_tasks(cluster="apps", serviceName="big", nextToken=first["nextToken"], maxResults=100)
    third = ecs.list_tasks(cluster="apps", serviceName="big", nextToken=second["nextToken"])
    assert (len(second["taskArns"]), len(third["taskArns"])) == (100, 50) and "nextToken" not in third
    every = first["taskArns"] + second["taskArns"] + third["taskArns"]
    assert len(set(every)) == 250
    small = ecs.list_tasks(cluster="apps", serviceName="big", maxResults=7)
    assert len(small["taskArns"]) == 7
    assert len(task_ids(ecs, "apps", startedBy=created["deployments"][0]["id"])) == 250
    assert len(task_ids(ecs, "apps", family="web")) == 250
    assert refused(ecs.list_tasks, cluster="apps", maxResults=101)[0] == "InvalidParameterException"
    assert refused(ecs.list_tasks, cluster="apps", nextToken="not-a-token")[0] == "InvalidParameterException"
    assert refused(ecs.list_tasks, cluster="apps", serviceName="ghost")[0] == "ServiceNotFoundException"
    assert len(describe_tasks(ecs, "apps", [a.rsplit("/", 1)[1] for a in every])) == 250


def test_daemon_runs_one_task_per_instance(ecs: Any) -> None:
    cluster = ecs.create_cluster(clusterName="hosts", tags=[{"key": INSTANCES, "value": "3"}])["cluster"]
    definition = ec2_definition(ecs, "agent", "agent:1")
    assert (
        refused(
            ecs.create_service,
            cluster="hosts",
            serviceName="agent",
            taskDefinition=definition,
            schedulingStrategy="DAEMON",
            desiredCount=2,
        )[0]
        == "InvalidParameterException"
    )
    assert (
        refused(
            ecs.create_service,
            cluster="hosts",
            serviceName="agent",
            taskDefinition=fargate_definition(ecs, "fg", "agent:1"),
            schedulingStrategy="DAEMON",
            launchType="FARGATE",
            networkConfiguration=network(ecs),
        )[0]
        == "InvalidParameterException"
    )
    created = ecs.create_service(
        cluster="hosts", serviceName="agent", taskDefinition=definition, schedulingStrategy="DAEMON"
    )["service"]
    assert created["schedulingStrategy"] == "DAEMON"
    assert created["deploymentConfiguration"]["minimumHealthyPercent"] == 0
    assert created["deploymentConfiguration"]["maximumPercent"] == 100
    done = wait_completed(ecs, "hosts", "agent", definition)
    assert (done["desiredCount"], done["runningCount"]) == (3, 3)
    tasks = describe_tasks(ecs, "hosts", task_ids(ecs, "hosts", serviceName="agent"))
    instances = ecs.list_container_instances(cluster="hosts")["containerInstanceArns"]
    assert sorted(t["containerInstanceArn"] for t in tasks) == sorted(instances)

    ecs.tag_resource(resourceArn=cluster["clusterArn"], tags=[{"key": INSTANCES, "value": "4"}])
    wait_until(
        lambda: describe(ecs, "hosts", "agent")["runningCount"] == 4, message="a task on the new instance"
    )
    second = ec2_definition(ecs, "agent", "agent:2")
    ecs.update_service(cluster="hosts", service="agent", taskDefinition=second)
    done = wait_completed(ecs, "hosts", "agent", second)
    assert done["runningCount"] == 4
    assert (
        refused(ecs.update_service, cluster="hosts", service="agent", desiredCount=1)[0]
        == "InvalidParameterException"
    )


@pytest.mark.sandbox(speed=2)  # slow enough to see DRAINING for a second of real time
def test_delete_service_drains_then_goes_inactive(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    fargate_service(ecs, "apps", "web", definition, 2)
    wait_until(lambda: describe(ecs, "apps", "web")["runningCount"] == 2, message="2 running tasks")
    assert refused(ecs.delete_service, cluster="apps", service="web") == (
        "InvalidParameterException",
        "The service cannot be stopped while it is scaled above 0.",
    )
    deleted = ecs.delete_service(cluster="apps", service="web", force=True)["service"]
    assert (deleted["status"], deleted["desiredCount"]) == ("DRAINING", 0)
    assert ecs.list_services(cluster="apps")["serviceArns"] == []
    assert describe(ecs, "apps", "web")["status"] == "DRAINING"
    inactive = wait_until(
        lambda: (s := describe(ecs, "apps", "web"))["status"] == "INACTIVE" and s, message="INACTIVE"
    )
    assert inactive["runningCount"] == 0
    assert task_ids(ecs, "apps", serviceName="web") == []
    stopped = describe_tasks(ecs, "apps", task_ids(ecs, "apps", serviceName="web", desiredStatus="STOPPED"))
    assert {t["lastStatus"] for t in stopped} == {"STOPPED"} and len(stopped) == 2
    assert refused(ecs.delete_service, cluster="apps", service="web")[0] == "ServiceNotActiveException"
    recreated = fargate_service(ecs, "apps", "web", definition, 1)
    assert recreated["status"] == "ACTIVE", "an INACTIVE name can be used again"
    assert ecs.describe_clusters(clusters=["apps"])["clusters"][0]["activeServicesCount"] == 1


def test_bounds_that_allow_nothing_are_reported(ecs: Any) -> None:
    first = fargate_definition(ecs, "web", "web:1")
    fargate_service(
        ecs,
        "apps",
        "web",
        first,
        2,
        deploymentConfiguration={"minimumHealthyPercent": 100, "maximumPercent": 100},
    )
    wait_completed(ecs, "apps", "web", first)
    ecs.update_service(cluster="apps", service="web", taskDefinition=fargate_definition(ecs, "web", "web:2"))
    stuck = (
        "(service web) was unable to stop or start tasks during a deployment because of the service deployment "
        "configuration. Update the minimumHealthyPercent or maximumPercent value and try again."
    )
    events = wait_until(lambda: (m := messages(describe(ecs, "apps", "web")))[-1] == stuck and m)
    assert events.count(stuck) == 1, "not repeated while nothing changes"
    service = describe(ecs, "apps", "web")
    assert [d["runningCount"] for d in service["deployments"]] == [0, 2]


def test_service_registries_are_checked(sandbox: Sandbox, ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    missing = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-0123456789abcdef"
    code, message = refused(
        ecs.create_service,
        cluster="apps",
        serviceName="web",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
        serviceRegistries=[{"registryArn": missing}],
    )
    assert code == "InvalidParameterException" and missing in message
    sd = sandbox.client("servicediscovery")
    operation = sd.create_private_dns_namespace(Name="app.local", Vpc="vpc-1")["OperationId"]
    namespace = sd.get_operation(OperationId=operation)["Operation"]["Targets"]["NAMESPACE"]
    registry = sd.create_service(
        Name="web", NamespaceId=namespace, DnsConfig={"DnsRecords": [{"Type": "SRV", "TTL": 10}]}
    )["Service"]["Arn"]
    code, message = refused(
        ecs.create_service,
        cluster="apps",
        serviceName="web",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
        serviceRegistries=[{"registryArn": registry}],
    )
    assert code == "InvalidParameterException" and "SRV" in message
    created = fargate_service(
        ecs, "apps", "web", definition, 1, serviceRegistries=[{"registryArn": registry, "port": 80}]
    )
    assert created["serviceRegistries"] == [{"registryArn": registry, "port": 80}]


def test_subnets_must_exist_and_public_ip_defaults_to_disabled(sandbox: Sandbox) -> None:
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="net")
    definition = fargate_definition(ecs, "net", "nginx")
    with pytest.raises(ClientError) as missing:
        ecs.create_service(
            cluster="net",
            serviceName="web",
            taskDefinition=definition,
            desiredCount=1,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": {"subnets": ["subnet-doesnotexist"]}},
        )
    code, message = error_of(missing)
    assert code == "InvalidParameterException" and "subnet-doesnotexist" in message
    assert ecs.list_services(cluster="net")["serviceArns"] == [], "nothing was created"
    subnets = network(ecs)["awsvpcConfiguration"]["subnets"]
    created = ecs.create_service(
        cluster="net",
        serviceName="web",
        taskDefinition=definition,
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": {"subnets": subnets}},
    )["service"]
    assert created["networkConfiguration"]["awsvpcConfiguration"]["assignPublicIp"] == "DISABLED"


SERVICE_CONNECT = {
    "enabled": True,
    "namespace": "arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-apps",
    "services": [
        {"portName": "http", "discoveryName": "web", "clientAliases": [{"port": 80, "dnsName": "web"}]}
    ],
}
LATTICE = [
    {
        "roleArn": "arn:aws:iam::123456789012:role/ecsInfrastructureRole",
        "targetGroupArn": "arn:aws:vpc-lattice:us-east-1:123456789012:targetgroup/tg-0123456789abcdef0",
        "portName": "http",
    }
]


def test_service_connect_and_vpc_lattice_are_reported_on_the_deployments(ecs: Any) -> None:
    definition = fargate_definition(ecs, "web", "web:1")
    fargate_service(
        ecs,
        "apps",
        "web",
        definition,
        1,
        serviceConnectConfiguration=SERVICE_CONNECT,
        vpcLatticeConfigurations=LATTICE,
    )
    (primary,) = describe(ecs, "apps", "web")["deployments"]
    assert primary["serviceConnectConfiguration"] == SERVICE_CONNECT
    assert primary["vpcLatticeConfigurations"] == LATTICE
    # a task definition change keeps them (left out of UpdateService, they stay as they are)
    ecs.update_service(cluster="apps", service="web", taskDefinition=fargate_definition(ecs, "web", "web:2"))
    newest = describe(ecs, "apps", "web")["deployments"][0]
    assert (newest["serviceConnectConfiguration"], newest["vpcLatticeConfigurations"]) == (
        SERVICE_CONNECT,
        LATTICE,
    )
    # turning Service Connect off and removing VPC Lattice each start a deployment that has them so
    ecs.update_service(
        cluster="apps",
        service="web",
        serviceConnectConfiguration={"enabled": False},
        vpcLatticeConfigurations=[],
    )
    deployments = describe(ecs, "apps", "web")["deployments"]
    assert deployments[0]["serviceConnectConfiguration"] == {"enabled": False}
    assert "vpcLatticeConfigurations" not in deployments[0]
    assert deployments[1]["serviceConnectConfiguration"] == SERVICE_CONNECT
