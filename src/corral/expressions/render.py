"""Render documents: every string of nested dicts and lists (keys too) through the templates.

A string that is exactly one expression keeps the value's type (a number stays a number,
a map stays a map); expressions inside longer text become text. What happens to an
expression without a value depends on the Mode, except that references named in
ExpressionContext.keep (<+targetGroupArn>) are left verbatim when they have no value.

Every error names the path of the string in its document, as corral.errors.format_path
writes it: `containerDefinitions[0].image: unresolved expression <+artifact.image>`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corral.errors import ExpressionError, format_path
from corral.expressions.aliases import with_aliases
from corral.expressions.context import ExpressionContext, Mode
from corral.expressions.evaluator import Evaluator
from corral.expressions.firstgen import MISSING, lookup
from corral.expressions.inputs import WHOLE_VALUE, check_input_value, input_spec
from corral.expressions.limits import check_size
from corral.expressions.masking import MIN_SECRET_LENGTH
from corral.expressions.nodes import Block, FirstGenRef, InputRef, Part, Text
from corral.expressions.parser import parse_at, parse_expression
from corral.expressions.taint import is_runtime, secret_strings
from corral.expressions.values import Unresolved, is_plain, located, to_text

PathParts = tuple[str | int, ...]
# what validation gives a runtime input that has no default: it stays `<+input>` in the
# rendered value, so the field is known to be filled in at run time
STAND_IN = "<+input>"


def render(value: Any, ctx: ExpressionContext, *, mode: Mode = Mode.FAIL, path: str = "") -> Any:
    """A copy of value with every expression replaced by its value; `path` prefixes error paths."""
    return _Renderer(ctx, mode).walk(value, (path,) if path else ())


def evaluate(expression: str, ctx: ExpressionContext, *, mode: Mode = Mode.FAIL) -> Any:
    """The value of one expression body, written without the <+ > delimiters."""
    renderer = _Renderer(ctx, mode)
    try:
        block = Block(parse_expression(expression), source=f"<+{expression}>", pos=0)
        result = renderer.part_value(block, expression, "")
    except RecursionError:
        raise ExpressionError("expression is nested too deeply", expression=expression) from None
    return result.source if isinstance(result, _Kept) else result


@dataclass(frozen=True)
class Piece:
    """One piece of a rendered text: literal text, or an expression and its value."""

    text: str  # what the piece becomes in the text
    value: Any = None  # the expression's value, marks included (expressions/taint.py)
    source: str = ""  # the expression as written
    expression: bool = False  # True: `value` is the expression's value
    deferred: bool = False  # an expression left as written, filled in later (secrets)


def render_pieces(
    text: str, ctx: ExpressionContext, *, mode: Mode = Mode.FAIL, path: str = ""
) -> list[Piece]:
    """text as pieces, each expression evaluated but not yet joined: for callers that must
    treat some values differently from the text around them (ShellScript bodies)."""
    renderer = _Renderer(ctx, mode)
    try:
        return renderer.pieces(text, path)
    except RecursionError:
        raise ExpressionError(located(path, "expression is nested too deeply"), expression=text) from None


@dataclass(frozen=True)
class _Kept:
    """An expression left as written (KEEP mode, or a reference in ExpressionContext.keep)."""

    source: str


def _kept(ref: str, keep: frozenset[str]) -> bool:
    """True when ref is a kept reference or lies under one (keep={"pipeline"} keeps pipeline.name)."""
    return any(ref == kept or ref.startswith((kept + ".", kept + "[")) for kept in keep)


class _Renderer:
    def __init__(self, ctx: ExpressionContext, mode: Mode) -> None:
        self.ctx = ctx
        self.mode = mode
        self.values = with_aliases(ctx.values)
        self.evaluator = Evaluator(ctx, self.values)

    def walk(self, value: Any, parts: PathParts) -> Any:
        if isinstance(value, str):
            return self.string(value, parts, inputs=True)
        if isinstance(value, dict):
            rendered = {}
            for key, item in value.items():
                entry = (*parts, key if isinstance(key, str) else str(key))
                rendered[self.key(key, entry)] = self.walk(item, entry)
            return rendered
        if isinstance(value, list | tuple):
            items = [self.walk(item, (*parts, index)) for index, item in enumerate(value)]
            return items if isinstance(value, list) else tuple(items)
        return value

    def key(self, key: Any, parts: PathParts) -> Any:
        if not isinstance(key, str):
            return key
        rendered = self.string(key, parts, inputs=False)
        return rendered if isinstance(rendered, str) else self.text(rendered, key, format_path(parts))

    def string(self, text: str, parts: PathParts, *, inputs: bool) -> Any:
        if ("<+" not in text and "${" not in text) or is_runtime(text):
            return text  # a value given at run time is data, never an expression
        where = format_path(parts)
        try:
            return self.template(text, where, inputs=inputs)
        except RecursionError:
            raise ExpressionError(
                located(where, "expression is nested too deeply"), expression=text
            ) from None

    def template(self, text: str, where: str, *, inputs: bool) -> Any:
        template = parse_at(text, where)
        if template.is_literal:
            return text
        if template.is_single and (inputs or not isinstance(template.parts[0], InputRef)):
            result = self.part_value(template.parts[0], text, where)
            return result.source if isinstance(result, _Kept) else result
        pieces = []
        for part in template.parts:
            if isinstance(part, Text):
                pieces.append(part.value)
            elif isinstance(part, InputRef):
                raise ExpressionError(located(where, WHOLE_VALUE), expression=text, position=part.pos)
            else:
                result = self.part_value(part, text, where)
                pieces.append(result.source if isinstance(result, _Kept) else self.text(result, text, where))
        try:
            check_size(sum(len(piece) for piece in pieces), "rendered text")
        except ExpressionError as exc:
            raise ExpressionError(located(where, exc.detail), expression=text) from None
        return "".join(pieces)

    def pieces(self, text: str, where: str) -> list[Piece]:
        if ("<+" not in text and "${" not in text) or is_runtime(text):
            return [Piece(text)]
        template = parse_at(text, where)
        if template.is_literal:
            return [Piece(text)]
        pieces = []
        for part in template.parts:
            if isinstance(part, Text):
                pieces.append(Piece(part.value))
                continue
            if isinstance(part, InputRef) and not template.is_single:
                raise ExpressionError(located(where, WHOLE_VALUE), expression=text, position=part.pos)
            result = self.part_value(part, text, where)
            if isinstance(result, _Kept):
                pieces.append(Piece(result.source, source=result.source, deferred=True))
            else:
                pieces.append(Piece(self.text(result, text, where), result, part.source, expression=True))
        return pieces

    def text(self, value: Any, text: str, where: str) -> str:
        try:
            return to_text(value)
        except ExpressionError as exc:
            raise ExpressionError(located(where, exc.detail), expression=text) from None

    def part_value(self, part: Part, text: str, where: str) -> Any:
        """The value of one expression, input or placeholder; _Kept when it stays as written."""
        if isinstance(part, InputRef):
            return self.input_value(part, where)
        if isinstance(part, FirstGenRef):
            found = lookup(part.name, self.ctx.firstgen, self.values)
            if found is MISSING:
                return self.unresolved(part.source, Unresolved(part.name), where, "placeholder")
            if not is_plain(found):
                raise ExpressionError(located(where, f"{part.source} is not plain data"), expression=text)
            return found
        if isinstance(part, Text):
            return part.value
        try:
            return self.remembered(self.evaluator.value(part.expr))
        except Unresolved as missing:
            return self.unresolved(part.source, missing, where, "expression")
        except ExpressionError as exc:
            raise ExpressionError(
                located(where, exc.detail), expression=text, position=exc.position
            ) from None

    def remembered(self, value: Any) -> Any:
        """value, unless a string in it computed from a secret is too short to be masked (the
        evaluator has already added the others to the values to mask)."""
        for text in secret_strings(value):
            if 0 < len(text) < MIN_SECRET_LENGTH:
                names = ", ".join(f"'{name}'" for name in sorted(text.secrets))
                raise ExpressionError(  # part_value adds where
                    f"a value computed from secret {names} is {len(text)} characters long; values "
                    f"shorter than {MIN_SECRET_LENGTH} characters cannot be masked and are refused"
                )
        return value

    def unresolved(self, source: str, missing: Unresolved, where: str, kind: str) -> Any:
        if self.mode is Mode.KEEP or _kept(missing.ref, self.ctx.keep):
            return _Kept(source)
        if self.mode is Mode.NULL:
            return None
        message = f"unresolved {kind} {source}"
        if missing.detail:
            message += f" ({missing.detail})"
        elif missing.ref != source[2:-1].strip():
            message += f" (no value for {missing.ref})"
        error = ExpressionError(located(where, message))
        error.expression = source  # kept out of the message, which already shows it
        raise error

    def input_value(self, ref: InputRef, where: str) -> Any:
        spec = input_spec(ref, where)
        if where in self.ctx.inputs:
            value = self.ctx.inputs[where]
            if value == STAND_IN:  # validation's stand-in: any value may come at run time
                return _Kept(ref.source)
            check_input_value(spec, value)
            return value
        if spec.default is not None:
            check_input_value(spec, spec.default, what="default")
            return spec.default
        if self.mode is Mode.KEEP:
            return _Kept(ref.source)
        if self.mode is Mode.NULL:
            return None
        error = ExpressionError(located(where, f"runtime input {ref.source} has no value and no default"))
        error.expression = ref.source
        raise error
