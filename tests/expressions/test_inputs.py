"""Runtime inputs: finding them, their options, and rendering with given values."""

from __future__ import annotations

from typing import Any

import pytest

from corral.errors import ExpressionError
from corral.expressions import ExpressionContext, InputSpec, Mode, find_inputs, render

PIPELINE = {
    "pipeline": {
        "stages": [
            {
                "stage": {
                    "spec": {
                        "infrastructure": {"cluster": "<+input>", "region": "<+input>.default(eu-west-1)"},
                        "environment": "<+input>.allowedValues(dev,qa,prod)",
                        "replicas": "<+input>.default(2).allowedValues(1,2,3)",
                        "name": "fixed",
                    }
                }
            }
        ]
    }
}
SPEC = "pipeline.stages[0].stage.spec"


def test_find_inputs_reports_paths_defaults_and_allowed_values() -> None:
    assert find_inputs(PIPELINE) == [
        InputSpec(f"{SPEC}.infrastructure.cluster", "<+input>", None, None, True),
        InputSpec(f"{SPEC}.infrastructure.region", "<+input>.default(eu-west-1)", "eu-west-1", None, False),
        InputSpec(
            f"{SPEC}.environment", "<+input>.allowedValues(dev,qa,prod)", None, ["dev", "qa", "prod"], True
        ),
        InputSpec(f"{SPEC}.replicas", "<+input>.default(2).allowedValues(1,2,3)", 2, ["1", "2", "3"], False),
    ]


def test_find_inputs_with_a_path_prefix() -> None:
    (spec,) = find_inputs({"cluster": "<+input>"}, path="infrastructureDefinition.spec")
    assert spec.path == "infrastructureDefinition.spec.cluster"
    assert find_inputs(["<+input>"], path="items")[0].path == "items[0]"
    assert find_inputs("<+input>")[0].path == ""


@pytest.mark.parametrize(
    ("text", "default", "allowed"),
    [
        ("<+input>.default(bengaluru)", "bengaluru", None),
        ("<+input>.default(\\'london,uk\\')", "london,uk", None),
        ("<+input>.default('2')", "2", None),
        ('<+input>.default("a b")', "a b", None),
        ("<+input>.default(2)", 2, None),
        ("<+input>.default(0.5)", 0.5, None),
        ("<+input>.default(true)", True, None),
        ("<+input>.default(007)", "007", None),
        ("<+input>.allowedValues(a, b ,c)", None, ["a", "b", "c"]),
        ("<+input>.allowedValues(\\'x,y\\',z)", None, ["x,y", "z"]),
        ("<+input>.selectOneFrom(a,b)", None, ["a", "b"]),
        ("<+input>.allowedValues(x,y).default(x)", "x", ["x", "y"]),
    ],
)
def test_option_forms(text: str, default: Any, allowed: list[str] | None) -> None:
    (spec,) = find_inputs({"v": text})
    assert spec.default == default
    assert type(spec.default) is type(default)
    assert spec.allowed_values == allowed
    assert spec.required is (default is None)
    assert spec.expression == text


def test_regex_and_execution_input_options() -> None:
    (spec,) = find_inputs({"tag": "<+input>.regex(^v[0-9]+$).executionInput()"})
    assert spec.regex == "^v[0-9]+$"
    assert spec.execution_input is True


def test_given_values_are_used_and_keep_their_type() -> None:
    ctx = ExpressionContext(
        inputs={
            f"{SPEC}.infrastructure.cluster": "main",
            f"{SPEC}.environment": "qa",
            f"{SPEC}.replicas": 3,
        }
    )
    spec = render(PIPELINE, ctx)["pipeline"]["stages"][0]["stage"]["spec"]
    assert spec == {
        "infrastructure": {"cluster": "main", "region": "eu-west-1"},
        "environment": "qa",
        "replicas": 3,
        "name": "fixed",
    }


def test_a_value_outside_the_allowed_values_names_path_and_allowed_values() -> None:
    ctx = ExpressionContext(inputs={"environment": "staging"})
    with pytest.raises(ExpressionError) as caught:
        render({"environment": "<+input>.allowedValues(dev,qa,prod)"}, ctx)
    assert str(caught.value).startswith(
        "environment: runtime input value 'staging' is not one of the allowed values: dev, qa, prod"
    )


def test_a_value_must_match_the_regex() -> None:
    document = {"tag": "<+input>.regex(^v[0-9]+$)"}
    assert render(document, ExpressionContext(inputs={"tag": "v12"})) == {"tag": "v12"}
    with pytest.raises(ExpressionError, match="does not match the pattern"):
        render(document, ExpressionContext(inputs={"tag": "latest"}))


def test_a_default_outside_the_allowed_values_is_an_error() -> None:
    with pytest.raises(
        ExpressionError, match="runtime input default 'x' is not one of the allowed values: a, b"
    ):
        render({"v": "<+input>.default(x).allowedValues(a,b)"}, ExpressionContext())


def test_missing_value_without_default_per_mode() -> None:
    document = {"cluster": "<+input>"}
    with pytest.raises(ExpressionError) as caught:
        render(document, ExpressionContext())
    assert str(caught.value) == "cluster: runtime input <+input> has no value and no default"
    assert render(document, ExpressionContext(), mode=Mode.KEEP) == document
    assert render(document, ExpressionContext(), mode=Mode.NULL) == {"cluster": None}


def test_rendering_uses_the_prefixed_path_as_key() -> None:
    ctx = ExpressionContext(inputs={"infrastructureDefinition.spec.cluster": "main"})
    rendered = render({"cluster": "<+input>"}, ctx, path="infrastructureDefinition.spec")
    assert rendered == {"cluster": "main"}


@pytest.mark.parametrize("text", ["cluster-<+input>", "<+input>-<+input>", "<+ <+input> >"])
def test_an_input_must_be_the_whole_value(text: str) -> None:
    with pytest.raises(ExpressionError, match="must be the whole value of a field"):
        render({"v": text}, ExpressionContext(inputs={"v": "x"}))
    if "<+ <+input>" not in text:
        with pytest.raises(ExpressionError, match="v: a runtime input"):
            find_inputs({"v": text})


def test_input_options_errors_name_the_path() -> None:
    with pytest.raises(ExpressionError) as caught:
        find_inputs({"a": [{"b": "<+input>.defualt(x)"}]})
    assert str(caught.value).startswith("a[0].b: unknown runtime input option 'defualt'")
    assert caught.value.position == 8
