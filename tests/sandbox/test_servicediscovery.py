"""Cloud Map emulation: namespaces, services, instances, discovery, health, tags, the ECS contract."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox
from corral.sandbox.core.world import DEFAULT_ACCOUNT

from .helpers import wait_until
from .test_ecs_support import network

# DiscoverInstances is sent to `data-<endpoint host>`; a local endpoint needs the prefix off
NO_HOST_PREFIX = Config(inject_host_prefix=False)


@pytest.fixture
def sd(sandbox: Sandbox) -> Any:
    return sandbox.client("servicediscovery", config=NO_HOST_PREFIX)


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return exc.value.response["Error"]["Code"]


def private_namespace(sd: Any, name: str = "app.local", vpc: str = "vpc-1") -> str:
    operation_id = sd.create_private_dns_namespace(Name=name, Vpc=vpc)["OperationId"]
    return sd.get_operation(OperationId=operation_id)["Operation"]["Targets"]["NAMESPACE"]


def dns_service(sd: Any, namespace_id: str, name: str = "web", **extra: Any) -> dict[str, Any]:
    return sd.create_service(
        Name=name,
        NamespaceId=namespace_id,
        DnsConfig={"DnsRecords": [{"Type": "A", "TTL": 10}, {"Type": "SRV", "TTL": 10}]},
        **extra,
    )["Service"]


def task_attributes(ip: str, **extra: str) -> dict[str, str]:
    return {"AWS_INSTANCE_IPV4": ip, "AWS_INSTANCE_PORT": "8080", **extra}


# ---------------------------------------------------------------------- namespaces


def test_private_namespace_is_created_by_a_successful_operation(sd: Any) -> None:
    operation_id = sd.create_private_dns_namespace(Name="app.local", Vpc="vpc-1", Description="apps")[
        "OperationId"
    ]
    operation = sd.get_operation(OperationId=operation_id)["Operation"]
    assert operation["Status"] == "SUCCESS"
    assert operation["Type"] == "CREATE_NAMESPACE"
    namespace = sd.get_namespace(Id=operation["Targets"]["NAMESPACE"])["Namespace"]
    assert namespace["Id"].startswith("ns-") and len(namespace["Id"]) == 19
    assert (
        namespace["Arn"]
        == f"arn:aws:servicediscovery:us-east-1:{DEFAULT_ACCOUNT}:namespace/{namespace['Id']}"
    )
    assert namespace["Name"] == "app.local"
    assert namespace["Type"] == "DNS_PRIVATE"
    assert namespace["Description"] == "apps"
    assert namespace["ServiceCount"] == 0
    assert namespace["Properties"]["DnsProperties"]["HostedZoneId"].startswith("Z")
    assert namespace["Properties"]["HttpProperties"]["HttpName"] == "app.local"


def test_public_and_http_namespaces_and_list_filters(sd: Any) -> None:
    private_namespace(sd)
    sd.create_public_dns_namespace(Name="example.com")
    sd.create_http_namespace(Name="internal-api")
    listed = {ns["Name"]: ns for ns in sd.list_namespaces()["Namespaces"]}
    assert {name: ns["Type"] for name, ns in listed.items()} == {
        "app.local": "DNS_PRIVATE",
        "example.com": "DNS_PUBLIC",
        "internal-api": "HTTP",
    }
    assert "DnsProperties" not in listed["internal-api"]["Properties"]
    only_http = sd.list_namespaces(Filters=[{"Name": "TYPE", "Values": ["HTTP"], "Condition": "EQ"}])
    assert [ns["Name"] for ns in only_http["Namespaces"]] == ["internal-api"]
    dns = sd.list_namespaces(
        Filters=[{"Name": "TYPE", "Values": ["DNS_PUBLIC", "DNS_PRIVATE"], "Condition": "IN"}]
    )
    assert {ns["Name"] for ns in dns["Namespaces"]} == {"app.local", "example.com"}
    prefixed = sd.list_namespaces(Filters=[{"Name": "NAME", "Values": ["app"], "Condition": "BEGINS_WITH"}])
    assert [ns["Name"] for ns in prefixed["Namespaces"]] == ["app.local"]


def test_list_namespaces_pages(sd: Any) -> None:
    for index in range(3):
        sd.create_http_namespace(Name=f"ns-{index}")
    first = sd.list_namespaces(MaxResults=2)
    assert len(first["Namespaces"]) == 2 and first["NextToken"]
    second = sd.list_namespaces(MaxResults=2, NextToken=first["NextToken"])
    assert [ns["Name"] for ns in second["Namespaces"]] == ["ns-2"]
    assert "NextToken" not in second
    paged = [
        ns["Name"]
        for p in sd.get_paginator("list_namespaces").paginate(MaxResults=1)
        for ns in p["Namespaces"]
    ]
    assert paged == ["ns-0", "ns-1", "ns-2"]
    with pytest.raises(ClientError) as bad_token:
        sd.list_namespaces(NextToken="not-a-token")
    assert error_code(bad_token) == "InvalidInput"


def test_namespace_names_must_be_unique(sd: Any) -> None:
    private_namespace(sd, "app.local", "vpc-1")
    with pytest.raises(ClientError) as duplicate:
        sd.create_private_dns_namespace(Name="app.local", Vpc="vpc-1")
    assert error_code(duplicate) == "NamespaceAlreadyExists"
    private_namespace(sd, "app.local", "vpc-2")  # the same private name in another VPC is fine
    sd.create_http_namespace(Name="api")
    with pytest.raises(ClientError) as duplicate_http:
        sd.create_http_namespace(Name="api")
    assert error_code(duplicate_http) == "NamespaceAlreadyExists"


def test_unknown_namespace_and_operation(sd: Any) -> None:
    with pytest.raises(ClientError) as namespace:
        sd.get_namespace(Id="ns-0000000000000000")
    assert error_code(namespace) == "NamespaceNotFound"
    with pytest.raises(ClientError) as operation:
        sd.get_operation(OperationId="nope")
    assert error_code(operation) == "OperationNotFound"


def test_namespace_with_services_cannot_be_deleted(sd: Any) -> None:
    namespace_id = private_namespace(sd)
    service = dns_service(sd, namespace_id)
    assert sd.get_namespace(Id=namespace_id)["Namespace"]["ServiceCount"] == 1
    with pytest.raises(ClientError) as in_use:
        sd.delete_namespace(Id=namespace_id)
    assert error_code(in_use) == "ResourceInUse"
    sd.delete_service(Id=service["Id"])
    operation_id = sd.delete_namespace(Id=namespace_id)["OperationId"]
    assert sd.get_operation(OperationId=operation_id)["Operation"]["Type"] == "DELETE_NAMESPACE"
    with pytest.raises(ClientError) as gone:
        sd.get_namespace(Id=namespace_id)
    assert error_code(gone) == "NamespaceNotFound"


# ---------------------------------------------------------------------- services


def test_create_and_get_dns_service(sd: Any) -> None:
    namespace_id = private_namespace(sd)
    created = dns_service(
        sd, namespace_id, Description="web tier", HealthCheckCustomConfig={"FailureThreshold": 1}
    )
    assert created["Id"].startswith("srv-") and len(created["Id"]) == 20
    assert created["Arn"] == f"arn:aws:servicediscovery:us-east-1:{DEFAULT_ACCOUNT}:service/{created['Id']}"
    fetched = sd.get_service(Id=created["Id"])["Service"]
    assert fetched["Name"] == "web"
    assert fetched["NamespaceId"] == namespace_id
    assert fetched["Type"] == "DNS_HTTP"
    assert fetched["DnsConfig"]["RoutingPolicy"] == "MULTIVALUE"
    assert fetched["DnsConfig"]["DnsRecords"] == [{"Type": "A", "TTL": 10}, {"Type": "SRV", "TTL": 10}]
    assert fetched["HealthCheckCustomConfig"] == {"FailureThreshold": 1}
    assert fetched["InstanceCount"] == 0


def test_service_in_http_namespace_is_api_only(sd: Any) -> None:
    operation_id = sd.create_http_namespace(Name="api")["OperationId"]
    namespace_id = sd.get_operation(OperationId=operation_id)["Operation"]["Targets"]["NAMESPACE"]
    service = sd.create_service(Name="orders", NamespaceId=namespace_id)["Service"]
    assert service["Type"] == "HTTP"
    with pytest.raises(ClientError) as dns_in_http:
        dns_service(sd, namespace_id, name="other")
    assert error_code(dns_in_http) == "InvalidInput"


def test_create_service_errors(sd: Any) -> None:
    namespace_id = private_namespace(sd)
    dns_service(sd, namespace_id)
    with pytest.raises(ClientError) as duplicate:
        dns_service(sd, namespace_id)
    assert error_code(duplicate) == "ServiceAlreadyExists"
    with pytest.raises(ClientError) as no_namespace:
        dns_service(sd, "ns-0000000000000000", name="x")
    assert error_code(no_namespace) == "NamespaceNotFound"
    with pytest.raises(ClientError) as both_checks:
        dns_service(
            sd,
            namespace_id,
            name="y",
            HealthCheckCustomConfig={"FailureThreshold": 1},
            HealthCheckConfig={"Type": "HTTP", "ResourcePath": "/"},
        )
    assert error_code(both_checks) == "InvalidInput"
    with pytest.raises(ClientError) as cname_mix:
        sd.create_service(
            Name="z",
            NamespaceId=namespace_id,
            DnsConfig={"DnsRecords": [{"Type": "CNAME", "TTL": 10}, {"Type": "A", "TTL": 10}]},
        )
    assert error_code(cname_mix) == "InvalidInput"
    with pytest.raises(ClientError) as missing:
        sd.get_service(Id="srv-0000000000000000")
    assert error_code(missing) == "ServiceNotFound"


def test_list_services_filters_by_namespace(sd: Any) -> None:
    first = private_namespace(sd, "one.local")
    second = private_namespace(sd, "two.local")
    dns_service(sd, first, "a")
    dns_service(sd, first, "b")
    dns_service(sd, second, "c")
    everything = sd.list_services()["Services"]
    assert {service["Name"] for service in everything} == {"a", "b", "c"}
    in_first = sd.list_services(Filters=[{"Name": "NAMESPACE_ID", "Values": [first], "Condition": "EQ"}])
    assert {service["Name"] for service in in_first["Services"]} == {"a", "b"}
    page = sd.list_services(MaxResults=1)
    assert len(page["Services"]) == 1 and page["NextToken"]


def test_update_service_changes_ttl_and_description(sd: Any) -> None:
    service = dns_service(sd, private_namespace(sd))
    operation_id = sd.update_service(
        Id=service["Id"],
        Service={
            "Description": "updated",
            "DnsConfig": {"DnsRecords": [{"Type": "A", "TTL": 60}, {"Type": "SRV", "TTL": 60}]},
        },
    )["OperationId"]
    operation = sd.get_operation(OperationId=operation_id)["Operation"]
    assert operation["Type"] == "UPDATE_SERVICE"
    assert operation["Targets"] == {"SERVICE": service["Id"]}
    fetched = sd.get_service(Id=service["Id"])["Service"]
    assert fetched["Description"] == "updated"
    assert [record["TTL"] for record in fetched["DnsConfig"]["DnsRecords"]] == [60, 60]
    with pytest.raises(ClientError) as new_types:
        sd.update_service(
            Id=service["Id"], Service={"DnsConfig": {"DnsRecords": [{"Type": "AAAA", "TTL": 1}]}}
        )
    assert error_code(new_types) == "InvalidInput"
    with pytest.raises(ClientError) as missing:
        sd.update_service(Id="srv-0000000000000000", Service={"Description": "x"})
    assert error_code(missing) == "ServiceNotFound"


def test_service_with_instances_cannot_be_deleted(sd: Any) -> None:
    service = dns_service(sd, private_namespace(sd))
    sd.register_instance(ServiceId=service["Id"], InstanceId="i-1", Attributes=task_attributes("10.0.0.1"))
    with pytest.raises(ClientError) as in_use:
        sd.delete_service(Id=service["Id"])
    assert error_code(in_use) == "ResourceInUse"
    sd.deregister_instance(ServiceId=service["Id"], InstanceId="i-1")
    sd.delete_service(Id=service["Id"])
    with pytest.raises(ClientError) as gone:
        sd.delete_service(Id=service["Id"])
    assert error_code(gone) == "ServiceNotFound"


# ---------------------------------------------------------------------- instances


def test_register_list_get_and_deregister_instances(sd: Any) -> None:
    service = dns_service(sd, private_namespace(sd))
    operation_id = sd.register_instance(
        ServiceId=service["Id"], InstanceId="task-1", Attributes=task_attributes("10.0.0.1")
    )["OperationId"]
    operation = sd.get_operation(OperationId=operation_id)["Operation"]
    assert operation["Type"] == "REGISTER_INSTANCE"
    assert operation["Targets"] == {"SERVICE": service["Id"], "INSTANCE": "task-1"}
    sd.register_instance(ServiceId=service["Id"], InstanceId="task-2", Attributes=task_attributes("10.0.0.2"))
    listed = sd.list_instances(ServiceId=service["Id"])["Instances"]
    assert [(i["Id"], i["Attributes"]["AWS_INSTANCE_IPV4"]) for i in listed] == [
        ("task-1", "10.0.0.1"),
        ("task-2", "10.0.0.2"),
    ]
    assert sd.get_service(Id=service["Id"])["Service"]["InstanceCount"] == 2
    # registering the same id again replaces its attributes
    sd.register_instance(ServiceId=service["Id"], InstanceId="task-1", Attributes=task_attributes("10.0.0.9"))
    instance = sd.get_instance(ServiceId=service["Id"], InstanceId="task-1")["Instance"]
    assert instance["Attributes"]["AWS_INSTANCE_IPV4"] == "10.0.0.9"
    operation_id = sd.deregister_instance(ServiceId=service["Id"], InstanceId="task-1")["OperationId"]
    assert sd.get_operation(OperationId=operation_id)["Operation"]["Type"] == "DEREGISTER_INSTANCE"
    assert [i["Id"] for i in sd.list_instances(ServiceId=service["Id"])["Instances"]] == ["task-2"]


def test_instance_errors(sd: Any) -> None:
    service = dns_service(sd, private_namespace(sd))
    with pytest.raises(ClientError) as no_port:
        sd.register_instance(
            ServiceId=service["Id"], InstanceId="t", Attributes={"AWS_INSTANCE_IPV4": "10.0.0.1"}
        )
    assert error_code(no_port) == "InvalidInput"
    assert "AWS_INSTANCE_PORT" in no_port.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing_instance:
        sd.get_instance(ServiceId=service["Id"], InstanceId="nope")
    assert error_code(missing_instance) == "InstanceNotFound"
    with pytest.raises(ClientError) as deregister_missing:
        sd.deregister_instance(ServiceId=service["Id"], InstanceId="nope")
    assert error_code(deregister_missing) == "InstanceNotFound"
    with pytest.raises(ClientError) as missing_service:
        sd.list_instances(ServiceId="srv-0000000000000000")
    assert error_code(missing_service) == "ServiceNotFound"


def test_discover_instances_by_name_with_attributes(sd: Any) -> None:
    namespace_id = private_namespace(sd, "shop.local")
    service = dns_service(sd, namespace_id, "cart")
    sd.register_instance(
        ServiceId=service["Id"], InstanceId="a", Attributes=task_attributes("10.0.0.1", AZ="a")
    )
    sd.register_instance(
        ServiceId=service["Id"], InstanceId="b", Attributes=task_attributes("10.0.0.2", AZ="b")
    )
    found = sd.discover_instances(NamespaceName="shop.local", ServiceName="cart")
    assert [(i["InstanceId"], i["NamespaceName"], i["ServiceName"]) for i in found["Instances"]] == [
        ("a", "shop.local", "cart"),
        ("b", "shop.local", "cart"),
    ]
    assert found["Instances"][0]["Attributes"]["AWS_INSTANCE_PORT"] == "8080"
    assert found["Instances"][0]["HealthStatus"] == "UNKNOWN", "no health check configured"
    only_b = sd.discover_instances(
        NamespaceName="shop.local", ServiceName="cart", QueryParameters={"AZ": "b"}
    )
    assert [i["InstanceId"] for i in only_b["Instances"]] == ["b"]
    prefer_c = sd.discover_instances(
        NamespaceName="shop.local", ServiceName="cart", OptionalParameters={"AZ": "c"}
    )
    assert len(prefer_c["Instances"]) == 2, "optional parameters that match nothing are ignored"
    limited = sd.discover_instances(NamespaceName="shop.local", ServiceName="cart", MaxResults=1)
    assert len(limited["Instances"]) == 1
    with pytest.raises(ClientError) as no_namespace:
        sd.discover_instances(NamespaceName="nope.local", ServiceName="cart")
    assert error_code(no_namespace) == "NamespaceNotFound"
    with pytest.raises(ClientError) as no_service:
        sd.discover_instances(NamespaceName="shop.local", ServiceName="nope")
    assert error_code(no_service) == "ServiceNotFound"


def test_custom_health_status_drives_discovery(sd: Any) -> None:
    service = dns_service(sd, private_namespace(sd), HealthCheckCustomConfig={"FailureThreshold": 1})
    sd.register_instance(ServiceId=service["Id"], InstanceId="ok", Attributes=task_attributes("10.0.0.1"))
    sd.register_instance(
        ServiceId=service["Id"],
        InstanceId="starting",
        Attributes=task_attributes("10.0.0.2", AWS_INIT_HEALTH_STATUS="UNHEALTHY"),
    )
    statuses = sd.get_instances_health_status(ServiceId=service["Id"])["Status"]
    assert statuses == {"ok": "HEALTHY", "starting": "UNHEALTHY"}
    revision = sd.discover_instances(NamespaceName="app.local", ServiceName="web")["InstancesRevision"]

    def discover(health: str) -> list[str]:
        found = sd.discover_instances(NamespaceName="app.local", ServiceName="web", HealthStatus=health)
        return sorted(i["InstanceId"] for i in found["Instances"])

    assert discover("HEALTHY") == ["ok"]
    assert discover("UNHEALTHY") == ["starting"]
    assert discover("ALL") == ["ok", "starting"]
    sd.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="ok", Status="UNHEALTHY")
    assert discover("HEALTHY") == []
    assert discover("HEALTHY_OR_ELSE_ALL") == ["ok", "starting"]
    assert sd.discover_instances(NamespaceName="app.local", ServiceName="web")["InstancesRevision"] > revision
    sd.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="starting", Status="HEALTHY")
    assert discover("HEALTHY_OR_ELSE_ALL") == ["starting"]
    only_one = sd.get_instances_health_status(ServiceId=service["Id"], Instances=["starting"])["Status"]
    assert only_one == {"starting": "HEALTHY"}
    with pytest.raises(ClientError) as missing:
        sd.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="nope", Status="HEALTHY")
    assert error_code(missing) == "InstanceNotFound"


def test_custom_health_needs_a_custom_health_check(sd: Any) -> None:
    service = dns_service(sd, private_namespace(sd))
    sd.register_instance(ServiceId=service["Id"], InstanceId="t", Attributes=task_attributes("10.0.0.1"))
    assert sd.get_instances_health_status(ServiceId=service["Id"])["Status"] == {"t": "UNKNOWN"}
    with pytest.raises(ClientError) as no_custom:
        sd.update_instance_custom_health_status(ServiceId=service["Id"], InstanceId="t", Status="UNHEALTHY")
    assert error_code(no_custom) == "CustomHealthNotFound"


# ---------------------------------------------------------------------- tags


def test_tags_on_namespaces_and_services(sd: Any) -> None:
    operation_id = sd.create_http_namespace(Name="api", Tags=[{"Key": "team", "Value": "core"}])[
        "OperationId"
    ]
    namespace_id = sd.get_operation(OperationId=operation_id)["Operation"]["Targets"]["NAMESPACE"]
    namespace_arn = sd.get_namespace(Id=namespace_id)["Namespace"]["Arn"]
    assert sd.list_tags_for_resource(ResourceARN=namespace_arn)["Tags"] == [{"Key": "team", "Value": "core"}]
    service = sd.create_service(Name="orders", NamespaceId=namespace_id)["Service"]
    sd.tag_resource(
        ResourceARN=service["Arn"], Tags=[{"Key": "env", "Value": "dev"}, {"Key": "x", "Value": "1"}]
    )
    sd.untag_resource(ResourceARN=service["Arn"], TagKeys=["x"])
    assert sd.list_tags_for_resource(ResourceARN=service["Arn"])["Tags"] == [{"Key": "env", "Value": "dev"}]
    with pytest.raises(ClientError) as unknown:
        sd.list_tags_for_resource(ResourceARN=service["Arn"].replace(service["Id"], "srv-0000000000000000"))
    assert error_code(unknown) == "ResourceNotFoundException"


# ---------------------------------------------------------------------- contract for ECS


def test_ecs_contract_registers_without_operations(sandbox: Sandbox, sd: Any) -> None:
    service = dns_service(sd, private_namespace(sd), HealthCheckCustomConfig={"FailureThreshold": 1})
    with sandbox.world.lock:
        backend = sandbox.world.region(DEFAULT_ACCOUNT, "us-east-1").servicediscovery
        found = backend.service_by_arn(service["Arn"])
        assert found.name == "web"
        assert found.dns_config is not None and found.dns_config.record_types == {"A", "SRV"}
        backend.register_instance(
            service["Arn"], "task-1", task_attributes("10.0.0.5", AWS_INIT_HEALTH_STATUS="HEALTHY")
        )
        backend.register_instance("arn:aws:servicediscovery:us-east-1:1:service/srv-gone", "t", {})  # skipped
        backend.deregister_instance(service["Arn"], "never-registered")  # a no-op, not an error
    found_instances = sd.discover_instances(NamespaceName="app.local", ServiceName="web")["Instances"]
    assert [(i["InstanceId"], i["HealthStatus"]) for i in found_instances] == [("task-1", "HEALTHY")]
    assert len(sd.list_operations()["Operations"]) == 1, "only the namespace's creation is an operation"
    with sandbox.world.lock:
        backend.deregister_instance(service["Arn"], "task-1")
        with pytest.raises(Exception, match="not found") as missing:
            backend.service_by_arn(service["Arn"] + "x")
        assert type(missing.value).__name__ == "ServiceNotFound"
    assert sd.discover_instances(NamespaceName="app.local", ServiceName="web")["Instances"] == []


def test_state_survives_pickling(sandbox: Sandbox, sd: Any) -> None:
    service = dns_service(sd, private_namespace(sd))
    sd.register_instance(ServiceId=service["Id"], InstanceId="t", Attributes=task_attributes("10.0.0.1"))
    with sandbox.world.lock:
        world = pickle.loads(pickle.dumps(sandbox.world))
    restored = world.region(DEFAULT_ACCOUNT, "us-east-1").servicediscovery
    assert list(restored.get_service(service["Id"]).instances) == ["t"]


# ---------------------------------------------------------------------- ECS services with serviceRegistries


def test_ecs_tasks_are_registered_and_deregistered(sandbox: Sandbox, sd: Any) -> None:
    registry = dns_service(sd, private_namespace(sd), HealthCheckCustomConfig={"FailureThreshold": 1})
    ecs = sandbox.client("ecs")
    ecs.create_cluster(clusterName="apps")
    ecs.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        containerDefinitions=[
            {"name": "app", "image": "web:1", "essential": True, "portMappings": [{"containerPort": 8080}]}
        ],
    )
    ecs.create_service(
        cluster="apps",
        serviceName="web",
        taskDefinition="web",
        desiredCount=2,
        launchType="FARGATE",
        networkConfiguration=network(ecs),
        serviceRegistries=[{"registryArn": registry["Arn"], "containerName": "app", "containerPort": 8080}],
    )

    def discovered(count: int) -> list[dict[str, Any]] | None:
        found = sd.discover_instances(NamespaceName="app.local", ServiceName="web", HealthStatus="ALL")
        return found["Instances"] if len(found["Instances"]) == count else None

    instances = wait_until(lambda: discovered(2), message="both tasks registered once RUNNING")
    task_ids = {
        arn.rsplit("/", 1)[-1] for arn in ecs.list_tasks(cluster="apps", serviceName="web")["taskArns"]
    }
    assert {i["InstanceId"] for i in instances} == task_ids
    attributes = instances[0]["Attributes"]
    assert attributes["ECS_CLUSTER_NAME"] == "apps"
    assert attributes["ECS_SERVICE_NAME"] == "web"
    assert attributes["ECS_TASK_DEFINITION_FAMILY"] == "web"
    assert attributes["AWS_INSTANCE_PORT"] == "8080"
    assert attributes["AWS_INSTANCE_IPV4"].count(".") == 3
    assert attributes["AVAILABILITY_ZONE"]

    ecs.update_service(cluster="apps", service="web", desiredCount=0)
    wait_until(lambda: discovered(0) == [], message="tasks stopped by scaling to 0 deregistered")
    ecs.update_service(cluster="apps", service="web", desiredCount=1)
    wait_until(lambda: discovered(1), message="a new task registered")
    ecs.delete_service(cluster="apps", service="web", force=True)
    wait_until(lambda: discovered(0) == [], message="the deleted service's tasks deregistered")
    sd.delete_service(Id=registry["Id"])  # nothing left registered
