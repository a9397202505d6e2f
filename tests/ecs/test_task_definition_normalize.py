"""An unchanged task definition is recognised although ECS stored it with its own defaults."""

from __future__ import annotations

from corral.ecs.task_definitions import normalize

REQUEST = {
    "family": "web",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": 256,
    "memory": "512",
    "containerDefinitions": [{"name": "web", "image": "nginx:1.27", "portMappings": [{"containerPort": 80}]}],
}

STORED = {
    "taskDefinitionArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7",
    "revision": 7,
    "status": "ACTIVE",
    "compatibilities": ["EC2", "FARGATE"],
    "requiresAttributes": [{"name": "ecs.capability.task-eni"}],
    "registeredAt": "2026-01-01T00:00:00Z",
    "family": "web",
    "networkMode": "awsvpc",
    "requiresCompatibilities": ["FARGATE"],
    "cpu": "256",
    "memory": "512",
    "volumes": [],
    "placementConstraints": [],
    "containerDefinitions": [
        {
            "name": "web",
            "image": "nginx:1.27",
            "cpu": 0,
            "essential": True,
            "environment": [],
            "mountPoints": [],
            "volumesFrom": [],
            "portMappings": [{"containerPort": 80, "hostPort": 80, "protocol": "tcp"}],
        }
    ],
}


def test_stored_definition_with_ecs_defaults_equals_the_request() -> None:
    assert normalize(STORED) == normalize(REQUEST)


def test_a_new_image_is_a_change() -> None:
    changed = {
        **REQUEST,
        "containerDefinitions": [{**REQUEST["containerDefinitions"][0], "image": "nginx:1.28"}],
    }
    assert normalize(STORED) != normalize(changed)


def test_a_different_memory_size_is_a_change() -> None:
    assert normalize(STORED) != normalize({**REQUEST, "memory": "1024"})
