"""ECS rules across the task definition, the service definition and the infrastructure."""

from __future__ import annotations

from typing import Any

import pytest

from corral.errors import ConfigError, Problem
from corral.manifests import check_ecs_rules, check_target_port

from .helpers import container, fargate_task

NETWORK = {"awsvpcConfiguration": {"subnets": ["subnet-1"], "securityGroups": ["sg-1"]}}
ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


def ec2_task(*containers: dict[str, Any], mode: str | None = "bridge", **members: Any) -> dict[str, Any]:
    task: dict[str, Any] = {
        "family": "web",
        "containerDefinitions": list(containers) or [container("web", 80)],
    }
    if mode:
        task["networkMode"] = mode
    return task | members


def rules(
    task: dict[str, Any] | None, service: dict[str, Any] | None = None, **infra: Any
) -> list[tuple[str, str, str]]:
    problems = check_ecs_rules(task, service, source_task="task.yaml", source_service="service.yaml", **infra)
    return [(p.file, p.path, p.message) for p in problems]


# -- Fargate -------------------------------------------------------------------------------


def test_fargate_requires_awsvpc() -> None:
    task = fargate_task(networkMode="bridge")
    assert rules(task, {"serviceName": "a", "launchType": "FARGATE"}) == [
        ("task.yaml", "networkMode", "Fargate requires network mode 'awsvpc'; got 'bridge'")
    ]


def test_fargate_from_the_infrastructure_wins_over_the_service_definition() -> None:
    task = ec2_task(mode=None, cpu="256", memory="512")
    found = rules(task, {"serviceName": "a", "launchType": "EC2"}, launch_type="FARGATE")
    assert (
        "task.yaml",
        "networkMode",
        "Fargate requires network mode 'awsvpc'; got no network mode",
    ) in found


def test_fargate_capacity_provider_counts_as_fargate() -> None:
    task = ec2_task(mode="awsvpc")
    service = {"serviceName": "a", "capacityProviderStrategy": [{"capacityProvider": "FARGATE_SPOT"}]}
    found = rules(task, service, network_configuration=NETWORK)
    assert found == [
        ("task.yaml", "cpu",
         "No Fargate configuration exists for given values. Fargate needs task-level cpu and memory; cpu and memory not set.")
    ]  # fmt: skip


def test_launch_type_the_task_definition_does_not_support() -> None:
    task = ec2_task(requiresCompatibilities=["EC2"])
    found = rules(task, {"serviceName": "a"}, launch_type="EXTERNAL")
    assert found == [
        ("task.yaml", "requiresCompatibilities",
         "the task definition does not support launch type EXTERNAL (requiresCompatibilities: EC2)")
    ]  # fmt: skip


# -- awsvpc network configuration ------------------------------------------------------------


