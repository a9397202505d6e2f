"""A context like the one a Corral ECS stage builds, for the expression tests."""

from __future__ import annotations

from typing import Any

import pytest

from corral.expressions import ExpressionContext

SECRETS = {"dockerPassword": "hunter2-very-secret", "apiToken": "tok-123"}


def values() -> dict[str, Any]:
    return {
        "artifacts": {
            "primary": {
                "image": "registry.hub.docker.com/library/nginx:stable-perl",
                "imagePath": "library/nginx",
                "tag": "stable-perl",
                "digest": "sha256:abc123",
                "metadata": {"image": "registry.hub.docker.com/library/nginx:stable-perl", "registry": "hub"},
            }
        },
        "serviceVariables": {"containerPort": 8080, "memory": 512, "team": "payments", "debug": "false"},
        "service": {"name": "checkout", "identifier": "checkout"},
        "env": {
            "name": "prod",
            "identifier": "prod",
            "type": "Production",
            "variables": {"domain": "example.com"},
        },
        "infra": {"cluster": "main", "region": "eu-west-1"},
        "pipeline": {"executionId": "exec-42", "sequenceId": 7, "name": "Deploy checkout", "variables": {}},
        "stage": {"name": "deploy", "identifier": "deploy"},
        "execution": {"steps": {"rolling": {"output": {"serviceName": "checkout-svc"}}}},
        "ports": [80, 443],
        "nothing": None,
        "flags": {"enabled": True},
    }


def resolve_secret(identifier: str) -> str:
    return SECRETS[identifier]


@pytest.fixture
def ctx() -> ExpressionContext:
    return ExpressionContext(values=values(), secrets=resolve_secret)
