"""Secrets exported from Harness come without their value (Harness never exports one): they load,
and whatever needs one says once per secret, at the secret, how to give it a value.

The secret documents follow the SecretText YAML of Harness's docs ("Add and reference text
secrets": `secretManagerIdentifier: harnessSecretManager`, `valueType: Inline`) as its export
writes them, without `value`."""

from __future__ import annotations

from pathlib import Path

import pytest

from .helpers import TASK, corral, service_yaml, write_project

EXPORTED = """secret:
  type: SecretText
  name: db password
  identifier: db_password
  orgIdentifier: default
  projectIdentifier: web
  tags: {}
  spec:
    secretManagerIdentifier: harnessSecretManager
    valueType: Inline
---
secret:
  type: SecretText
  name: api token
  identifier: api_token
  spec:
    secretManagerIdentifier: account.harnessSecretManager
    valueType: Reference
    value: harness/ref/api-token
"""

# the secret used three times: a service variable and twice in the task definition's text
VARIABLES = """      variables:
        - name: db_password
          type: Secret
          value: db_password
"""
TASK_USING = TASK.replace(
    "    essential: true\n",
    "    essential: true\n"
    "    environment:\n"
    '      - {name: DB_PASSWORD, value: <+secrets.getValue("db_password")>}\n'
    '      - {name: DB_PASSWORD_AGAIN, value: <+secrets.getValue("db_password")>}\n'
    "    command: [<+serviceVariables.db_password>]\n",
)
RENDER = ("render", "--service", "web", "--env", "dev", "--infra", "fargate")


def _project(root: Path) -> Path:
    return write_project(
        root,
        {
            "secrets.yaml": EXPORTED,
            "service.yaml": service_yaml(variables=VARIABLES),
            "files/web/task.yaml": TASK_USING,
        },
    )


def test_validate_lists_each_exported_secret_once_and_passes(tmp_path: Path) -> None:
    result = corral("validate", "--project", str(_project(tmp_path)))
    assert result.exit_code == 0, result.output
    warnings = [line for line in result.output.splitlines() if line.startswith("warning: ")]
    assert len(warnings) == 2, result.output
    assert warnings[1].startswith(
        "warning: secrets.yaml:9: secret.spec.value: secret 'db_password' has no value"
    )
    assert warnings[0].startswith(
        "warning: secrets.yaml:17: secret.spec.value: secret 'api_token' names a value in Harness's own secret manager"
    )
    listed = corral("ls", "secrets", "--project", str(tmp_path)).output
    assert "no value (exported from Harness)" in listed
    for how in (
        "secretManagerIdentifier: env",
        "corral secret encrypt",
        "PUT /api/v1/projects/test/secrets/db_password",
    ):
        assert how in warnings[1]


@pytest.mark.parametrize("variable", [True, False], ids=["variable-and-manifest", "manifest-only"])
def test_render_says_it_once_however_often_the_secret_is_used(tmp_path: Path, variable: bool) -> None:
    _project(tmp_path)
    if not variable:
        task = TASK_USING.replace("    command: [<+serviceVariables.db_password>]\n", "")
        write_project(tmp_path, {"service.yaml": service_yaml(), "files/web/task.yaml": task}, base=False)
    result = corral(*RENDER, "--project", str(tmp_path))
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert (
        "secrets.yaml:9: secret.spec.value: secret 'db_password' has no value: it was exported from Harness"
        in lines[0]
    )


