"""Config files whose store lists `secretFiles`, as the environment YAML of Harness's "Create
environments" page writes them (`overrides.configFiles[].configFile.spec.store.spec.files` and
`secretFiles`). In Corral a secret file names a `secret:`; its value is the file's text, read with
`<+configFile.getAsString("id")>` like any config file, and masked like any secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from corral.config import load_project, render_service
from corral.config.secrets import SecretResolver

from .helpers import ENVIRONMENT, TASK, corral, service_yaml, write_project

SECRET_TEXT = "db.password=hunter2-from-a-file"
SECRET = """secret:
  type: SecretText
  name: app secrets
  identifier: app_secrets
  spec:
    secretManagerIdentifier: env
    valueType: Reference
    value: APP_SECRETS_FILE
"""


def overrides(secret_files: str, files: str = "[]") -> str:
    """The environment of the base project with an `overrides.configFiles` entry."""
    return ENVIRONMENT.replace(
        "  type: PreProduction\n",
        "  type: PreProduction\n"
        "  overrides:\n"
        "    configFiles:\n"
        "      - configFile:\n"
        "          identifier: app\n"
        "          spec:\n"
        "            store:\n"
        "              type: Harness\n"
        "              spec:\n"
        f"                files: {files}\n"
        f"                secretFiles: {secret_files}\n",
        1,
    )


def project(root: Path, secret_files: str, files: str = "[]") -> Path:
    task = TASK + 'tags:\n  - key: conf\n    value: <+configFile.getAsString("app")>\n'
    return write_project(root, {
        "service.yaml": service_yaml(),
        "environment.yaml": overrides(secret_files, files),
        "secrets.yaml": SECRET,
        "files/web/task.yaml": task,
        "files/conf/plain.txt": "plain;",
    })  # fmt: skip


def test_a_secret_file_is_the_config_files_text_and_stays_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("APP_SECRETS_FILE", SECRET_TEXT)
    root = project(tmp_path, "[app_secrets]", files="[conf/plain.txt]")
    loaded = load_project(root)
    rendered = render_service(loaded, "web", "dev", "fargate", secrets=SecretResolver(loaded))
    # the plain files first, then the secret files, as listed
    assert rendered.task_definition.request["tags"][0]["value"] == "plain;" + SECRET_TEXT  # type: ignore[union-attr]

    shown = corral("render", "--project", str(root), "--service", "web", "--env", "dev", "--infra", "fargate")
    assert shown.exit_code == 0, shown.output
    assert "hunter2" not in shown.output and "value: plain;*****" in shown.output
    assert corral("validate", "--project", str(root)).exit_code == 0


def test_a_secret_file_naming_no_secret_is_one_problem_with_its_path(tmp_path: Path) -> None:
    root = project(tmp_path, "[app_secret]")
    result = corral("validate", "--project", str(root))
    assert result.exit_code == 1
    assert (
        "environment.yaml:14: environment.overrides.configFiles[0].configFile.spec.store.spec.secretFiles[0]: "
        "secret 'app_secret' not found; did you mean 'app_secrets'?"
    ) in result.output, result.output


def test_a_config_file_with_neither_files_nor_secret_files_is_refused(tmp_path: Path) -> None:
    result = corral("validate", "--project", str(project(tmp_path, "[]")))
    assert result.exit_code == 1
    assert "give at least one file (files) or secret file (secretFiles)" in result.output, result.output
