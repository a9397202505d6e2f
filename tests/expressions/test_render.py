"""Rendering documents: types, modes, paths in errors, <+targetGroupArn>, secrets, nesting."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from corral.errors import ExpressionError
from corral.expressions import ExpressionContext, Mode, evaluate, render

from .conftest import SECRETS, resolve_secret, values


def task_definition() -> dict[str, Any]:
    return {
        "family": "<+service.name>-<+env.name>",
        "containerDefinitions": [
            {
                "name": "app",
                "image": "<+artifact.image>",
                "memory": "<+serviceVariables.memory>",
                "portMappings": [{"containerPort": "<+serviceVariables.containerPort>", "protocol": "tcp"}],
                "environment": [{"name": "RUN", "value": "<+pipeline.executionId>/<+pipeline.sequenceId>"}],
            }
        ],
        "cpu": 256,
        "requiresCompatibilities": ["FARGATE"],
    }


def test_renders_a_task_definition(ctx: ExpressionContext) -> None:
    rendered = render(task_definition(), ctx)
    container = rendered["containerDefinitions"][0]
    assert rendered["family"] == "checkout-prod"
    assert container["image"] == "registry.hub.docker.com/library/nginx:stable-perl"
    assert container["memory"] == 512
    assert container["portMappings"][0]["containerPort"] == 8080
    assert container["environment"][0]["value"] == "exec-42/7"
    assert rendered["cpu"] == 256
    assert rendered["requiresCompatibilities"] == ["FARGATE"]


def test_does_not_modify_its_input(ctx: ExpressionContext) -> None:
    document = task_definition()
    before = copy.deepcopy(document)
    render(document, ctx)
    assert document == before


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("<+serviceVariables.memory>", 512),
        ("<+ports>", [80, 443]),
        ("<+flags>", {"enabled": True}),
        ("<+flags.enabled>", True),
        ("<+nothing>", None),
        ("<+serviceVariables.memory / 2>", 256),
        ("mem=<+serviceVariables.memory>", "mem=512"),
        ("ports=<+ports>", "ports=[80,443]"),
        ("flags=<+flags>", 'flags={"enabled":true}'),
        ("on=<+flags.enabled>", "on=true"),
        ("none=<+nothing>", "none=null"),
        ("<+env.name><+infra.region>", "prodeu-west-1"),
        ("plain text", "plain text"),
        ("", ""),
    ],
)
def test_single_expressions_keep_their_type_and_text_becomes_text(
    ctx: ExpressionContext, text: str, expected: Any
) -> None:
    result = render(text, ctx)
    assert result == expected
    assert type(result) is type(expected)


def test_non_string_scalars_pass_through(ctx: ExpressionContext) -> None:
    assert render([1, 2.5, True, None], ctx) == [1, 2.5, True, None]


def test_keys_are_rendered(ctx: ExpressionContext) -> None:
    assert render({"<+env.name>-domain": "<+env.variables.domain>"}, ctx) == {"prod-domain": "example.com"}
    assert render({"<+serviceVariables.memory>": 1}, ctx) == {"512": 1}


def test_keywords_are_names_after_a_dot() -> None:
    ctx = ExpressionContext(values={"x": {"true": 1, "null": 2}})
    assert render("<+x.true + x.null>", ctx) == 3


# -- modes ------------------------------------------------------------------------------


def test_fail_mode_names_the_path_and_the_expression(ctx: ExpressionContext) -> None:
    document = {"containerDefinitions": [{"image": "<+artifact.imag>"}]}
    with pytest.raises(ExpressionError) as caught:
        render(document, ctx)
    assert str(caught.value) == "containerDefinitions[0].image: unresolved expression <+artifact.imag>"
    assert caught.value.expression == "<+artifact.imag>"


def test_fail_is_the_default_mode() -> None:
    with pytest.raises(ExpressionError, match=r"^image: unresolved expression <\+artifact.image>$"):
        render({"image": "<+artifact.image>"}, ExpressionContext(values={}))


def test_path_argument_prefixes_error_paths(ctx: ExpressionContext) -> None:
    with pytest.raises(ExpressionError) as caught:
        render({"containerDefinitions": [{"image": "<+nope>"}]}, ctx, path="manifests[1]")
    assert str(caught.value).startswith("manifests[1].containerDefinitions[0].image: ")


def test_fail_mode_says_which_part_had_no_value(ctx: ExpressionContext) -> None:
    with pytest.raises(ExpressionError) as caught:
        render("<+artifact.nope.toLowerCase()>", ctx)
    assert "(no value for artifact.nope)" in str(caught.value)


def test_null_mode(ctx: ExpressionContext) -> None:
    assert render("<+artifact.nope>", ctx, mode=Mode.NULL) is None
    assert render("x-<+artifact.nope>-<+env.name>", ctx, mode=Mode.NULL) == "x-null-prod"
    assert render({"a": ["<+nope>"]}, ctx, mode=Mode.NULL) == {"a": [None]}


def test_keep_mode(ctx: ExpressionContext) -> None:
    assert render("<+artifact.nope>", ctx, mode=Mode.KEEP) == "<+artifact.nope>"
    text = "x-<+ artifact.nope >-<+env.name>"
    assert render(text, ctx, mode=Mode.KEEP) == "x-<+ artifact.nope >-prod"
    assert render("<+ <+nope> + 1 >", ctx, mode=Mode.KEEP) == "<+ <+nope> + 1 >"


@pytest.mark.parametrize(
    "text", ["<+nothing.x>", "<+ports[2]>", "<+ports[-1]>", '<+flags["missing"]>', "<+a.b.c>"]
)
def test_missing_members_are_unresolved(ctx: ExpressionContext, text: str) -> None:
    assert render(text, ctx, mode=Mode.NULL) is None
    assert render(text, ctx, mode=Mode.KEEP) == text
    with pytest.raises(ExpressionError, match="unresolved expression"):
        render(text, ctx)


@pytest.mark.parametrize("mode", list(Mode))
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('<+"a" - 1>', "cannot apply '-' to string and number"),
        ("<+1 / 0>", "division by zero"),
        ("<+ports.size>", "a list has no field 'size'"),
        ("<+env.name[0]>", "a string has no index"),
        ("<+env.name.nope()>", "nope() is not a method of a string"),
        ("<+ports < 3>", "cannot compare list with number"),
        ("<+-env.name>", "cannot apply '-' to a string"),
    ],
)
def test_type_errors_fail_in_every_mode(ctx: ExpressionContext, mode: Mode, text: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        render({"field": text}, ctx, mode=mode)
    assert str(caught.value).startswith("field: ")
    assert message in str(caught.value)
    assert caught.value.position is not None


# -- <+targetGroupArn> -----------------------------------------------------------------


def test_target_group_arn_is_kept_for_the_blue_green_step(ctx: ExpressionContext) -> None:
    service = {"loadBalancers": [{"targetGroupArn": "<+targetGroupArn>", "containerPort": 80}]}
    assert render(service, ctx) == service
    assert render("arn=<+targetGroupArn>", ctx, mode=Mode.NULL) == "arn=<+targetGroupArn>"


def test_target_group_arn_can_be_given() -> None:
    arn = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/stage/abc"
    ctx = ExpressionContext(values={"targetGroupArn": arn})
    assert render({"targetGroupArn": "<+targetGroupArn>"}, ctx) == {"targetGroupArn": arn}


def test_keep_can_be_emptied_or_cover_whole_roots() -> None:
    with pytest.raises(ExpressionError, match="unresolved expression <\\+targetGroupArn>"):
        render("<+targetGroupArn>", ExpressionContext(values={}, keep=frozenset()))
    ctx = ExpressionContext(values={}, keep=frozenset({"pipeline"}))
    assert render("<+pipeline.executionId>", ctx) == "<+pipeline.executionId>"
    with pytest.raises(ExpressionError):
        render("<+pipelines.x>", ctx)


# -- secrets ----------------------------------------------------------------------------


def test_secret_values_are_returned_and_recorded(ctx: ExpressionContext) -> None:
    rendered = render({"password": '<+secrets.getValue("dockerPassword")>'}, ctx)
    assert rendered == {"password": SECRETS["dockerPassword"]}
    assert ctx.used_secrets == {SECRETS["dockerPassword"]}
    assert ctx.mask(f"login with {SECRETS['dockerPassword']}") == "login with **************"


def test_secret_used_inside_text(ctx: ExpressionContext) -> None:
    assert render("Bearer <+secrets.getValue('apiToken')>", ctx) == "Bearer tok-123"
    assert "tok-123" in ctx.used_secrets


def test_without_a_resolver_secrets_are_unresolved() -> None:
    ctx = ExpressionContext(values={})
    text = '<+secrets.getValue("dockerPassword")>'
    assert render(text, ctx, mode=Mode.KEEP) == text
    with pytest.raises(ExpressionError) as caught:
        render({"password": text}, ctx)
    assert str(caught.value) == (f"password: unresolved expression {text} (secrets are not available here)")


def test_unknown_secret(ctx: ExpressionContext) -> None:
    with pytest.raises(ExpressionError, match="no secret 'nope'"):
        render('<+secrets.getValue("nope")>', ctx)


def test_a_failing_resolver_is_reported() -> None:
    def broken(identifier: str) -> str:
        raise RuntimeError("vault is sealed")

    with pytest.raises(ExpressionError, match="secret 'x' could not be read: vault is sealed"):
        render('<+secrets.getValue("x")>', ExpressionContext(values={}, secrets=broken))


def test_secret_values_are_not_in_error_messages(ctx: ExpressionContext) -> None:
    with pytest.raises(ExpressionError) as caught:
        render('<+secrets.getValue("dockerPassword") - 1>', ctx)
    assert SECRETS["dockerPassword"] not in str(caught.value)


# -- nesting ----------------------------------------------------------------------------


def test_nested_expressions(ctx: ExpressionContext) -> None:
    assert render("<+ <+pipeline.sequenceId> + 1 >", ctx) == 8
    assert render('<+<+env.name>.toUpperCase()>-<+ <+infra.region> + "x" >', ctx) == "PROD-eu-west-1x"


def test_expression_inside_a_string_argument() -> None:
    # the reference's own example: .replace("a", "<+pipeline.variables.var1>")
    ctx = ExpressionContext(values={"pipeline": {"variables": {"var1": "B", "var2": "banana"}}})
    text = '<+<+pipeline.variables.var2>.replace("a", "<+pipeline.variables.var1>")>'
    assert render(text, ctx) == "bBnBnB"


def test_conditions_in_the_reference_style(ctx: ExpressionContext) -> None:
    assert render('<+<+env.name> == "prod" && <+serviceVariables.memory> >= 512>', ctx) is True
    assert render('<+(<+serviceVariables.memory> > 256) ? "large" : "small">', ctx) == "large"


# -- evaluate ---------------------------------------------------------------------------


def test_evaluate_one_expression(ctx: ExpressionContext) -> None:
    assert evaluate("serviceVariables.containerPort + 1", ctx) == 8081
    assert evaluate("env.name", ctx) == "prod"
    assert evaluate("artifact.nope", ctx, mode=Mode.KEEP) == "<+artifact.nope>"
    assert evaluate("artifact.nope", ctx, mode=Mode.NULL) is None
    with pytest.raises(ExpressionError, match=r"^unresolved expression <\+artifact.nope>$"):
        evaluate("artifact.nope", ctx)


def test_context_values_may_be_any_mapping() -> None:
    from types import MappingProxyType

    ctx = ExpressionContext(values=MappingProxyType(values()), secrets=resolve_secret)
    assert render("<+env.name>", ctx) == "prod"
