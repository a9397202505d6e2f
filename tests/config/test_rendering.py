"""render_service: runtime inputs, --set values, secrets, stores, and what it refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from dulwich import porcelain
from dulwich.repo import Repo

from corral.config import load_project, render_service
from corral.errors import ConfigError
from corral.manifests.service_rendering import RenderedService

from .helpers import SERVICE_DEF, TASK, corral, service_yaml, write_project


def render(root: Path, **kwargs: Any) -> RenderedService:
    return render_service(load_project(root), "web", "dev", "fargate", **kwargs)


def problems(root: Path, **kwargs: Any) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        render(root, **kwargs)
    return [str(p) for p in caught.value.problems]


TAG_PATH = "service.serviceDefinition.spec.artifacts.primary.sources[0].spec.tag"


def test_runtime_input_needs_a_value(tmp_path: Path) -> None:
    write_project(tmp_path, {"service.yaml": service_yaml(tag="<+input>")})
    assert problems(tmp_path) == [
        f"service.yaml:33: {TAG_PATH}: missing required input: give --input {TAG_PATH}=VALUE"
    ]


@pytest.mark.parametrize("key", [TAG_PATH, "spec.tag", "tag"])
def test_runtime_input_by_path_or_unique_tail(tmp_path: Path, key: str) -> None:
    write_project(tmp_path, {"service.yaml": service_yaml(tag="<+input>")})
    assert render(tmp_path, inputs={key: "1.27"}).image == "registry.hub.docker.com/library/nginx:1.27"


def test_runtime_input_default_and_allowed_values(tmp_path: Path) -> None:
    write_project(
        tmp_path, {"service.yaml": service_yaml(tag="<+input>.default(1.24).allowedValues(1.24,1.25)")}
    )
    assert render(tmp_path).image.endswith(":1.24")  # type: ignore[union-attr]
    assert render(tmp_path, inputs={"tag": "1.25"}).image.endswith(":1.25")  # type: ignore[union-attr]
    shown = problems(tmp_path, inputs={"tag": "9"})
    assert any("'9' is not one of the allowed values: 1.24, 1.25" in line for line in shown), shown


def test_manifest_runtime_inputs(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {
            "files/web/service.yaml": SERVICE_DEF.replace(
                "desiredCount: 1", "desiredCount: <+input>.default(2)"
            )
        },
    )
    assert render(tmp_path).service_definition.request["desiredCount"] == 2  # type: ignore[union-attr]
    rendered = render(tmp_path, inputs={"service_def.desiredCount": 3})
    assert rendered.service_definition.request["desiredCount"] == 3  # type: ignore[union-attr]
    assert render(tmp_path, inputs={"desiredCount": 4}).service_definition.request["desiredCount"] == 4  # type: ignore[union-attr]


def test_unknown_input_is_reported(tmp_path: Path) -> None:
    write_project(tmp_path)
    shown = problems(tmp_path, inputs={"replicas": 3})
    assert shown == [
        "--input: replicas: no runtime input at this path: nothing in this service, its manifests, "
        "environment or infrastructure is <+input>"
    ]


def test_set_artifact_tag_and_pipeline_values(tmp_path: Path) -> None:
    task = TASK + "tags:\n  - key: build\n    value: <+pipeline.sequenceId>\n"
    write_project(tmp_path, {"files/web/task.yaml": task})
    kept = render(tmp_path)
    assert kept.task_definition.request["tags"] == [{"key": "build", "value": "<+pipeline.sequenceId>"}]  # type: ignore[union-attr]
    rendered = render(tmp_path, sets={"artifact.tag": "1.26", "pipeline.sequenceId": 7})
    assert rendered.image == "registry.hub.docker.com/library/nginx:1.26"
    assert rendered.task_definition.request["tags"] == [{"key": "build", "value": "7"}]  # type: ignore[union-attr]


def test_expression_problems_name_file_path_and_expression(tmp_path: Path) -> None:
    task = TASK.replace("containerPort: 80", "containerPort: <+serviceVariables.port>").replace(
        "essential: true", "essential: <+env.nme == 'dev'>"
    )
    write_project(tmp_path, {"files/web/task.yaml": task})
    assert problems(tmp_path) == [
        "files/web/task.yaml: containerDefinitions[0].essential: unresolved expression <+env.nme == 'dev'> (no value for env.nme) (line 9, column 16)",
        "files/web/task.yaml: containerDefinitions[0].portMappings[0].containerPort: unresolved expression <+serviceVariables.port> (line 11, column 24)",
    ]


SECRET = """secret:
  name: DB password
  identifier: db_password
  type: SecretText
  spec:
    secretManagerIdentifier: env
    valueType: Reference
    value: CORRAL_TEST_DB_PASSWORD
