"""No expression can reach Python internals: only plain data and the allow-listed calls."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import corral.expressions
from corral.errors import ExpressionError
from corral.expressions import ExpressionContext, Mode, evaluate, render


@dataclass
class Connector:
    name: str
    secret_key: str

    def credentials(self) -> str:
        return self.secret_key


def values() -> dict[str, Any]:
    return {
        "a": {"b": "text", "n": 1},
        "x": [1, 2],
        "obj": Connector("aws", "AKIA-SECRET"),
        "holder": {"inner": Connector("aws", "AKIA-SECRET"), "fn": print, "module": ast},
        "items": [Connector("aws", "AKIA-SECRET")],
    }


ESCAPES = [
    '<+"".__class__>',
    "<+a.__dict__>",
    "<+x.__globals__>",
    "<+a.b.__class__.__mro__>",
    "<+a.__class__.__subclasses__()>",
    "<+__import__>",
    '<+__builtins__["eval"]>',
    "<+a.b.__len__()>",
    '<+"".format()>',
    '<+"{0.__class__}".format(a)>',
    '<+"x".join(x)>',
    "<+a.keys()>",
    "<+a.items()>",
    '<+a.get("b")>',
    "<+a.pop()>",
    "<+x.append(3)>",
    "<+x.copy()>",
    "<+a.b.encode()>",
    "<+a.n.bit_length()>",
    "<+a.n.real>",
    "<+obj>",
    "<+obj.name>",
    "<+obj.credentials()>",
    "<+obj.secret_key>",
    "<+holder.inner.secret_key>",
    "<+holder.fn>",
    '<+holder.fn("x")>',
    "<+holder.module.parse>",
    "<+items[0].name>",
    "<+items[0]>",
    '<+json.loads("{}")>',
    '<+regex.compile("x")>',
    "<+json.__class__>",
    "<+secrets.__init__>",
    "<+eval(1)>",
    '<+exec("x")>',
]


@pytest.mark.parametrize("text", ESCAPES)
def test_escapes_raise_expression_error(text: str) -> None:
    ctx = ExpressionContext(values=values())
    with pytest.raises(ExpressionError):
        render({"field": text}, ctx)


@pytest.mark.parametrize("text", ESCAPES)
@pytest.mark.parametrize("mode", [Mode.NULL, Mode.KEEP])
def test_escapes_never_yield_python_objects(text: str, mode: Mode) -> None:
    ctx = ExpressionContext(values=values())
    try:
        result = render(text, ctx, mode=mode)
    except ExpressionError:
        return
    # tolerated only when unresolved: then it is None or the text as written
    assert result is None or result == text


def test_non_plain_values_are_refused_by_name() -> None:
    ctx = ExpressionContext(values=values())
    with pytest.raises(ExpressionError, match="field: obj holds a value that is not plain data"):
        render({"field": "<+obj>"}, ctx)
    with pytest.raises(ExpressionError, match=r"holder\.fn holds a value that is not plain data"):
        evaluate("holder.fn", ctx)


def test_a_secret_held_by_an_object_stays_out_of_messages() -> None:
    ctx = ExpressionContext(values=values())
    for text in ("<+obj.secret_key>", "<+obj.credentials()>", "<+items[0]>"):
        with pytest.raises(ExpressionError) as caught:
            render(text, ctx)
        assert "AKIA-SECRET" not in str(caught.value)


def test_the_package_never_calls_eval_exec_or_getattr() -> None:
    forbidden = {"eval", "exec", "getattr", "setattr", "__import__", "compile", "vars", "globals", "locals"}
    package = Path(corral.expressions.__file__).parent
    for source in package.glob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                assert node.func.id not in forbidden, f"{source.name}:{node.lineno} calls {node.func.id}"


@pytest.mark.parametrize(
    "text",
    [
        "<+" + "a + " * 3000 + "a>",
        "<+" + "-" * 3000 + "1>",
        "<+" + ".".join(["a"] * 3000) + ">",
        "<+" + "(" * 100 + "1" + ")" * 100 + ">",
        "<+" + "<+" * 100 + "1" + ">" * 100 + ">",
        "<+" + "9" * 100 + ">",
        "<+" + " * ".join(["99999999999999999999"] * 20) + ">",
    ],
)
def test_oversized_expressions_are_refused(text: str) -> None:
    with pytest.raises(ExpressionError, match=r"nested too deeply|too long|out of range"):
        render(text, ExpressionContext(values={"a": {"a": 1}}))
