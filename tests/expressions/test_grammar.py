"""The grammar: what parses, what it means, and where syntax errors are reported."""

from __future__ import annotations

from typing import Any

import pytest

from corral.errors import ExpressionError
from corral.expressions import ExpressionContext, evaluate, parse
from corral.expressions.nodes import Block, InputRef, Text

DATA = ExpressionContext(
    values={
        "a": {"b": {"c": "deep"}, "list": [10, 20, 30], "map": {"k": "v", "with-dash": 1}},
        "n": 7,
        "s": "Hello",
        "t": True,
        "f": False,
    }
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        # access
        ("a.b.c", "deep"),
        ("a.list[0]", 10),
        ("a.list[1 + 1]", 30),
        ('a.map["k"]', "v"),
        ("a.map['with-dash']", 1),
        ('a["b"].c', "deep"),
        ("s.toUpperCase()", "HELLO"),
        ("a.b.c.substring(1, 3)", "ee"),
        # literals
        ("42", 42),
        ("2.5", 2.5),
        ("1.5e2", 150.0),
        ('"double"', "double"),
        ("'single'", "single"),
        (r'"quote \" inside"', 'quote " inside'),
        (r'"\u0041\n"', "A\n"),
        ("true", True),
        ("false", False),
        ("null", None),
        # arithmetic and precedence
        ("1 + 2 * 3", 7),
        ("(1 + 2) * 3", 9),
        ("-2 * 3", -6),
        ("10 - 4 - 3", 3),
        ("10 % 3", 1),
        ("7 / 2", 3),
        ("-7 / 2", -3),
        ("-7 % 3", -1),
        ("7.0 / 2", 3.5),
        ("n * 2 + 1", 15),
        # string concatenation
        ('"a" + 1', "a1"),
        ('s + ", " + "world"', "Hello, world"),
        ('"v" + 1 + 2', "v12"),
        ('1 + 2 + "v"', "3v"),
        # comparison
        ("n == 7", True),
        ("n != 7", False),
        ("n > 6", True),
        ("n >= 8", False),
        ("n < 7", False),
        ("n <= 7", True),
        ('"7" == n', True),
        ('s == "Hello"', True),
        ('"abc" < "abd"', True),
        ("null == null", True),
        ("t == 1", False),
        # logic
        ("t && f", False),
        ("t || f", True),
        ("!f", True),
        ('!t || n == 7 && s == "Hello"', True),
        ("f && a.missing.x", False),
        ("t || a.missing.x", True),
        # ternary, right associative
        ('t ? "yes" : "no"', "yes"),
        ('f ? "yes" : "no"', "no"),
        ("f ? 1 : t ? 2 : 3", 2),
        ("f ? a.missing : n", 7),
        # keywords are names after a dot
        ('a.map.k + "!"', "v!"),
        # nesting inside an expression
        ("<+n> + 1", 8),
        ('<+ <+a.b.c> + "x" >.toUpperCase()', "DEEPX"),
    ],
)
def test_expression_values(expression: str, expected: Any) -> None:
    result = evaluate(expression, DATA)
    assert result == expected
    assert type(result) is type(expected)


def test_template_mixes_text_and_expressions() -> None:
    template = parse("prefix-<+a.b>-<+c>")
    kinds = [type(part) for part in template.parts]
    assert kinds == [Text, Block, Text, Block]
    assert template.expressions() == ["<+a.b>", "<+c>"]
    assert not template.is_single


def test_whole_string_expression_is_single() -> None:
    assert parse("<+a.b>").is_single
    assert not parse(" <+a.b>").is_single
    assert parse("no expressions here").is_literal


def test_expression_inside_expression() -> None:
    (block,) = parse('<+ <+a> + "x" >').parts
    assert isinstance(block, Block)
    assert block.source == '<+ <+a> + "x" >'


def test_greater_than_closes_unless_parenthesised() -> None:
    # as in the reference: <+a>=<+b> is two expressions with '=' between
    assert parse("<+a>=<+b>").expressions() == ["<+a>", "<+b>"]
    assert parse("<+a > b>").expressions() == ["<+a >"]
    # '>=' compares when the expression is still closed after it
    assert parse("<+a >= 5>").is_single
    assert parse("<+a>==<+b>").expressions() == ["<+a>", "<+b>"]
    assert parse("<+(a > b)>").is_single
    assert evaluate("n > 6 && n >= 7", DATA) is True
    assert evaluate("(n > 6) ? 1 : 2", DATA) == 1


def test_runtime_input_is_one_part() -> None:
    (part,) = parse("<+input>.default(dev).allowedValues(dev,prod)").parts
    assert isinstance(part, InputRef)
    assert part.default == "dev"
    assert part.allowed_values == ("dev", "prod")


def test_text_keeps_lone_delimiters() -> None:
    assert parse("a > b < c ${HOME} $ {").is_literal


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("<+a)>", 3, "unexpected ')'"),
        ("<+a.>", 4, "unexpected '>'"),
        ("<+a", 0, "'<+' is not closed with '>'"),
        ("x <+1 +>", 7, "unexpected '>'; expected a value"),
        ('<+"abc>', 2, "string is not closed"),
        ("<+a = b>", 4, "'=' is not an operator; use '=='"),
        ("<+a & b>", 4, "'&' is not an operator; use '&&'"),
        ("<+a # b>", 4, "unexpected character '#'"),
        ("<+a b>", 4, "unexpected name 'b'"),
        ("<+a[0>", 0, "'<+' is not closed"),
        ("<+(a>", 0, "'<+' is not closed"),
        ("<+f(1)>", 3, "unexpected '('"),
        ("<+a.__class__>", 4, "names starting with '__' are not allowed"),
        ("<+1e999>", 2, "number out of range"),
        ('<+"\\u12">', 3, "four hex digits"),
        ("<+input>.foo(x)", 8, "unknown runtime input option 'foo'"),
        ("<+input>.default(a", 8, "not closed with ')'"),
        ("<+input>.default(a,b)", 8, "takes one argument"),
        ("<+input>.allowedValues(a).allowedValues(b)", 25, "given twice"),
        ("<+input>.regex([)", 8, "regex is not valid"),
    ],
)
def test_syntax_error_positions(text: str, position: int, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.position == position
    assert caught.value.expression == text
    assert message in str(caught.value)
    assert f"at position {position} in '{text}'" in str(caught.value)


def test_error_inside_a_nested_string_points_into_the_outer_text() -> None:
    text = '<+a.replace("x", "<+b c>")>'
    with pytest.raises(ExpressionError) as caught:
        parse(text)
    assert caught.value.position == text.index("c>")
    assert caught.value.expression == text


def test_evaluate_reports_end_of_text() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate("n +", DATA)
    assert caught.value.position == 3
    assert "unexpected end of text" in str(caught.value)
