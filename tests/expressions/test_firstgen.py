"""FirstGen ${...} placeholders, including the container-name rule."""

from __future__ import annotations

import json

import pytest

from corral.errors import ExpressionError
from corral.expressions import ExpressionContext, Mode, container_name, render, substitute_text

# as in the reference's FirstGen ECS documentation
TASK_DEFINITION = {
    "executionRoleArn": "${EXECUTION_ROLE}",
    "containerDefinitions": [
        {
            "name": "${CONTAINER_NAME}",
            "image": "${DOCKER_IMAGE_NAME}",
            "command": ["sh", "-c", "echo ${HOME} $PATH"],
        }
    ],
    "tags": [{"key": "${serviceVariable.foo}", "value": "${serviceVariable.baz}"}],
}
ROLE = "arn:aws:iam::123456789012:role/ecsTaskExecutionRole"


def test_container_name_example_from_the_reference() -> None:
    assert container_name("library/nginx:stable-perl") == "library_nginx_stable-perl"


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("a:b.c+d*e/f\\g h&i$j|k\"l'm", "a_b_c_d_e_f_g_h_i_j_k_l_m"),
        ("Team/App-Name:V1", "team_app-name_v1"),
        ("app@sha256:ab", "app@sha256_ab"),
    ],
)
def test_container_name_rule(image: str, expected: str) -> None:
    assert container_name(image) == expected


def test_task_definition_from_firstgen_values() -> None:
    ctx = ExpressionContext(
        values={},
        firstgen={
            "DOCKER_IMAGE_NAME": "registry.hub.docker.com/library/nginx:stable-perl",
            "EXECUTION_ROLE": ROLE,
            "serviceVariable.foo": "owner",
            "serviceVariable.baz": "payments",
        },
    )
    rendered = render(TASK_DEFINITION, ctx)
    container = rendered["containerDefinitions"][0]
    assert rendered["executionRoleArn"] == ROLE
    assert container["image"] == "registry.hub.docker.com/library/nginx:stable-perl"
    assert container["name"] == "library_nginx_stable-perl"  # as the reference shows it
    assert container["command"] == ["sh", "-c", "echo ${HOME} $PATH"]
    assert rendered["tags"] == [{"key": "owner", "value": "payments"}]


def test_values_fall_back_to_the_artifact_and_service_variables() -> None:
    ctx = ExpressionContext(
        values={
            "artifacts": {"primary": {"image": "localhost:5000/library/nginx:1.27"}},
            "serviceVariables": {"containerPort": 8080},
        }
    )
    assert render("${DOCKER_IMAGE_NAME}", ctx) == "localhost:5000/library/nginx:1.27"
    assert render("${CONTAINER_NAME}", ctx) == "library_nginx_1_27"
    assert render("${serviceVariable.containerPort}", ctx) == 8080


def test_placeholders_in_raw_manifest_text() -> None:
    text = '{"containerName": "${CONTAINER_NAME}", "containerPort": ${serviceVariable.containerPort}}'
    ctx = ExpressionContext(
        values={"serviceVariables": {"containerPort": 8080}},
        firstgen={"DOCKER_IMAGE_NAME": "library/nginx:stable-perl"},
    )
    assert json.loads(substitute_text(text, ctx)) == {
        "containerName": "library_nginx_stable-perl",
        "containerPort": 8080,
    }


@pytest.mark.parametrize(
    "text", ["${EXECUTION_ROLE}", "${serviceVariable.nope}", "${DOCKER_IMAGE}", "${workflow.variables.x}"]
)
def test_unknown_firstgen_placeholders_fail(text: str) -> None:
    ctx = ExpressionContext(values={})
    with pytest.raises(ExpressionError) as caught:
        render({"field": text}, ctx)
    assert str(caught.value) == f"field: unresolved placeholder {text}"
    assert render(text, ctx, mode=Mode.KEEP) == text
    assert render(text, ctx, mode=Mode.NULL) is None
    with pytest.raises(ExpressionError, match="unresolved placeholder"):
        substitute_text(f"x {text}", ctx)
    assert substitute_text(f"x {text}", ctx, mode=Mode.KEEP) == f"x {text}"


@pytest.mark.parametrize("text", ["${HOME}", "${PORT:-80}", "${1}", "$HOME", "${ not a name }"])
def test_shell_variables_are_left_alone(text: str) -> None:
    ctx = ExpressionContext(values={})
    assert render(text, ctx) == text
    assert substitute_text(text, ctx) == text


def test_firstgen_and_nextgen_mix() -> None:
    ctx = ExpressionContext(values={"env": {"name": "prod"}}, firstgen={"EXECUTION_ROLE": ROLE})
    assert render("${EXECUTION_ROLE}@<+env.name>", ctx) == f"{ROLE}@prod"
    # inside an expression's string, ${...} is just text
    assert render('<+"${EXECUTION_ROLE}">', ctx) == "${EXECUTION_ROLE}"
