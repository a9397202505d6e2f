"""Expressions rendered into a manifest's text before parsing (manifests/text_rendering.py), as
Harness renders them: unquoted expressions in JSON, secrets inside JSON strings; values never
change the document's structure; problems give the line and column, and a value that breaks
the text shows the rendered line with secrets masked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from corral.config import load_project
from corral.expressions.masking import MASK
from corral.expressions.taint import runtime_text
from corral.manifests import ManifestFile
from corral.manifests.service_rendering import RenderOptions, render_outcome
from corral.manifests.text_rendering import KEEP, render_text
from tests.config.helpers import service_yaml, write_project

TASK_JSON = """{
  "family": <+service.identifier>,
  "networkMode": "awsvpc",
  "requiresCompatibilities": ["FARGATE"],
  "cpu": "256",
  "memory": "512",
  "containerDefinitions": [
    {
      "name": "web",
      "image": "<+artifact.image>",
      "essential": true,
      "environment": [
        {"name": "PASSWORD", "value": "<+secrets.getValue("db")>"},
        {"name": "ESCAPED", "value": "<+secrets.getValue(\\"db\\")>"},
        {"name": "REPLICAS", "value": "<+serviceVariables.replicas>"}
      ],
      "portMappings": [{"containerPort": <+serviceVariables.port>}]
    }
  ]
}
"""
VARIABLES = """      variables:
        - name: replicas
          type: String
          value: "3"
        - name: port
          type: Number
          value: 8080
