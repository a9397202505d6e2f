"""The example projects validate and render, with the seeds' examples in them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from corral.config import deployment_targets, load_project, render_service

from .helpers import EXAMPLES, corral

PROJECTS = sorted(path.parent.name for path in EXAMPLES.glob("*/corral.yaml"))


def test_there_are_examples() -> None:
    assert {"ecs-tutorial", "firstgen"} <= set(PROJECTS)


@pytest.mark.parametrize("name", PROJECTS)
def test_example_validates(name: str) -> None:
    result = corral("validate", "--project", str(EXAMPLES / name))
    assert result.exit_code == 0, result.output
    assert result.output.startswith("ok: ")
    # after the summary, only the runtime inputs a run will ask for (indented, one a line)
    _summary, *rest = result.output.strip().splitlines()
    assert not rest or (rest[0].startswith("runtime inputs a run will ask for") and rest[1:])
    assert all(line.startswith("  ") for line in rest[1:])


@pytest.mark.parametrize("name", PROJECTS)
def test_every_service_renders_where_it_can_go(name: str) -> None:
    project = load_project(EXAMPLES / name)
    for service, targets in deployment_targets(project).items():
        assert targets, service
        for env, infra in targets:
            rendered = render_service(project, service, env, infra)
            assert rendered.task_definition is not None
            assert rendered.task_definition.request["containerDefinitions"][0]["image"] == rendered.image


def test_validate_as_a_command() -> None:
    """The installed entry point, as a user runs it (run from inside the project)."""
    done = subprocess.run(
        [sys.executable, "-m", "corral.cli", "validate"],
        cwd=EXAMPLES / "ecs-tutorial" / "files",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("ok: ECS Tutorial: ")


def test_tutorial_json_and_yaml_task_definitions_are_the_same() -> None:
    project = load_project(EXAMPLES / "ecs-tutorial")
    from_yaml = render_service(project, "ecs_tutorial", "ecs_tutorial", "sandbox")
    from_json = render_service(project, "ecs_tutorial_json", "ecs_tutorial", "sandbox")
    assert from_yaml.task_definition and from_json.task_definition
    assert from_yaml.task_definition.request == from_json.task_definition.request
    assert from_json.task_definition.source == "files/account/ECS Tutorial/RegisterTaskDefinitionRequest.json"


def test_tutorial_rolling_service() -> None:
    rendered = render_service(
        load_project(EXAMPLES / "ecs-tutorial"), "ecs_tutorial", "ecs_tutorial", "sandbox"
    )
    task = rendered.task_definition.request  # type: ignore[union-attr]
    assert rendered.image == "registry.hub.docker.com/library/nginx:perl"
    assert task["family"] == "fargate-task-definition"
    assert "ipcMode" not in task  # nulls are dropped
    service = rendered.service_definition.request  # type: ignore[union-attr]
    assert service["cluster"] == "ecs-tutorial"
    # the infrastructure's network settings replace the manifest's
    assert service["networkConfiguration"]["awsvpcConfiguration"]["subnets"] == ["subnet-0a1b2c3d4e5f60718"]
    # autoscaling requests in boto3's casing
    assert rendered.scalable_targets[0].request["MinCapacity"] == 1
    assert rendered.scaling_policies[0].request["PolicyName"] == "P1"
    target_value = rendered.scaling_policies[0].request["TargetTrackingScalingPolicyConfiguration"][
        "TargetValue"
    ]
    assert target_value == 60.0


def test_tutorial_blue_green_keeps_the_target_group_placeholder() -> None:
    rendered = render_service(
        load_project(EXAMPLES / "ecs-tutorial"), "ecs_bluegreen", "ecs_tutorial", "sandbox"
    )
    balancers = rendered.service_definition.request["loadBalancers"]  # type: ignore[union-attr]
    assert balancers == [
        {"targetGroupArn": "<+targetGroupArn>", "containerName": "nginx", "containerPort": 80}
    ]


def test_tutorial_run_task_request() -> None:
    rendered = render_service(
        load_project(EXAMPLES / "ecs-tutorial"), "ecs_runtask", "ecs_tutorial", "sandbox"
    )
    request = rendered.run_task_request.request  # type: ignore[union-attr]
    assert (
        request["count"] == 1 and request["cluster"] == "ecs-tutorial" and request["launchType"] == "FARGATE"
    )


def test_firstgen_placeholders_are_filled() -> None:
    project = load_project(EXAMPLES / "firstgen")
    rendered = render_service(project, "nginx_discovery", "staging", "fargate")
    task = rendered.task_definition.request  # type: ignore[union-attr]
    container = task["containerDefinitions"][0]
    assert container["image"] == "registry.hub.docker.com/library/nginx:stable-perl"
    assert container["name"] == "library_nginx_stable-perl"
    assert task["executionRoleArn"] == "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
    # ${serviceVariable.containerPort} unquoted in JSON, overridden to 80 on this infrastructure
    assert container["portMappings"][0]["containerPort"] == 80
    registry = rendered.service_definition.request["serviceRegistries"][0]  # type: ignore[union-attr]
    assert registry["containerName"] == "library_nginx_stable-perl"
    assert registry["containerPort"] == 80
    # FirstGen service definitions have no serviceName: the service's identifier is used
    assert rendered.service_definition.request["serviceName"] == "nginx_discovery"  # type: ignore[union-attr]


def test_firstgen_tags_use_service_variables_after_overrides() -> None:
    project = load_project(EXAMPLES / "firstgen")
    staging = render_service(project, "nginx_replica", "staging", "ec2")
    production = render_service(project, "nginx_replica", "production", "ec2")
    assert staging.task_definition.request["tags"][-1] == {"key": "team", "value": "staging"}  # type: ignore[union-attr]
    assert production.task_definition.request["tags"][-1] == {"key": "team", "value": "web"}  # type: ignore[union-attr]
    assert staging.task_definition.request["tags"][0] == {"key": "4713abcd", "value": "þþÿÿ"}  # type: ignore[union-attr]
    # staging replaces the service definition with the tagged one
    assert staging.service_definition.request["tags"] == [{"key": "doc", "value": "test"}]  # type: ignore[union-attr]
    assert "tags" not in production.service_definition.request  # type: ignore[union-attr]


def test_firstgen_private_registry() -> None:
    rendered = render_service(load_project(EXAMPLES / "firstgen"), "nginx_private", "production", "ec2")
    container = rendered.task_definition.request["containerDefinitions"][0]  # type: ignore[union-attr]
    assert container["image"] == "registry.example.internal/team/nginx:1.25"
    assert container["repositoryCredentials"]["credentialsParameter"].startswith("arn:aws:secretsmanager:")


def test_render_command_prints_json() -> None:
    result = corral(
        "render", "--project", str(EXAMPLES / "firstgen"), "--service", "nginx_daemon",
        "--env", "production", "--infra", "ec2", "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["serviceDefinition"]["request"]["schedulingStrategy"] == "DAEMON"
    assert data["taskDefinition"]["source"] == "files/account/FirstGen/taskdef-ec2.json"