"""
SECRET_TASK = TASK.replace(
    "    essential: true\n",
    '    essential: true\n    environment:\n      - name: DB_PASSWORD\n        value: <+secrets.getValue("db_password")>\n',
)


def test_secret_values_are_rendered_and_remembered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"secret.yaml": SECRET, "files/web/task.yaml": SECRET_TASK})
    monkeypatch.setenv("CORRAL_TEST_DB_PASSWORD", "s3cr3t-value")
    rendered = render(tmp_path)
    environment = rendered.task_definition.request["containerDefinitions"][0]["environment"]  # type: ignore[union-attr]
    assert environment == [{"name": "DB_PASSWORD", "value": "s3cr3t-value"}]
    assert rendered.used_secrets == {"s3cr3t-value"}
    printed = corral(
        "render", "--project", str(tmp_path), "--service", "web", "--env", "dev", "--infra", "fargate"
    )
    assert printed.exit_code == 0, printed.output
    assert "s3cr3t-value" not in printed.output and "value: '**************'" in printed.output


def test_secret_that_cannot_be_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_project(tmp_path, {"secret.yaml": SECRET, "files/web/task.yaml": SECRET_TASK})
    monkeypatch.delenv("CORRAL_TEST_DB_PASSWORD", raising=False)
    shown = problems(tmp_path)
    assert len(shown) == 1
    assert shown[0].startswith("files/web/task.yaml: containerDefinitions[0].environment[0].value: ")
    assert (
        "secret.yaml:8: secret.spec.value: environment variable CORRAL_TEST_DB_PASSWORD is not set"
        in shown[0]
    )
    # validation checks the secret exists without reading it
    assert corral("validate", "--project", str(tmp_path)).exit_code == 0


def inline_service(content: str) -> str:
    return service_yaml().replace(
        "                type: Harness\n                spec:\n                  files: [web/task.yaml]",
        "                type: Inline\n                spec:\n                  content:" + content,
    )


def test_inline_store_mapping_and_text(tmp_path: Path) -> None:
    mapping = "\n" + "".join(f"                    {line}\n" for line in TASK.splitlines())
    write_project(tmp_path, {"service.yaml": inline_service(mapping)})
    rendered = render(tmp_path)
    assert rendered.task_definition.request["family"] == "web"  # type: ignore[union-attr]
    assert rendered.task_definition.source == "service.yaml:15 (inline task_def)"  # type: ignore[union-attr]
    text = " |\n" + "".join(
        f"                    {line}\n" for line in TASK.replace("web", "web-text", 1).splitlines()
    )
    write_project(tmp_path, {"service.yaml": inline_service(text)})
    assert render(tmp_path).task_definition.request["family"] == "web-text"  # type: ignore[union-attr]


def git_repo(path: Path, files: dict[str, str]) -> Repo:
    repo = Repo.init(str(path), mkdir=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
        porcelain.add(repo, [str(path / name)])
    porcelain.commit(repo, message=b"manifests", author=b"t <t@example.com>", committer=b"t <t@example.com>")
    return repo


GIT_CONNECTOR = (
    "connector:\n  name: Repo\n  identifier: repo\n  type: Git\n  spec:\n    url: ./repo\n    type: Http\n"
)


def git_service(fetch: str) -> str:
    return service_yaml().replace(
        "                type: Harness\n                spec:\n                  files: [web/task.yaml]",
        f"                type: Git\n                spec:\n                  connectorRef: repo\n{fetch}"
        "                  paths: [ecs/task.yaml]",
    )


def test_git_store_branch_and_commit(tmp_path: Path) -> None:
    repo = git_repo(tmp_path / "repo", {"ecs/task.yaml": TASK.replace("family: web", "family: from-git")})
    branch = repo.refs.get_symrefs()[b"HEAD"].decode().removeprefix("refs/heads/")
    sha = repo.head().decode()
    write_project(
        tmp_path,
        {"repo.yaml": GIT_CONNECTOR, "service.yaml": git_service(f"                  branch: {branch}\n")},
    )
    rendered = render(tmp_path)
    assert rendered.task_definition.request["family"] == "from-git"  # type: ignore[union-attr]
    assert rendered.task_definition.source.startswith("git:")  # type: ignore[union-attr]
    fetch = f"                  gitFetchType: Commit\n                  commitId: {sha}\n"
    write_project(tmp_path, {"service.yaml": git_service(fetch)})
    assert render(tmp_path).task_definition.request["family"] == "from-git"  # type: ignore[union-attr]


def test_git_store_unknown_branch(tmp_path: Path) -> None:
    git_repo(tmp_path / "repo", {"ecs/task.yaml": TASK})
    write_project(
        tmp_path,
        {"repo.yaml": GIT_CONNECTOR, "service.yaml": git_service("                  branch: release\n")},
    )
    shown = problems(tmp_path)
    assert len(shown) == 1 and shown[0].startswith("git:repo") and "branch 'release' not found" in shown[0], (
        shown
    )


def test_validate_offline_skips_git(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {"repo.yaml": GIT_CONNECTOR, "service.yaml": git_service("                  branch: main\n")},
    )
    assert corral("validate", "--project", str(tmp_path)).exit_code == 1  # no repository there
    result = corral("validate", "--project", str(tmp_path), "--offline")
    assert result.exit_code == 0, result.output
    assert "1 Git/S3 manifests not fetched (--offline)" in result.output


S3_CONNECTOR = """connector:
  name: Sandbox
  identifier: sandbox
  type: Aws
  spec:
    credential:
      type: ManualConfig
      spec:
        accessKey: test
        secretKeyRef: sandbox_secret
      region: us-east-1
    endpointUrl: {endpoint}