"""


def json_project(tmp_path: Path, task: str = TASK_JSON) -> Path:
    service = service_yaml(variables=VARIABLES).replace("web/task.yaml", "web/task.json")
    return write_project(tmp_path, {"service.yaml": service, "files/web/task.json": task})


def outcome(root: Path, secret: str = "pa55word-secret") -> Any:
    return render_outcome(
        load_project(root), "web", "dev", "fargate", options=RenderOptions(secrets=lambda ref: secret)
    )


def test_json_as_harness_users_write_it(tmp_path: Path) -> None:
    found = outcome(json_project(tmp_path))
    assert found.problems == []
    request = found.rendered.task_definition.request
    assert request["family"] == "web"  # unquoted: a string, as in Harness
    container = request["containerDefinitions"][0]
    assert container["environment"] == [
        {"name": "PASSWORD", "value": "pa55word-secret"},
        {"name": "ESCAPED", "value": "pa55word-secret"},
        {"name": "REPLICAS", "value": "3"},
    ]
    assert container["portMappings"] == [{"containerPort": 8080}]


def test_a_secret_stays_a_reference_in_a_runs_rendering(tmp_path: Path) -> None:
    root = json_project(tmp_path)
    found = render_outcome(
        load_project(root),
        "web",
        "dev",
        "fargate",
        options=RenderOptions(secrets=lambda ref: "pa55word-secret", secret_references=True),
    )
    assert found.problems == []
    journaled = json.dumps(found.rendered.to_journal())
    assert "pa55word-secret" not in journaled
    env = found.rendered.task_definition.request["containerDefinitions"][0]["environment"]
    assert env[0] == {"name": "PASSWORD", "value": '<+secrets.getValue("db")>'}


def test_a_value_that_breaks_the_json_shows_the_rendered_line_masked(tmp_path: Path) -> None:
    task = TASK_JSON.replace('"<+secrets.getValue("db")>"', '<+secrets.getValue("db")>-suffix')
    found = outcome(json_project(tmp_path, task))
    [problem] = found.problems
    assert "pa55word-secret" not in str(problem)
    assert problem.file == "files/web/task.json"
    assert problem.path == "line 13, column 39"
    assert problem.message == (
        "invalid JSON: Expecting ',' delimiter; the line as rendered is: "
        f'{{"name": "PASSWORD", "value": "{MASK}"-suffix}}, '
        '(from <+secrets.getValue("db")> at line 13, column 39)'
    )


def test_an_unresolved_unquoted_expression_names_path_line_and_column(tmp_path: Path) -> None:
    task = TASK_JSON.replace("<+service.identifier>", "<+service.identfier>")
    [problem] = outcome(json_project(tmp_path, task)).problems
    assert str(problem) == (
        "files/web/task.json: family: unresolved expression <+service.identfier> (line 2, column 13)"
    )


# -- values never change the structure -------------------------------------------------


def rendered(text: str, source: str, values: dict[str, Any]) -> Any:
    out = render_text(ManifestFile(source, text), lambda expression: values.get(expression, KEEP))
    return out


INJECTION = 'x", "privileged": true, "y": "'


def test_a_run_time_value_inside_a_json_string_is_string_content() -> None:
    out = rendered('{"image": "nginx:<+tag>"}', "task.json", {"<+tag>": runtime_text(INJECTION)})
    assert json.loads(out.text) == {"image": "nginx:" + INJECTION}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (runtime_text('1, "privileged": true'), '1, "privileged": true'),
        (runtime_text("3"), 3),
        (runtime_text("1.10"), "1.10"),  # not the number 1.1
        (runtime_text("[1, 2]"), "[1, 2]"),
        (True, True),
        (["a", "b"], ["a", "b"]),  # a list from the project's own files
    ],
)
def test_a_bare_value_is_one_scalar(value: Any, expected: Any) -> None:
    out = rendered('{"desiredCount": <+x>}', "service.json", {"<+x>": value})
    assert json.loads(out.text) == {"desiredCount": expected}
    out = rendered("desiredCount: <+x>\n", "service.yaml", {"<+x>": value})
    assert yaml.safe_load(out.text) == {"desiredCount": expected}


def test_yaml_quoted_scalars_take_the_value_as_text() -> None:
    text = "a: \"pre <+x> post\"\nb: 'it''s <+x>'\n"
    out = rendered(text, "task.yaml", {"<+x>": runtime_text("q\"uote 'n\nnew")})
    assert yaml.safe_load(out.text) == {"a": "pre q\"uote 'n\nnew post", "b": "it's q\"uote 'n new"}


def test_a_run_time_value_that_would_end_unquoted_yaml_text_is_refused() -> None:
    out = rendered("image: repo:<+tag>\n", "task.yaml", {"<+tag>": runtime_text("1\nprivileged: true")})
    [problem] = out.problems
    assert problem.path == "line 1, column 13"
    assert "put the value in quotes" in problem.message


def test_expressions_in_yaml_comments_are_left_alone() -> None:
    out = rendered("# uses <+x>\na: <+x>\n", "task.yaml", {"<+x>": "v"})
    assert out.text == '# uses <+x>\na: "v"\n'


def test_firstgen_placeholders_follow_the_same_rules() -> None:
    text = '{"containerPort": ${serviceVariable.port}, "name": ${serviceVariable.name}, "image": "${DOCKER_IMAGE_NAME}"}'
    values = {
        "${serviceVariable.port}": "8080",
        "${serviceVariable.name}": runtime_text('x", "privileged": true, "y": "'),
        "${DOCKER_IMAGE_NAME}": 'nginx"1',
    }
    assert json.loads(rendered(text, "task.json", values).text) == {
        "containerPort": 8080,
        "name": 'x", "privileged": true, "y": "',
        "image": 'nginx"1',
    }
    # without a value a placeholder stays as written (reported as an unresolved placeholder)
    assert rendered('{"a": ${EXECUTION_ROLE}}', "task.json", {}).text == '{"a": ${EXECUTION_ROLE}}'


def test_yaml_text_of_several_expressions_stays_one_string() -> None:
    out = rendered("value: <+a> <+b>\nimage: <+a>/<+b>\n", "task.yaml", {"<+a>": "dev", "<+b>": 3})
    assert yaml.safe_load(out.text) == {"value": "dev 3", "image": "dev/3"}