def test_awsvpc_needs_a_network_configuration() -> None:
    service = {"serviceName": "a", "launchType": "FARGATE"}
    assert rules(fargate_task(), service) == [
        ("service.yaml", "networkConfiguration",
         "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    ]  # fmt: skip


def test_network_configuration_from_the_infrastructure_is_enough() -> None:
    assert (
        rules(fargate_task(), {"serviceName": "a", "launchType": "FARGATE"}, network_configuration=NETWORK)
        == []
    )


def test_network_configuration_with_bridge_mode_is_refused() -> None:
    service = {"serviceName": "a", "networkConfiguration": NETWORK}
    assert rules(ec2_task(), service, launch_type="EC2") == [
        ("service.yaml", "networkConfiguration",
         "a network configuration is only valid with network mode 'awsvpc'; the task definition uses 'bridge'")
    ]  # fmt: skip


def test_run_task_request_is_checked_like_a_service() -> None:
    run_task = {"launchType": "FARGATE", "count": 1}
    assert rules(fargate_task(), run_task) == [
        ("service.yaml", "networkConfiguration",
         "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
    ]  # fmt: skip


# -- execution role --------------------------------------------------------------------------


def no_role_fargate(**container_members: Any) -> dict[str, Any]:
    task = fargate_task(containerDefinitions=[container("web", 80, **container_members)])
    del task["executionRoleArn"]
    return task


FARGATE = {"launch_type": "FARGATE", "network_configuration": NETWORK}
AWSLOGS = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web"}}
ECR_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web:1.0"


def test_awslogs_on_fargate_needs_an_execution_role() -> None:
    assert rules(no_role_fargate(logConfiguration=AWSLOGS), {"serviceName": "a"}, **FARGATE) == [
        ("task.yaml", "containerDefinitions[0].logConfiguration.logDriver",
         "Fargate requires task definition to have execution role ARN to support log driver awslogs.")
    ]  # fmt: skip


def test_private_ecr_image_on_fargate_needs_an_execution_role() -> None:
    assert rules(no_role_fargate(image=ECR_IMAGE), {"serviceName": "a"}, **FARGATE) == [
        ("task.yaml", "containerDefinitions[0].image",
         f"Fargate requires task definition to have execution role ARN to pull the private ECR image '{ECR_IMAGE}'.")
    ]  # fmt: skip


def test_public_images_and_awslogs_on_ec2_need_no_role() -> None:
    task = ec2_task(container("web", 80, image="public.ecr.aws/nginx/nginx:1.27", logConfiguration=AWSLOGS))
    assert rules(task, {"serviceName": "a"}, launch_type="EC2") == []
    task = ec2_task(container("web", 80, image=ECR_IMAGE))
    assert rules(task, {"serviceName": "a"}, launch_type="EC2") == []


@pytest.mark.parametrize("launch_type", ["EC2", "FARGATE"])
def test_secrets_and_registry_credentials_need_a_role_on_any_launch_type(launch_type: str) -> None:
    secrets = [{"name": "DB_PASSWORD", "valueFrom": "arn:aws:ssm:us-east-1:123456789012:parameter/db"}]
    credentials = {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hub"}
    web = container("web", 80, secrets=secrets, repositoryCredentials=credentials)
    task = ec2_task(web, mode="awsvpc", cpu="256", memory="512")
    assert rules(task, {"serviceName": "a"}, launch_type=launch_type, network_configuration=NETWORK) == [
        ("task.yaml", "containerDefinitions[0].secrets",
         "an execution role ARN (executionRoleArn) is required to use secrets"),
        ("task.yaml", "containerDefinitions[0].repositoryCredentials",
         "an execution role ARN (executionRoleArn) is required for private registry authentication (repositoryCredentials)"),
    ]  # fmt: skip


def test_execution_role_from_the_infrastructure_is_enough() -> None:
    task = no_role_fargate(
        logConfiguration=AWSLOGS, image=ECR_IMAGE, secrets=[{"name": "A", "valueFrom": "x"}]
    )
    assert rules(task, {"serviceName": "a"}, execution_role_arn=ROLE, **FARGATE) == []


# -- service registries ---------------------------------------------------------------------

REGISTRY = "arn:aws:servicediscovery:us-east-1:123456789012:service/srv-1"


def registries(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"serviceName": "a", "serviceRegistries": [{"registryArn": REGISTRY, **e} for e in entries]}


def test_at_most_one_service_registry() -> None:
    service = registries(
        {"containerName": "web", "containerPort": 80}, {"containerName": "web", "containerPort": 80}
    )
    assert rules(ec2_task(), service, launch_type="EC2") == [
        ("service.yaml", "serviceRegistries", "at most one service registry per service; got 2")
    ]


def test_registry_container_must_exist() -> None:
    assert rules(ec2_task(), registries({"containerName": "api", "containerPort": 80}), launch_type="EC2") == [
        ("service.yaml", "serviceRegistries[0].containerName",
         "container 'api' is not defined in the task definition (containers: web)")
    ]  # fmt: skip


def test_bridge_registry_needs_container_name_and_port() -> None:
    assert rules(ec2_task(), registries({"port": 80}), launch_type="EC2") == [
        ("service.yaml", "serviceRegistries[0]",
         "network mode 'bridge' needs containerName and containerPort (an SRV record)"),
        ("service.yaml", "serviceRegistries[0].port",
         "port is only used with network mode awsvpc; network mode is 'bridge'"),
    ]  # fmt: skip


def test_awsvpc_registry_takes_port_or_container_not_both() -> None:
    service = registries({"port": 80, "containerName": "web", "containerPort": 80})
    assert rules(ec2_task(mode="awsvpc"), service, launch_type="EC2", network_configuration=NETWORK) == [
        ("service.yaml", "serviceRegistries[0]",
         "give either port or containerName and containerPort, not both (network mode awsvpc)")
    ]  # fmt: skip


@pytest.mark.parametrize("entry", [{}, {"port": 8080}, {"containerName": "web", "containerPort": 80}])
def test_awsvpc_registry_forms_that_work(entry: dict[str, Any]) -> None:
    assert (
        rules(ec2_task(mode="awsvpc"), registries(entry), launch_type="EC2", network_configuration=NETWORK)
        == []
    )


def test_awsvpc_registry_container_name_without_port() -> None:
    found = rules(
        ec2_task(mode="awsvpc"), registries({"containerName": "web"}), network_configuration=NETWORK
    )
    assert found == [
        (
            "service.yaml",
            "serviceRegistries[0]",
            "containerName and containerPort go together; give both or neither",
        )
    ]


def test_registry_port_must_be_a_port_mapping_of_the_container() -> None:
    task = ec2_task(container("web", 80, 443))
    assert rules(task, registries({"containerName": "web", "containerPort": 8080}), launch_type="EC2") == [
        ("service.yaml", "serviceRegistries[0].containerPort",
         "container 'web' has no port mapping for container port 8080 (mapped: 80, 443)")
    ]  # fmt: skip


def test_default_network_mode_on_ec2_is_bridge() -> None:
    task = ec2_task(mode=None)
    assert rules(task, registries({}), launch_type="EC2")[0][2] == (
        "network mode 'bridge' needs containerName and containerPort (an SRV record)"
    )


# -- load balancers and Blue Green target port -----------------------------------------------

TG = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/target1/ac96a1d16"


def test_at_most_five_load_balancers() -> None:
    service = {"serviceName": "a", "loadBalancers": [{"targetGroupArn": f"{TG}{i}"} for i in range(6)]}
    assert rules(ec2_task(), service, launch_type="EC2") == [
        ("service.yaml", "loadBalancers", "at most 5 load balancers (target groups) per service; got 6")
    ]


def test_load_balancer_container_port_must_be_mapped() -> None:
    service = {
        "serviceName": "a",
        "loadBalancers": [{"targetGroupArn": TG, "containerName": "web", "containerPort": 8080}],
    }
    assert rules(ec2_task(), service, launch_type="EC2") == [
        ("service.yaml", "loadBalancers[0].containerPort",
         "container 'web' has no port mapping for container port 8080 (mapped: 80)")
    ]  # fmt: skip


def test_target_port_that_a_container_maps_passes() -> None:
    check_target_port(ec2_task(container("sidecar"), container("web", 8080)), 8080, TG)


def test_target_port_without_a_mapping_fails_with_the_reference_message() -> None:
    with pytest.raises(ConfigError) as caught:
        check_target_port(ec2_task(container("web", 8080)), 80, TG, source="files/task.yaml")
    assert caught.value.problems == [
        Problem("files/task.yaml", "containerDefinitions",
                f"No container definition has port mapping that matches the target port: 80 for target group: {TG}")
    ]  # fmt: skip


# -- DAEMON ----------------------------------------------------------------------------------


def test_daemon_has_no_desired_count() -> None:
    service = {"serviceName": "a", "schedulingStrategy": "DAEMON", "desiredCount": 2}
    assert rules(ec2_task(), service, launch_type="EC2") == [
        ("service.yaml", "desiredCount",
         "a DAEMON service runs one task per container instance and has no desired count; remove it")
    ]  # fmt: skip


def test_daemon_is_not_supported_on_fargate() -> None:
    service = {"serviceName": "a", "schedulingStrategy": "DAEMON", "launchType": "FARGATE"}
    assert rules(fargate_task(), service, network_configuration=NETWORK) == [
        ("service.yaml", "schedulingStrategy", "the DAEMON scheduling strategy is not supported on Fargate")
    ]


def test_rules_with_only_one_manifest() -> None:
    assert rules(None, {"serviceName": "a", "schedulingStrategy": "DAEMON"}) == []
    assert rules(fargate_task(), None) == []
