"""Parse templates and expressions with the LALR grammar in grammar.lark.

parse("prefix-<+a.b>-<+c>") gives a Template; parse_expression("a.b + 1") gives the tree
of one expression. Syntax errors raise ExpressionError with the offset of the offending
token in the text. Results are cached: the same manifest strings are rendered often.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedInput, UnexpectedToken
from lark.lexer import Lexer

from corral.errors import ExpressionError
from corral.expressions.inputs import input_ref
from corral.expressions.lexer import tokenize_expression, tokenize_template
from corral.expressions.nodes import (
    Attr,
    Binary,
    Block,
    FirstGenRef,
    Index,
    InputRef,
    Literal,
    Method,
    Node,
    Part,
    StringTemplate,
    Template,
    Ternary,
    Text,
    Unary,
    Var,
)
from corral.expressions.values import located

_OPERANDS = {"NAME", "NUMBER", "STRING", "TRUE", "FALSE", "NULL", "LPAR", "OPEN", "BANG", "MINUS", "PLUS"}
_OPERATORS = {"OROR", "ANDAND", "EQ", "NE", "LT", "LE", "GT", "GE", "STAR", "SLASH", "PERCENT", "QMARK"}
_CLOSERS = {"CLOSE": "'>'", "RPAR": "')'", "RSQB": "']'", "COLON": "':'", "COMMA": "','"}


class _TokenFeed(Lexer):
    """Hands the tokens of lexer.py to the parser (the grammar declares its terminals)."""

    def __init__(self, lexer_conf: Any) -> None:
        pass

    # lark calls a custom lexer's lex(text) (lark's CustomLexerWrapper); its Lexer ABC declares
    # the (lexer_state, parser_state) form lark uses internally
    def lex(self, data: Any) -> Iterator[Token]:  # type: ignore[override]
        return iter(data)


def _check_name(token: Token) -> str:
    name = str(token)
    if name.startswith("__"):
        raise ExpressionError("names starting with '__' are not allowed", position=token.start_pos)
    return name


class _Build(Transformer[Token, Any]):
    """Builds nodes.py objects while the parser reduces (no tree, no recursion)."""

    def template(self, children: list[Part]) -> list[Part]:
        return children

    def text(self, children: list[Token]) -> Text:
        return Text(str(children[0]), children[0].start_pos or 0)

    def firstgen(self, children: list[Token]) -> FirstGenRef:
        token = children[0]
        return FirstGenRef(name=str(token)[2:-1], source=str(token), pos=token.start_pos or 0)

    def input_ref(self, children: list[Token]) -> InputRef:
        return input_ref(children[0], children[1:])

    def expression(self, children: list[Node]) -> Node:
        return children[0]

    def block(self, children: list[Any]) -> Block:
        opening, expr, closing = children
        return Block(expr, source=str(closing), pos=opening.start_pos)

    def ternary(self, children: list[Any]) -> Ternary:
        condition, mark, then, _, otherwise = children
        return Ternary(condition, then, otherwise, pos=mark.start_pos)

    def binary(self, children: list[Any]) -> Binary:
        left, op, right = children
        return Binary(str(op), left, right, pos=op.start_pos)

    def unary(self, children: list[Any]) -> Unary:
        op, operand = children
        return Unary(str(op), operand, pos=op.start_pos)

    def attr(self, children: list[Any]) -> Attr:
        target, _, name = children
        return Attr(target, _check_name(name), pos=name.start_pos)

    def method(self, children: list[Any]) -> Method:
        target, _, name, _, *rest = children
        args = rest[0] if len(rest) == 2 else ()
        return Method(target, _check_name(name), args, pos=name.start_pos)

    def index(self, children: list[Any]) -> Index:
        target, bracket, key, _ = children
        return Index(target, key, pos=bracket.start_pos)

    def args(self, children: list[Any]) -> tuple[Node, ...]:
        return tuple(child for child in children if not isinstance(child, Token))

    def var(self, children: list[Token]) -> Var:
        return Var(_check_name(children[0]), pos=children[0].start_pos or 0)

    def number(self, children: list[Token]) -> Literal:
        text, pos = str(children[0]), children[0].start_pos or 0
        value: int | float = int(text) if text.isdigit() else float(text)
        if not math.isfinite(value):
            raise ExpressionError("number out of range", position=pos)
        return Literal(value, pos=pos)

    def string(self, children: list[Token]) -> Literal | StringTemplate:
        token = children[0]
        pos = token.start_pos or 0
        if "<+" in token:
            # as in the reference: .replace("a", "<+pipeline.variables.b>") evaluates the inner one
            return StringTemplate(_parse_template(str(token), firstgen=False, base=pos + 1), pos=pos)
        return Literal(str(token), pos=pos)

    def true(self, children: list[Token]) -> Literal:
        return Literal(True, pos=children[0].start_pos or 0)

    def false(self, children: list[Token]) -> Literal:
        return Literal(False, pos=children[0].start_pos or 0)

    def null(self, children: list[Token]) -> Literal:
        return Literal(None, pos=children[0].start_pos or 0)

    def group(self, children: list[Any]) -> Node:
        node: Node = children[1]
        return node


_GRAMMAR = resources.files("corral.expressions").joinpath("grammar.lark").read_text(encoding="utf-8")
_PARSER = Lark(
    _GRAMMAR,
    parser="lalr",
    lexer=_TokenFeed,
    transformer=_Build(),
    start=["template", "expression"],
    maybe_placeholders=False,
)


@lru_cache(maxsize=4096)
def parse(text: str) -> Template:
    """Parse text that mixes literal text with <+...> expressions and ${...} placeholders."""
    return _parse_template(text, firstgen=True, base=0)


@lru_cache(maxsize=1024)
def parse_expression(text: str) -> Node:
    """Parse one expression body, without the <+ > delimiters."""
    node: Node = _run(tokenize_expression(text), "expression", text, base=0)
    return node


def parse_at(text: str, where: str) -> Template:
    """parse(text), with errors naming `where`, the path of the text in its document."""
    try:
        return parse(text)
    except ExpressionError as exc:
        raise ExpressionError(located(where, exc.detail), expression=text, position=exc.position) from None


def _parse_template(text: str, *, firstgen: bool, base: int) -> Template:
    tokens = tokenize_template(text, firstgen=firstgen, base=base)
    parts: list[Part] = _run(tokens, "template", text, base=base)
    return Template(text, tuple(parts))


def _run(tokens: list[Token], start: str, text: str, *, base: int) -> Any:
    try:
        return _PARSER.parse(tokens, start=start)
    except UnexpectedToken as exc:
        at_end = exc.token.type == "$END"
        position = base + len(text) if at_end else exc.token.start_pos
        message = f"unexpected {_describe(exc.token)}; expected {_expected(exc.expected)}"
        raise ExpressionError(message, expression=text, position=position) from None
    except UnexpectedInput as exc:  # other parser complaints; not expected with our own lexer
        position = base + (exc.pos_in_stream or 0)
        raise ExpressionError("syntax error", expression=text, position=position) from None
    except ExpressionError as exc:  # from building nodes: names, input options, nested strings
        raise ExpressionError(exc.detail, expression=text, position=exc.position) from None


def _describe(token: Token) -> str:
    if token.type == "$END":
        return "end of text"
    if token.type == "CLOSE":
        return "'>'"
    if token.type == "STRING":
        return "string"
    if token.type == "NAME":
        return f"name '{token}'"
    if token.type == "TEXT":
        return "text"
    return f"'{token}'"


def _expected(names: set[str]) -> str:
    wanted = [label for name, label in _CLOSERS.items() if name in names]
    if names & _OPERANDS:
        wanted.insert(0, "a value")
    if names & _OPERATORS:
        wanted.append("an operator")
    if not wanted:
        wanted = sorted(names)
    return wanted[0] if len(wanted) == 1 else ", ".join(wanted[:-1]) + " or " + wanted[-1]