def test_a_value_given_in_the_environment_replaces_the_export(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(tmp_path)
    given = EXPORTED.replace(
        "    secretManagerIdentifier: harnessSecretManager\n    valueType: Inline\n",
        "    secretManagerIdentifier: env\n    valueType: Reference\n    value: DB_PASSWORD\n",
    )
    (tmp_path / "secrets.yaml").write_text(given)
    monkeypatch.setenv("DB_PASSWORD", "s3cret-value")
    result = corral(*RENDER, "--project", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "s3cret-value" not in result.output and "DB_PASSWORD_AGAIN" in result.output


def test_env_and_file_secrets_still_need_a_value(tmp_path: Path) -> None:
    text = "secret: {name: k, identifier: k, type: SecretText, spec: {secretManagerIdentifier: env}}\n"
    result = corral("validate", "--project", str(write_project(tmp_path, {"secrets.yaml": text})))
    assert result.exit_code == 1
    assert "secrets.yaml:1: secret.spec.value: required field is missing" in result.output


def test_a_run_says_it_once_before_any_step_runs(tmp_path: Path) -> None:
    from tests.cli.helpers import corral as corral_process
    from tests.engine.helpers import pipeline, shell, stage
    from tests.engine.helpers import write_project as write_pipeline_project

    uses = 'echo "<+secrets.getValue("db_password")>" "<+secrets.getValue("db_password")>"; echo ran'
    steps = [shell("first", "echo existing text"), shell("uses", uses)]
    write_pipeline_project(tmp_path, pipeline("p", [stage("run", steps)]), extra={"secrets.yaml": EXPORTED})
    result = corral_process("run", "p", cwd=tmp_path)
    assert result.exit_code != 0
    assert result.output.count("secret 'db_password' has no value: it was exported from Harness") == 1, (
        result.output
    )
    assert "PUT /api/v1/projects/" in result.output
    assert "existing text" not in result.output, "nothing ran"


@pytest.mark.parametrize("value", ["x", "xi", "ist"])
def test_a_secret_under_four_characters_never_garbles_log_lines(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    """Issue 12 refuses such secrets where they are read and never masks them inside words:
    `existing` stays `existing` (it once became `e**************isting`)."""
    from corral.expressions.masking import mask_text
    from tests.cli.helpers import corral as corral_process
    from tests.engine.helpers import pipeline, shell, stage
    from tests.engine.helpers import write_project as write_pipeline_project

    assert mask_text("existing", {value}) == "existing"
    monkeypatch.setenv("CORRAL_TEST_TINY", value)
    secret = "secret: {name: tiny, identifier: tiny, type: SecretText, spec: {value: CORRAL_TEST_TINY}}\n"
    steps = [shell("words", "echo existing lines exist"), shell("uses", 'echo "<+secrets.getValue("tiny")>"')]
    write_pipeline_project(tmp_path, pipeline("p", [stage("run", steps)]), extra={"secrets.yaml": secret})
    result = corral_process("run", "p", cwd=tmp_path)
    assert result.exit_code != 0
    assert "existing lines exist" in result.output
    assert "*" not in result.output.replace("**************", ""), "no partial masks"
    assert f"secret 'tiny' is {len(value)} character" in result.output


def test_on_a_server_the_api_gives_the_value(tmp_path: Path) -> None:
    """Upload the exported secret, see the run refused with the one message, PUT the value the
    message names, run."""
    import yaml

    from tests.security.scope_helpers import pipeline_doc, server_with, uses_s1

    exported = EXPORTED.split("---\n")[0].replace("db_password", "s1")
    with server_with(tmp_path / "server") as live:
        api = live.client()
        api.post("/projects", {"name": "shop"}, 201)
        documents = exported + "---\n" + yaml.safe_dump(pipeline_doc("show", [uses_s1()], []))
        api.put("/projects/shop/entities", {"yaml": documents}, 200)
        answer = api.post("/projects/shop/pipelines/show/executions", {}, 422).json()
        [problem] = answer["problems"]
        assert problem["path"] == "secret.spec.value"
        assert "PUT /api/v1/projects/shop/secrets/s1" in problem["message"]
        api.put("/projects/shop/secrets/s1", {"value": "a-value-at-last"}, 200)
        execution_id = api.post("/projects/shop/pipelines/show/executions", {}, 202).json()["id"]
        assert api.wait(execution_id)["status"] == "Success"
