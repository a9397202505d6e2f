"""Finding and loading a project: files anywhere, several documents per file, problems with
file, line and YAML path, every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral.config import Service, find_project_root, load_project, read_project
from corral.config.settings import ProjectNotFound, project_root
from corral.errors import ConfigError

from .helpers import write_project


def messages(root: Path) -> list[str]:
    _, problems = read_project(root)
    return [str(p) for p in problems]


def test_entities_in_any_file_and_folder(tmp_path: Path) -> None:
    write_project(tmp_path)
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "more.yml").write_text(
        "environment:\n  name: QA\n  identifier: qa\n  type: PreProduction\n---\n"
        "environment:\n  name: Prod\n  identifier: prod\n  type: Production\n---\n"
    )
    project = load_project(tmp_path)
    assert set(project.environments) == {"dev", "qa", "prod"}
    assert project.environments["prod"].where() == "deep/er/more.yml:6"
    assert isinstance(project.services["web"], Service)


def test_files_and_state_folders_are_not_scanned(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "files/not-an-entity.yaml": "family: web\n",
        ".corral/cache.yaml": "anything: [",
        "sub/files/environment.yaml": "environment:\n  name: QA\n  identifier: qa\n  type: PreProduction\n",
    })  # fmt: skip
    project = load_project(tmp_path)
    assert "qa" in project.environments  # only the top-level files/ is the file store


def test_project_root_is_found_upwards(tmp_path: Path) -> None:
    write_project(tmp_path)
    inner = tmp_path / "files" / "web"
    assert find_project_root(inner) == tmp_path.resolve()
    assert project_root(None, cwd=inner) == tmp_path.resolve()
    assert project_root(str(tmp_path)) == tmp_path.resolve()


def test_no_project_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ProjectNotFound, match=r"no corral\.yaml"):
        project_root(None, cwd=tmp_path)
    with pytest.raises(ProjectNotFound, match="no such folder"):
        project_root(str(tmp_path / "missing"))


def test_project_settings(tmp_path: Path) -> None:
    write_project(tmp_path, {"corral.yaml": "project:\n  name: Shop\n  secrets:\n    keyFile: keys/k\n"})
    project = load_project(tmp_path)
    assert project.name == "Shop"
    assert project.settings.store_url(project.root) == f"sqlite:///{project.root}/.corral/corral.db"
    assert project.settings.key_file(project.root) == project.root / "keys" / "k"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    write_project(tmp_path, {
        "broken.yaml": "environment:\n  name: QA\n  identifier: qa\n  type: Staging\n  colour: blue\n",
        "bad-syntax.yaml": "service: [\n",
    })  # fmt: skip
    with pytest.raises(ConfigError) as caught:
        load_project(tmp_path)
    shown = [str(p) for p in caught.value.problems]
    assert (
        "broken.yaml:4: environment.type: expected one of Production, PreProduction, got 'Staging'" in shown
    )
    assert any(s.startswith("broken.yaml:5: environment.colour: unknown field 'colour'") for s in shown)
    assert any(s.startswith("bad-syntax.yaml:2: malformed YAML") for s in shown)


def test_git_store_without_branch(tmp_path: Path) -> None:
    write_project(tmp_path)
    service = (tmp_path / "service.yaml").read_text()
    (tmp_path / "service.yaml").write_text(
        service.replace(
            "type: Harness\n                spec:\n                  files: [web/service.yaml]",
            "type: Git\n                spec:\n                  connectorRef: repo\n                  paths: [a.yaml]",
        )
    )
    shown = messages(tmp_path)
    assert shown == [
        "service.yaml:22: service.serviceDefinition.spec.manifests[1].manifest.spec.store.spec.branch: "
        "required when gitFetchType is Branch (the branch to fetch)"
    ]


def test_store_type_problem_path(tmp_path: Path) -> None:
    write_project(tmp_path)
    service = (tmp_path / "service.yaml").read_text()
    (tmp_path / "service.yaml").write_text(
        service.replace(
            "type: Harness\n                spec:\n                  files: [web/service.yaml]",
            "type: Bitbucket\n                spec: {}",
        )
    )
    assert messages(tmp_path) == [
        "service.yaml:21: service.serviceDefinition.spec.manifests[1].manifest.spec.store.type: "
        "expected one of Harness, Git, Github, S3, Inline, got 'Bitbucket'"
    ]


def test_harness_yaml_variants_load(tmp_path: Path) -> None:
    """Stores, artifact sources and connectors as Harness writes them."""
    write_project(tmp_path, {"more.yaml": """
connector:
  name: GitHub
  identifier: github
  type: Github
  spec:
    url: https://github.com/acme
    type: Account
    validationRepo: deploy
    authentication:
      type: Http
      spec:
        type: UsernameToken
        spec:
          username: bot
          tokenRef: account.github_token
---
connector:
  name: Git
  identifier: git_ssh
  type: Git
  spec:
    url: git@example.com:acme/deploy.git
    type: Ssh
    spec:
      sshKeyRef: deploy_key
---
connector:
  name: Prod account
  identifier: prod_account
  type: Aws
  spec:
    credential:
      type: ManualConfig
      spec:
        accessKey: AKIAEXAMPLE
        secretKeyRef: aws_secret
      region: us-west-2
      crossAccountAccess:
        crossAccountRoleArn: arn:aws:iam::123456789012:role/deployer
        externalId: corral
---
secret: {name: t, identifier: github_token, type: SecretText, spec: {value: GITHUB_TOKEN}}
---
secret: {name: k, identifier: deploy_key, type: SecretText, spec: {secretManagerIdentifier: file, valueType: Reference, value: keys/id}}
---
secret: {name: a, identifier: aws_secret, type: SecretText, spec: {secretManagerIdentifier: env, value: AWS_SECRET}}
---
service:
  name: API
  identifier: api
  tags: {team: payments}
  serviceDefinition:
    type: ECS
    spec:
      ecsTaskDefinitionArn: arn:aws:ecs:us-east-1:123456789012:task-definition/api:3
      manifests:
        - manifest:
            identifier: service_def
            type: EcsServiceDefinition
            spec:
              store:
                type: Github
                spec:
                  connectorRef: github
                  gitFetchType: Commit
                  commitId: 0123abcd
                  repoName: deploy
                  paths: [ecs/service.json]
        - manifest:
            identifier: target
            type: EcsScalableTargetDefinition
            spec:
              store:
                type: S3
                spec:
                  connectorRef: prod_account
                  region: us-west-2
                  bucketName: manifests
                  paths: [api/target.yaml]
      artifacts:
        primary:
          primaryArtifactRef: ecr
          sources:
            - identifier: ecr
              type: Ecr
              spec:
                connectorRef: prod_account
                region: us-west-2
                imagePath: api
                tagRegex: ^v[0-9]+$
            - identifier: hub
              type: DockerRegistry
              spec:
                connectorRef: docker_hub
                imagePath: acme/api
                digest: sha256:0123
      variables:
        - {name: replicas, type: Number, value: "3"}
        - {name: db_password, type: Secret, value: aws_secret}
"""})  # fmt: skip
    project = load_project(tmp_path)
    assert set(project.connectors) == {"aws", "docker_hub", "github", "git_ssh", "prod_account"}
    api = project.services["api"].service_definition.spec
    assert api.variables[0].typed_value() == 3
    assert api.artifacts.primary.selected().type == "Ecr"  # type: ignore[union-attr]
