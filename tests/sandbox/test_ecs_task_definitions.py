"""Task definitions: revisions, describe by any reference, listing, deregistering, and ECS's checks."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox

from .test_ecs_support import error_of

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole"


@pytest.fixture
def ecs(sandbox: Sandbox) -> Any:
    return sandbox.client("ecs")


def fargate(ecs: Any, family: str = "web", **changes: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "family": family,
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "256",
        "memory": "512",
        "containerDefinitions": [{"name": "app", "image": "web:1", "portMappings": [{"containerPort": 80}]}],
    }
    params.update(changes)
    return ecs.register_task_definition(**params)


def refused(ecs: Any, **changes: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        fargate(ecs, **changes)
    return error_of(caught)


def test_revisions_and_what_describe_returns(ecs: Any) -> None:
    first = fargate(ecs, tags=[{"key": "team", "value": "web"}])
    definition = first["taskDefinition"]
    assert definition["taskDefinitionArn"] == f"arn:aws:ecs:us-east-1:{ACCOUNT}:task-definition/web:1"
    assert (definition["revision"], definition["status"]) == (1, "ACTIVE")
    assert definition["compatibilities"] == ["EC2", "FARGATE"]
    assert definition["requiresCompatibilities"] == ["FARGATE"]
    assert (definition["cpu"], definition["memory"]) == ("256", "512")
    assert definition["registeredAt"] is not None
    assert first["tags"] == [{"key": "team", "value": "web"}]
    container = definition["containerDefinitions"][0]
    assert container["essential"] is True
    assert container["portMappings"] == [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}]

    second = fargate(ecs, cpu="0.5 vCPU", memory="1 GB")["taskDefinition"]
    assert (second["revision"], second["cpu"], second["memory"]) == (2, "512", "1024")
    for reference in ("web", "web:2", second["taskDefinitionArn"]):
        assert ecs.describe_task_definition(taskDefinition=reference)["taskDefinition"]["revision"] == 2
    assert ecs.describe_task_definition(taskDefinition="web:1")["taskDefinition"]["revision"] == 1
    assert "tags" not in ecs.describe_task_definition(taskDefinition="web:1")
    tagged = ecs.describe_task_definition(taskDefinition="web:1", include=["TAGS"])
    assert tagged["tags"] == [{"key": "team", "value": "web"}]
    with pytest.raises(ClientError) as missing:
        ecs.describe_task_definition(taskDefinition="web:9")
    assert error_of(missing) == ("ClientException", "Unable to describe task definition.")


def test_deregister_makes_a_revision_inactive(ecs: Any) -> None:
    fargate(ecs)
    fargate(ecs)
    gone = ecs.deregister_task_definition(taskDefinition="web:2")["taskDefinition"]
    assert gone["status"] == "INACTIVE" and gone["deregisteredAt"] is not None
    assert ecs.describe_task_definition(taskDefinition="web")["taskDefinition"]["revision"] == 1
    assert ecs.describe_task_definition(taskDefinition="web:2")["taskDefinition"]["status"] == "INACTIVE"
    assert ecs.list_task_definitions(status="INACTIVE")["taskDefinitionArns"][0].endswith("web:2")
    with pytest.raises(ClientError) as inactive:
        ecs.run_task(taskDefinition="web:2", launchType="FARGATE")
    assert error_of(inactive)[0] == "ClientException"


def test_listing_filters_sorts_and_pages(ecs: Any) -> None:
    for family in ("web", "api", "web", "worker", "web"):
        fargate(ecs, family)
    everything = ecs.list_task_definitions()["taskDefinitionArns"]
    assert [a.rsplit("/", 1)[1] for a in everything] == ["api:1", "web:1", "web:2", "web:3", "worker:1"]
    newest_first = ecs.list_task_definitions(familyPrefix="web", sort="DESC")["taskDefinitionArns"]
    assert [a.rsplit(":", 1)[1] for a in newest_first] == ["3", "2", "1"]
    page = ecs.list_task_definitions(maxResults=2)
    assert len(page["taskDefinitionArns"]) == 2 and page["nextToken"]
    rest = ecs.list_task_definitions(maxResults=2, nextToken=page["nextToken"])
    assert rest["taskDefinitionArns"] == everything[2:4]
    paged = [
        a
        for p in ecs.get_paginator("list_task_definitions").paginate(PaginationConfig={"PageSize": 2})
        for a in p["taskDefinitionArns"]
    ]
    assert paged == everything
    ecs.deregister_task_definition(taskDefinition="api:1")
    assert ecs.list_task_definition_families()["families"] == ["api", "web", "worker"]
    assert ecs.list_task_definition_families(status="ACTIVE")["families"] == ["web", "worker"]
    assert ecs.list_task_definition_families(status="INACTIVE")["families"] == ["api"]
    assert ecs.list_task_definition_families(familyPrefix="w")["families"] == ["web", "worker"]


@pytest.mark.parametrize(
    ("cpu", "memory", "valid"),
    [
        ("256", "512", True),
        ("256", "4096", False),
        ("512", "4096", True),
        ("1024", "1024", False),
        ("4096", "30720", True),
        ("8192", "20480", True),
        ("8192", "18432", False),
        ("16384", "122880", True),
        ("300", "1024", False),
    ],
)
def test_fargate_sizes(ecs: Any, cpu: str, memory: str, valid: bool) -> None:
    if valid:
        assert fargate(ecs, cpu=cpu, memory=memory)["taskDefinition"]["cpu"] == cpu
    else:
        assert refused(ecs, cpu=cpu, memory=memory) == (
            "ClientException",
            "No Fargate configuration exists for given values.",
        )


def test_fargate_requires_awsvpc_and_task_size(ecs: Any) -> None:
    code, message = refused(ecs, networkMode="bridge")
    assert code == "ClientException" and "awsvpc" in message
    assert refused(ecs, cpu="")[1] == "Fargate requires that 'cpu' be defined at the task level."


def test_execution_role_requirements(ecs: Any) -> None:
    logs = {"logDriver": "awslogs", "options": {"awslogs-group": "/ecs/web", "awslogs-region": "us-east-1"}}
    container = {"name": "app", "image": "web:1", "logConfiguration": logs}
    assert refused(ecs, containerDefinitions=[container]) == (
        "ClientException",
        "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
    )
    assert (
        fargate(ecs, containerDefinitions=[container], executionRoleArn=ROLE)["taskDefinition"][
            "executionRoleArn"
        ]
        == ROLE
    )
    secret = {
        "name": "app",
        "image": "web:1",
        "secrets": [{"name": "DB", "valueFrom": "arn:aws:ssm:us-east-1:1:parameter/db"}],
    }
    code, message = refused(ecs, containerDefinitions=[secret])
    assert code == "ClientException" and "executionRoleArn" in message
    private = {
        "name": "app",
        "image": "private/web:1",
        "repositoryCredentials": {"credentialsParameter": "arn:aws:secretsmanager:us-east-1:1:secret:x"},
    }
    code, message = refused(ecs, containerDefinitions=[private])
    assert code == "ClientException" and "executionRoleArn" in message
    with pytest.raises(ClientError) as on_ec2:
        ecs.register_task_definition(family="ec2", containerDefinitions=[{**secret, "memory": 128}])
    assert "executionRoleArn" in error_of(on_ec2)[1], "secrets need the role on every launch type"


def test_container_checks(ecs: Any) -> None:
    with pytest.raises(ClientError) as no_memory:
        ecs.register_task_definition(family="ec2", containerDefinitions=[{"name": "app", "image": "web:1"}])
    assert error_of(no_memory) == (
        "ClientException",
        "Invalid setting for container 'app'. At least one of 'memory' or 'memoryReservation' must be specified.",
    )
    mismatch = {"name": "app", "image": "web:1", "portMappings": [{"containerPort": 80, "hostPort": 8080}]}
    assert "host ports and container ports" in refused(ecs, containerDefinitions=[mismatch])[1]
    twice = [{"name": "app", "image": "web:1"}, {"name": "app", "image": "web:2"}]
    assert "Duplicate container name" in refused(ecs, containerDefinitions=twice)[1]
    bad_check = {"name": "app", "image": "web:1", "healthCheck": {"command": ["CMD", "true"], "interval": 1}}
    assert "interval" in refused(ecs, containerDefinitions=[bad_check])[1]
    checked = {"name": "app", "image": "web:1", "healthCheck": {"command": ["CMD", "true"]}}
    stored = fargate(ecs, containerDefinitions=[checked])["taskDefinition"]["containerDefinitions"][0][
        "healthCheck"
    ]
    assert stored == {"command": ["CMD", "true"], "interval": 30, "timeout": 5, "retries": 3}
