"""The allow-listed methods and functions, with the reference system's (Java) behaviour."""

from __future__ import annotations

import json
from typing import Any

import pytest

from corral.errors import ExpressionError
from corral.expressions import ExpressionContext, Mode, evaluate

BODY = json.dumps(
    {
        "data": {
            "attributes": {
                "name": "new-construction-api",
                "version_pins": {
                    "mvn-service://new-construction-api": "0.0.253-feature_NC-6595.8d268cd~nc1.6312a66"
                },
                "tags": ["a", "b"],
            }
        }
    }
)
CTX = ExpressionContext(
    values={
        "s": "  Hello World  ",
        "path": "a:b:c",
        "csv": "a,b,,",
        "body": BODY,
        "items": ["x", 1, True],
        "map": {"k": "v"},
        "n": 3,
        "image": "registry.example.com/team/app:1.2.3",
    }
)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ('"abc".toUpperCase()', "ABC"),
        ('"ABC".toLowerCase()', "abc"),
        ("s.trim()", "Hello World"),
        ('"abc".length()', 3),
        ('"".isEmpty()', True),
        ('"abcdef".substring(2)', "cdef"),
        ('"abcdef".substring(1, 4)', "bcd"),
        ('path.split(":")', ["a", "b", "c"]),
        ('path.split(":")[1]', "b"),
        ('csv.split(",")', ["a", "b"]),
        ('csv.split(",", -1)', ["a", "b", "", ""]),
        ('csv.split(",", 2)', ["a", "b,,"]),
        ('"a.b.c".split("\\\\.")', ["a", "b", "c"]),
        ('"a1b22c".split("[0-9]+")', ["a", "b", "c"]),
        ('"abc".split("")', ["a", "b", "c"]),
        ('",".split(",")', []),
        ('"".split(",")', [""]),
        ('"abc".contains("b")', True),
        ('"abc".startsWith("ab")', True),
        ('"abc".endsWith("bc")', True),
        ('"a.b.c".replace(".", "-")', "a-b-c"),
        ('"ab".concat("cd")', "abcd"),
        ('"abcabc".indexOf("c")', 2),
        ('"abcabc".lastIndexOf("c")', 5),
        ('"abc".indexOf("z")', -1),
        ('"abc".equals("abc")', True),
        ('"abc".equalsIgnoreCase("ABC")', True),
        ('"v1.2".matches("v[0-9.]+")', True),
        ('"xv1.2".matches("v[0-9.]+")', False),
        ("n.toString()", "3"),
        ("items.size()", 3),
        ("items.contains(1)", True),
        ('items.contains("y")', False),
        ("items.isEmpty()", False),
        ('map.containsKey("k")', True),
        ("map.size()", 1),
        ("map.toString()", '{"k":"v"}'),
        (
            'json.select("data.attributes.version_pins.mvn-service://new-construction-api", body)',
            "0.0.253-feature_NC-6595.8d268cd~nc1.6312a66",
        ),
        ('json.select("$.data.attributes.name", body)', "new-construction-api"),
        ('json.select("data.attributes.tags[1]", body)', "b"),
        ("json.select(\"data['attributes'].name\", body)", "new-construction-api"),
        ('json.list("data.attributes.tags", body)', ["a", "b"]),
        ("json.object(body).data.attributes.name", "new-construction-api"),
        ('json.object("[1, 2]")[1]', 2),
        ("json.format(map)", '{"k":"v"}'),
        ('regex.match("^registry\\\\.", image)', True),
        ('regex.match("^docker", image)', False),
        ('regex.extract("[0-9]+\\\\.[0-9]+\\\\.[0-9]+", image)', "1.2.3"),
        ('regex.extract("nothing", image)', ""),
        ('regex.replace(":([0-9.]+)$", image, "@v$1")', "registry.example.com/team/app@v1.2.3"),
        ('regex.replace("(?P<tag>[0-9.]+)$", "app:1.0", "${tag}-rc")', "app:1.0-rc"),
        ('regex.replace("a", "banana", "\\\\$")', "b$n$n$"),
    ],
)
def test_allowed_calls(expression: str, expected: Any) -> None:
    assert evaluate(expression, CTX) == expected


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ('"abc".substring(2, 1)', "substring(2, 1) is out of range for a string of length 3"),
        ('"abc".substring("1")', "substring(): the argument must be a whole number"),
        ('"abc".contains(1)', "contains(): the argument must be a string, not a number"),
        ('"abc".toUpperCase(1)', "toUpperCase() was called with the wrong number of arguments"),
        ('"abc".split("[")', "split(): invalid regular expression"),
        ('"abc".format()', "format() is not a method of a string"),
        ("items.keys()", "keys() is not a method of a list"),
        ("n.toUpperCase()", "toUpperCase() is not a method of a number"),
        ('json.loads("1")', "json.loads() is not a function"),
        ('json.select("a", "not json")', "json.select(): the text is not valid JSON"),
        (
            'json.list("data.attributes.name", body)',
            "json.list(): the value at 'data.attributes.name' is a string",
        ),
        ('regex.compile("x")', "regex.compile() is not a function"),
        ('regex.replace("(a)", "a", "$2")', "the pattern has no group 2"),
        ('regex.replace("a", "a", "$x")', "'$' must be followed by a group number"),
        ('secrets.list("x")', "secrets.list() is not a function"),
        ("secrets.getValue(1)", "secrets.getValue() takes one string"),
    ],
)
def test_call_errors(expression: str, message: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(expression, CTX, mode=Mode.NULL)
    assert message in str(caught.value)
    assert caught.value.position is not None


def test_json_select_of_a_missing_path_is_unresolved() -> None:
    assert evaluate('json.select("data.nope", body)', CTX, mode=Mode.NULL) is None
    with pytest.raises(ExpressionError, match=r"nothing at 'data\.nope'"):
        evaluate('json.select("data.nope", body)', CTX)
