"""Override order: service < environment < infrastructure < runtime, for variables and
manifests; the infrastructure decides cluster, launch type, network and execution role."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral.config import load_project, render_service

from .helpers import ENVIRONMENT, TASK, service_yaml, write_project

TAGGED_TASK = TASK + "tags:\n  - key: level\n    value: <+serviceVariables.level>\n"
VARIABLES = "      variables:\n        - name: level\n          type: String\n          value: service\n"


def variable(value: str) -> str:
    return f"      variables:\n        - name: level\n          type: String\n          value: {value}\n"


def overrides(value: str, *, indent: str = "  ") -> str:
    return f"{indent}overrides:\n{indent}  variables:\n{indent}    - name: level\n{indent}      type: String\n{indent}      value: {value}\n"


def per_service(value: str, service: str = "web") -> str:
    return (
        f"  serviceOverrides:\n    - serviceRef: {service}\n      variables:\n"
        f"        - name: level\n          type: String\n          value: {value}\n"
    )


ENV_HEAD, INFRA = ENVIRONMENT.split("---\n")


def level(root: Path, **sets: str) -> str:
    rendered = render_service(load_project(root), "web", "dev", "fargate", sets=sets)
    tags = rendered.task_definition.request["tags"]  # type: ignore[union-attr]
    return str(tags[0]["value"])


@pytest.mark.parametrize(
    ("env_extra", "infra_extra", "expected"),
    [
        ("", "", "service"),
        (overrides("environment"), "", "environment"),
        (overrides("environment") + per_service("environment for web"), "", "environment for web"),
        (per_service("environment for api", "api"), "", "service"),
        (
            overrides("environment") + per_service("environment for web"),
            overrides("infrastructure"),
            "infrastructure",
        ),
        (
            per_service("environment for web"),
            overrides("infrastructure") + per_service("infra for web"),
            "infra for web",
        ),
    ],
)
def test_variable_override_order(tmp_path: Path, env_extra: str, infra_extra: str, expected: str) -> None:
    write_project(tmp_path, {
        "service.yaml": service_yaml(variables=VARIABLES),
        "api.yaml": service_yaml(variables=VARIABLES).replace("identifier: web", "identifier: api"),
        "files/web/task.yaml": TAGGED_TASK,
        "environment.yaml": ENV_HEAD + env_extra + "---\n" + INFRA + infra_extra,
    })  # fmt: skip
    assert level(tmp_path) == expected


def test_runtime_set_wins_over_everything(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "service.yaml": service_yaml(variables=VARIABLES),
        "files/web/task.yaml": TAGGED_TASK,
        "environment.yaml": ENV_HEAD + overrides("environment") + "---\n" + INFRA + overrides("infrastructure"),
    })  # fmt: skip
    assert level(tmp_path, **{"serviceVariables.level": "runtime"}) == "runtime"


def manifest_override(path: str) -> str:
    return f"""  overrides:
    manifests:
      - manifest:
          identifier: other_task
          type: EcsTaskDefinition
          spec:
            store:
              type: Harness
              spec:
                files: [{path}]
"""


def test_manifest_override_order(tmp_path: Path) -> None:
    files = {
        "files/env/task.yaml": TASK.replace("family: web", "family: from-environment"),
        "files/infra/task.yaml": TASK.replace("family: web", "family: from-infrastructure"),
    }
    write_project(
        tmp_path,
        {**files, "environment.yaml": ENV_HEAD + manifest_override("env/task.yaml") + "---\n" + INFRA},
    )
    family = render_service(load_project(tmp_path), "web", "dev", "fargate").task_definition.request["family"]  # type: ignore[union-attr]
    assert family == "from-environment"
    write_project(tmp_path, {
        "environment.yaml": ENV_HEAD + manifest_override("env/task.yaml") + "---\n" + INFRA
        + manifest_override("infra/task.yaml"),
    })  # fmt: skip
    rendered = render_service(load_project(tmp_path), "web", "dev", "fargate")
    assert rendered.task_definition.request["family"] == "from-infrastructure"  # type: ignore[union-attr]
    assert rendered.task_definition.source == "files/infra/task.yaml"  # type: ignore[union-attr]


def test_infrastructure_decides_cluster_launch_type_network_and_role(tmp_path: Path) -> None:
    write_project(tmp_path, {"files/web/task.yaml": TASK})
    rendered = render_service(load_project(tmp_path), "web", "dev", "fargate")
    service = rendered.service_definition.request  # type: ignore[union-attr]
    assert service["cluster"] == "dev-cluster"
    assert service["launchType"] == "FARGATE"
    assert service["networkConfiguration"]["awsvpcConfiguration"] == {
        "subnets": ["subnet-infra"],
        "securityGroups": ["sg-infra"],
        "assignPublicIp": "DISABLED",
    }
    task = rendered.task_definition.request  # type: ignore[union-attr]
    assert task["executionRoleArn"] == "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


def test_explicit_execution_role_is_kept(tmp_path: Path) -> None:
    own = "arn:aws:iam::448000000317:role/ecsTaskExecutionRole"
    write_project(tmp_path, {"files/web/task.yaml": TASK + f"executionRoleArn: {own}\n"})
    rendered = render_service(load_project(tmp_path), "web", "dev", "fargate")
    assert rendered.task_definition.request["executionRoleArn"] == own  # type: ignore[union-attr]


def test_partial_infrastructure_network_keeps_the_rest(tmp_path: Path) -> None:
    infra = INFRA.replace("      securityGroups: [sg-infra]\n      assignPublicIp: DISABLED\n", "")
    write_project(tmp_path, {"environment.yaml": ENV_HEAD + "---\n" + infra})
    rendered = render_service(load_project(tmp_path), "web", "dev", "fargate")
    awsvpc = rendered.service_definition.request["networkConfiguration"]["awsvpcConfiguration"]  # type: ignore[union-attr]
    assert awsvpc == {
        "subnets": ["subnet-infra"],
        "securityGroups": ["sg-service"],
        "assignPublicIp": "ENABLED",
    }