---
secret:
  name: Sandbox secret key
  identifier: sandbox_secret
  type: SecretText
  spec:
    value: CORRAL_TEST_SANDBOX_SECRET
"""


def test_s3_store(tmp_path: Path, sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    s3 = sandbox.client("s3")
    s3.create_bucket(Bucket="manifests")
    s3.put_object(
        Bucket="manifests", Key="web/task.yaml", Body=TASK.replace("family: web", "family: from-s3").encode()
    )
    monkeypatch.setenv("CORRAL_TEST_SANDBOX_SECRET", "test")
    service = service_yaml().replace(
        "                type: Harness\n                spec:\n                  files: [web/task.yaml]",
        "                type: S3\n                spec:\n                  connectorRef: sandbox\n"
        "                  region: us-east-1\n                  bucketName: manifests\n                  paths: [web/task.yaml]",
    )
    write_project(
        tmp_path, {"s3.yaml": S3_CONNECTOR.format(endpoint=sandbox.endpoint_url), "service.yaml": service}
    )
    rendered = render(tmp_path)
    assert rendered.task_definition.request["family"] == "from-s3"  # type: ignore[union-attr]
    assert rendered.task_definition.source == "s3://manifests/web/task.yaml"  # type: ignore[union-attr]


def test_task_definition_arn_instead_of_a_manifest(tmp_path: Path) -> None:
    arn = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"
    service = service_yaml().replace(
        "      manifests:\n        - manifest:\n            identifier: task_def\n            type: EcsTaskDefinition\n"
        "            spec:\n              store:\n                type: Harness\n                spec:\n"
        "                  files: [web/task.yaml]\n",
        f"      ecsTaskDefinitionArn: {arn}\n      manifests:\n",
    )
    write_project(tmp_path, {"service.yaml": service})
    rendered = render(tmp_path)
    assert rendered.task_definition is None and rendered.task_definition_arn == arn
    assert rendered.to_dict()["taskDefinitionArn"] == arn


def test_tag_regex_needs_a_tag(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        {"service.yaml": service_yaml(tag='"1.25"').replace('tag: "1.25"', "tagRegex: ^1[.]2[0-9]$")},
    )
    shown = problems(tmp_path)
    assert shown == [
        "service.yaml:33: service.serviceDefinition.spec.artifacts.primary.sources[0].spec.tagRegex: picking a "
        "tag by regex needs a registry lookup; give the tag: --set artifact.tag=TAG"
    ]
    assert render(tmp_path, sets={"artifact.tag": "1.27"}).image.endswith("nginx:1.27")  # type: ignore[union-attr]


def test_unknown_service_environment_or_infrastructure(tmp_path: Path) -> None:
    write_project(tmp_path)
    with pytest.raises(ConfigError) as caught:
        render_service(load_project(tmp_path), "api", "prod", "x")
    assert [str(p) for p in caught.value.problems] == [
        "--service: api: service 'api' not found; the project has web",
        "--env: prod: environment 'prod' not found; the project has dev",
    ]
