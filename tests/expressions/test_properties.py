"""Property-based tests: whatever the text, rendering gives a value or an ExpressionError."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from corral.errors import ExpressionError
from corral.expressions import (
    ExpressionContext,
    Mode,
    container_name,
    evaluate,
    find_expressions,
    find_inputs,
    parse,
    render,
    substitute_text,
)

from .conftest import resolve_secret, values

SETTINGS = settings(max_examples=200, deadline=None)
modes = st.sampled_from(list(Mode))

# pieces of the grammar, glued together at random: mostly near-valid text
TOKENS = [
    "<+",
    ">",
    "<+ ",
    " >",
    "(",
    ")",
    "[",
    "]",
    ".",
    ",",
    " ",
    "?",
    ":",
    "!",
    "+",
    "-",
    "*",
    "/",
    "%",
    "==",
    "!=",
    "<",
    "<=",
    ">=",
    "&&",
    "||",
    "=",
    "&",
    "|",
    '"',
    "'",
    "\\",
    "$",
    "{",
    "}",
    "${",
    "0",
    "1",
    "-1",
    "2.5",
    "1e3",
    "99999999999999999999",
    '"x"',
    "'y'",
    '"<+env.name>"',
    '"\\u00e9"',
    "true",
    "false",
    "null",
    "a",
    "artifact",
    "artifact.image",
    "image",
    "tag",
    "serviceVariables",
    "memory",
    "ports",
    "ports[0]",
    "env.name",
    "nothing",
    "flags",
    "__class__",
    "input",
    "<+input>",
    ".default(",
    ".allowedValues(",
    "\\'",
    "toUpperCase()",
    'split(":")',
    "substring(1)",
    "size()",
    'json.select("a", "{}")',
    'json.object("[1]")',
    'regex.match("a", "b")',
    'regex.replace("a", "a", "$1")',
    'secrets.getValue("dockerPassword")',
    "secrets.getValue(",
    "${DOCKER_IMAGE_NAME}",
    "${CONTAINER_NAME}",
    "${serviceVariable.containerPort}",
    "${EXECUTION_ROLE}",
    "targetGroupArn",
    "<+targetGroupArn>",
]
token_soup = st.lists(st.sampled_from(TOKENS), max_size=30).map("".join)

REFERENCES = [
    "artifact.image",
    "artifacts.primary.tag",
    "serviceVariables.memory",
    "service.variables.team",
    "ports",
    "ports[1]",
    "ports[5]",
    "env.name",
    "env.variables.domain",
    "nothing",
    "nothing.x",
    "missing.x",
    "flags.enabled",
    "flags",
    "pipeline.sequenceId",
    "targetGroupArn",
    "input",
    'secrets.getValue("dockerPassword")',
    'secrets.getValue("nope")',
    "execution.steps.rolling.output",
]
METHODS = [
    "toUpperCase()",
    "toLowerCase()",
    "trim()",
    "length()",
    "substring(1)",
    "substring(0, 2)",
    'split("-")',
    'contains("a")',
    'startsWith("r")',
    'replace("a", "b")',
    'concat("!")',
    "size()",
    "isEmpty()",
    "toString()",
    'containsKey("k")',
    "nope()",
]
OPERATORS = ["+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||"]
atoms = st.one_of(
    st.sampled_from(REFERENCES),
    st.integers(-(10**6), 10**6).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: repr(abs(f))),
    st.text(max_size=6).map(json.dumps),
    st.sampled_from(["true", "false", "null"]),
)


def _compound(inner: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.tuples(inner, st.sampled_from(OPERATORS), inner).map(lambda t: f"{t[0]} {t[1]} {t[2]}"),
        inner.map(lambda e: f"({e})"),
        st.tuples(st.sampled_from(["!", "-", "+"]), inner).map("".join),
        st.tuples(inner, inner, inner).map(lambda t: f"{t[0]} ? {t[1]} : {t[2]}"),
        st.tuples(inner, st.sampled_from(METHODS)).map(lambda t: f"({t[0]}).{t[1]}"),
        st.tuples(inner, inner).map(lambda t: f"({t[0]})[{t[1]}]"),
        inner.map(lambda e: f"<+ {e} >"),
        st.tuples(inner, inner).map(lambda t: f"json.select({t[0]}, {t[1]})"),
        st.tuples(inner, inner).map(lambda t: f"regex.match({t[0]}, {t[1]})"),
        inner.map(lambda e: f"json.object({e})"),
    )


expressions = st.recursive(atoms, _compound, max_leaves=10)
template_parts = st.one_of(
    st.text(max_size=8),
    expressions.map(lambda e: f"<+{e}>"),
    st.sampled_from(
        [
            "${DOCKER_IMAGE_NAME}",
            "${CONTAINER_NAME}",
            "${serviceVariable.containerPort}",
            "${EXECUTION_ROLE}",
            "${HOME}",
            "<+input>",
            "<+input>.default(2)",
            "<+input>.allowedValues(a,b)",
            "<+input>.default(\\'x,y\\')",
        ]
    ),
)
templates = st.lists(template_parts, max_size=4).map("".join)
documents = st.recursive(
    st.one_of(templates, st.integers(), st.none(), st.booleans()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["a", "b", "<+env.name>"]), inner, max_size=3),
    ),
    max_leaves=8,
)


def context() -> ExpressionContext:
    return ExpressionContext(
        values=values(),
        secrets=resolve_secret,
        firstgen={"DOCKER_IMAGE_NAME": "library/nginx:stable-perl"},
        inputs={"": "a"},
    )


def render_or_expression_error(document: Any, mode: Mode) -> None:
    with contextlib.suppress(ExpressionError):
        render(document, context(), mode=mode)


@SETTINGS
@given(st.text(), modes)
def test_any_text(text: str, mode: Mode) -> None:
    render_or_expression_error(text, mode)


@SETTINGS
@given(token_soup, modes)
def test_token_soup(text: str, mode: Mode) -> None:
    render_or_expression_error(text, mode)


@SETTINGS
@given(templates, modes)
def test_generated_templates(text: str, mode: Mode) -> None:
    render_or_expression_error(text, mode)


@SETTINGS
@given(expressions, modes)
def test_generated_expression_bodies(body: str, mode: Mode) -> None:
    with contextlib.suppress(ExpressionError):
        evaluate(body, context(), mode=mode)


@settings(max_examples=150, deadline=None)
@given(documents, modes)
def test_documents_are_rendered_without_being_modified(document: Any, mode: Mode) -> None:
    before = copy.deepcopy(document)
    render_or_expression_error(document, mode)
    assert document == before


@SETTINGS
@given(st.one_of(st.text(), token_soup, templates))
def test_syntax_errors_point_inside_the_text(text: str) -> None:
    try:
        parse(text)
    except ExpressionError as error:
        assert error.position is not None
        assert 0 <= error.position <= len(text)
        assert error.expression == text


@SETTINGS
@given(st.one_of(st.text(), token_soup, templates))
def test_finding_inputs_and_expressions(text: str) -> None:
    for find in (find_inputs, find_expressions):
        try:
            find({"field": [text]})
        except ExpressionError as error:
            assert str(error).startswith("field[0]: ")


@SETTINGS
@given(st.one_of(st.text(), token_soup), modes)
def test_raw_text_substitution(text: str, mode: Mode) -> None:
    with contextlib.suppress(ExpressionError):
        substitute_text(text, context(), mode=mode)


@SETTINGS
@given(st.text().filter(lambda text: "<+" not in text and "${" not in text))
def test_text_without_expressions_is_unchanged(text: str) -> None:
    assert render(text, context()) == text


@SETTINGS
@given(
    st.integers(-(10**9), 10**9),
    st.sampled_from(["+", "-", "*", "==", "!=", "<", "<=", ">", ">="]),
    st.integers(-(10**9), 10**9),
)
def test_integer_operators_agree_with_arithmetic(left: int, op: str, right: int) -> None:
    expected = {
        "+": left + right,
        "-": left - right,
        "*": left * right,
        "==": left == right,
        "!=": left != right,
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
    }[op]
    assert evaluate(f"{left} {op} {right}", context()) == expected
    assert render(f"<+(({left}) {op} ({right}))>", context()) == expected


@SETTINGS
@given(st.text())
def test_container_names_are_lower_case_without_special_characters(image: str) -> None:
    name = container_name(image)
    assert name == name.lower()
    assert not set(name) & set(":.+*/\\ &$|\"'")
    assert len(name) == len(image.lower())
