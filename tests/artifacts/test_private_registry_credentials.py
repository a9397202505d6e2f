"""Private registry credentials in a task definition (`repositoryCredentials`) need an execution
role: the task definition's `executionRoleArn` or the infrastructure's. The rule lives in
corral.manifests.check_ecs_rules; these tests hold it through a whole render."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral.config import load_project, render_service
from corral.errors import ConfigError

from .projects import registry_connector, service, source

ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"
CREDENTIALS = "arn:aws:secretsmanager:us-east-1:123456789012:secret:registry-AbCdEf"

MANIFESTS = """      manifests:
        - manifest:
            identifier: task_def
            type: EcsTaskDefinition
            spec:
              store:
                type: Harness
                spec:
                  files: [task.yaml]
"""


def task(*, role: bool, credentials: bool = True) -> str:
    text = "family: web\nnetworkMode: bridge\nrequiresCompatibilities: [EC2]\n"
    if role:
        text += f"executionRoleArn: {ROLE}\n"
    text += "containerDefinitions:\n  - name: web\n    image: <+artifact.image>\n    memory: 256\n"
    if credentials:
        text += f"    repositoryCredentials:\n      credentialsParameter: {CREDENTIALS}\n"
    return text


def environment(*, role: bool) -> str:
    text = (
        "environment:\n  name: Dev\n  identifier: dev\n  type: PreProduction\n---\n"
        "infrastructureDefinition:\n  name: EC2\n  identifier: ec2\n  environmentRef: dev\n  type: ECS\n"
        "  spec:\n    connectorRef: aws\n    region: us-east-1\n    cluster: dev\n    launchType: EC2\n"
    )
    return text + (f"    executionRoleArn: {ROLE}\n" if role else "")


def project_at(tmp_path: Path, *, task_role: bool, infra_role: bool, credentials: bool = True) -> Path:
    aws = "connector:\n  name: AWS\n  identifier: aws\n  type: Aws\n  spec:\n    credential:\n      type: InheritFromDelegate\n"
    files = {
        "corral.yaml": "project:\n  name: private\n",
        "connectors.yaml": registry_connector("https://registry.example.internal") + "---\n" + aws,
        "environment.yaml": environment(role=infra_role),
        "service.yaml": service(source(imagePath="team/web", tag="1.4")).replace(
            "    spec:\n      artifacts:", "    spec:\n" + MANIFESTS + "      artifacts:"
        ),
        "files/task.yaml": task(role=task_role, credentials=credentials),
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_repository_credentials_without_an_execution_role_are_refused(tmp_path: Path) -> None:
    project = load_project(project_at(tmp_path, task_role=False, infra_role=False))
    with pytest.raises(ConfigError) as caught:
        render_service(project, "web", "dev", "ec2")
    assert [str(p) for p in caught.value.problems] == [
        "files/task.yaml: containerDefinitions[0].repositoryCredentials: an execution role ARN "
        "(executionRoleArn) is required for private registry authentication (repositoryCredentials)"
    ]


@pytest.mark.parametrize(("task_role", "infra_role"), [(True, False), (False, True)])
def test_an_execution_role_from_the_task_or_the_infrastructure(
    tmp_path: Path, task_role: bool, infra_role: bool
) -> None:
    project = load_project(project_at(tmp_path, task_role=task_role, infra_role=infra_role))
    rendered = render_service(project, "web", "dev", "ec2")
    request = rendered.task_definition.request  # type: ignore[union-attr]
    assert request["executionRoleArn"] == ROLE
    container = request["containerDefinitions"][0]
    assert container["repositoryCredentials"] == {"credentialsParameter": CREDENTIALS}
    assert container["image"] == "registry.example.internal/team/web:1.4"


def test_no_credentials_no_role_needed(tmp_path: Path) -> None:
    project = load_project(project_at(tmp_path, task_role=False, infra_role=False, credentials=False))
    assert "executionRoleArn" not in render_service(project, "web", "dev", "ec2").task_definition.request  # type: ignore[union-attr]
