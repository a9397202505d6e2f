"""Cuts template text into the tokens that grammar.lark is written over.

The lexer is hand-written because the meaning of '>' depends on context: directly inside
<+ ... > it closes the expression (as in the reference system), while inside parentheses
or brackets, or in a bare expression given to evaluate(), it is the comparison operator.
A stack of open <+, ( and [ decides. So write <+(a > b)>; '>=' needs no parentheses when
the expression is still closed after it (<+a >= 5> compares, <+a>=<+b> is two
expressions with '=' between).

Outside expressions the lexer emits TEXT, FirstGen ${NAME} placeholders and runtime inputs
(<+input> followed by .default(...), .allowedValues(...) and friends, whose arguments are
bare text in the reference system and so are not expression syntax).
"""

from __future__ import annotations

import re

from lark import Token

from corral.errors import ExpressionError
from corral.expressions.firstgen import PLACEHOLDER, looks_like_firstgen
from corral.expressions.limits import MAX_EXPRESSION_TOKENS, check_tokens

MAX_DEPTH = 64  # nesting of <+, ( and [ ; deeper input is refused, not recursed into
MAX_NUMBER_LENGTH = 64

_INPUT = re.compile(r"<\+\s*input\s*>")
_INPUT_OPTION = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)\(")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_KEYWORDS = {"true": "TRUE", "false": "FALSE", "null": "NULL"}
_TWO_CHAR = {"==": "EQ", "!=": "NE", "<=": "LE", "&&": "ANDAND", "||": "OROR"}
_ONE_CHAR = {
    "<": "LT",
    "+": "PLUS",
    "-": "MINUS",
    "*": "STAR",
    "/": "SLASH",
    "%": "PERCENT",
    "!": "BANG",
    "?": "QMARK",
    ":": "COLON",
    ".": "DOT",
    ",": "COMMA",
    "(": "LPAR",
    ")": "RPAR",
    "[": "LSQB",
    "]": "RSQB",
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", '"': '"', "'": "'", "\\": "\\", "/": "/"}


def tokenize_template(text: str, *, firstgen: bool = True, base: int = 0) -> list[Token]:
    """Tokens of text that mixes literal text with <+...> expressions.

    base is added to every position, for templates that sit inside a string literal of a
    larger expression, so errors point into the outer text.
    """
    return _Lexer(text, base).template(firstgen=firstgen)


def tokenize_expression(text: str) -> list[Token]:
    """Tokens of one expression body without the <+ > delimiters."""
    return _Lexer(text, 0).expression()


def _placeholder(text: str, i: int) -> re.Match[str] | None:
    """A FirstGen placeholder at i; ${HOME} and other shell-like names stay plain text."""
    match = PLACEHOLDER.match(text, i)
    return match if match and looks_like_firstgen(match.group(1)) else None


class _Lexer:
    def __init__(self, text: str, base: int) -> None:
        self.text = text
        self.base = base
        self.tokens: list[Token] = []
        # open <+ ( [ as (kind, position); kind is "block", "paren" or "bracket"
        self.stack: list[tuple[str, int]] = []
        self.probing = False  # set while looking ahead for closes_later()

    def error(self, message: str, position: int) -> ExpressionError:
        return ExpressionError(message, expression=self.text, position=self.base + position)

    def emit(self, kind: str, value: str, start: int, end: int) -> None:
        if len(self.tokens) >= MAX_EXPRESSION_TOKENS:  # stop lexing a huge text early
            check_tokens(len(self.tokens) + 1)
        self.tokens.append(Token(kind, value, start_pos=self.base + start, end_pos=self.base + end))

    # -- text level -------------------------------------------------------------------

    def template(self, *, firstgen: bool) -> list[Token]:
        text, i, chunk = self.text, 0, 0
        while i < len(text):
            if text.startswith("<+", i):
                self.emit_text(chunk, i)
                match = _INPUT.match(text, i)
                i = self.input_ref(match) if match else self.block(i)
                chunk = i
            elif firstgen and text.startswith("${", i) and (match := _placeholder(text, i)):
                self.emit_text(chunk, i)
                self.emit("FIRSTGEN", match.group(0), i, match.end())
                i = chunk = match.end()
            else:
                i += 1
        self.emit_text(chunk, len(text))
        return self.tokens

    def emit_text(self, start: int, end: int) -> None:
        if end > start:
            self.emit("TEXT", self.text[start:end], start, end)

    def input_ref(self, match: re.Match[str]) -> int:
        self.emit("INPUT_REF", match.group(0), match.start(), match.end())
        i = match.end()
        while option := _INPUT_OPTION.match(self.text, i):
            end = self.option_end(option.end(), i)
            self.emit("INPUT_OPTION", self.text[i:end], i, end)
            i = end
        return i

    def option_end(self, i: int, start: int) -> int:
        """Index after the ')' closing a runtime input option; quotes may hide ',' and ')'.

        The reference system quotes values with \\'...\\' (as in .default(\\'london,uk\\')),
        so that pair counts as a quote as well as '...' and "...".
        """
        text, quote = self.text, ""
        while i < len(text):
            if quote:
                if text.startswith(quote, i):
                    i += len(quote)
                    quote = ""
                    continue
            elif text.startswith("\\'", i):
                quote = "\\'"
                i += 2
                continue
            elif text[i] in "\"'":
                quote = text[i]
            elif text[i] == ")":
                return i + 1
            i += 1
        raise self.error("runtime input option is not closed with ')'", start)

    # -- expression level ---------------------------------------------------------------

    def block(self, i: int) -> int:
        """Lex from '<+' to its closing '>'; returns the index after it."""
        self.open("block", i)
        i += 2
        while self.stack:
            i = self.step(i)
        return i

    def expression(self) -> list[Token]:
        i = 0
        while i < len(self.text):
            i = self.step(i)
        if self.stack and self.stack[-1][0] == "block":
            raise self.error("'<+' is not closed with '>'", self.stack[-1][1])
        return self.tokens

    def open(self, kind: str, i: int) -> None:
        if len(self.stack) >= MAX_DEPTH:
            raise self.error("expression is nested too deeply", i)
        self.stack.append((kind, i))
        if kind == "block":
            self.emit("OPEN", "<+", i, i + 2)

    def innermost_block(self) -> int:
        return next(pos for kind, pos in reversed(self.stack) if kind == "block")

    def step(self, i: int) -> int:
        """Lex one token (or skip blanks) at i; returns the next index."""
        text = self.text
        if i >= len(text):
            raise self.error("'<+' is not closed with '>'", self.innermost_block())
        char = text[i]
        if char.isspace():
            return i + 1
        if text.startswith("<+", i):
            self.open("block", i)
            return i + 2
        if char == ">":
            return self.greater(i)
        if char in "\"'":
            return self.string(i)
        if char in "0123456789":
            return self.number(i)
        if char.isalpha() or char == "_":
            return self.name(i)
        pair = text[i : i + 2]
        if pair in _TWO_CHAR:
            self.emit(_TWO_CHAR[pair], pair, i, i + 2)
            return i + 2
        if char in _ONE_CHAR:
            self.punctuation(char, i)
            return i + 1
        if char == "=":
            raise self.error("'=' is not an operator; use '==' to compare", i)
        if char in "&|":
            raise self.error(f"'{char}' is not an operator; use '{char * 2}'", i)
        raise self.error(f"unexpected character {char!r}", i)

    def greater(self, i: int) -> int:
        at_block = bool(self.stack) and self.stack[-1][0] == "block"
        is_ge = self.text.startswith(">=", i)
        if at_block and not (is_ge and self.closes_later(i + 2)):
            start = self.stack.pop()[1]
            # CLOSE carries the whole <+...> source, so nodes can name it in messages
            self.emit("CLOSE", self.text[start : i + 1], i, i + 1)
            return i + 1
        if is_ge:
            self.emit("GE", ">=", i, i + 2)
            return i + 2
        self.emit("GT", ">", i, i + 1)
        return i + 1

    def closes_later(self, i: int) -> bool:
        """Would the innermost <+ still be closed if the '>=' before i were an operator?

        This tells <+a >= 512> (a comparison) from <+a>=<+b> (two expressions) without
        making either an error. The probe takes later '>=' as operators without probing.
        """
        if self.probing:
            return True
        probe = _Lexer(self.text, self.base)
        probe.stack, probe.probing = list(self.stack), True
        depth = len(self.stack)
        try:
            while len(probe.stack) >= depth:
                i = probe.step(i)
        except ExpressionError:
            return False
        return True

    def punctuation(self, char: str, i: int) -> None:
        if char in "([":
            self.open("paren" if char == "(" else "bracket", i)
        elif char in ")]":
            wanted = "paren" if char == ")" else "bracket"
            if self.stack and self.stack[-1][0] == wanted:
                self.stack.pop()
        self.emit(_ONE_CHAR[char], char, i, i + 1)

    def string(self, i: int) -> int:
        text, quote, start = self.text, self.text[i], i
        out: list[str] = []
        i += 1
        while i < len(text):
            char = text[i]
            if char == quote:
                self.emit("STRING", "".join(out), start, i + 1)
                return i + 1
            if char == "\\" and i + 1 < len(text):
                i = self.escape(i, out)
                continue
            out.append(char)
            i += 1
        raise self.error("string is not closed", start)

    def escape(self, i: int, out: list[str]) -> int:
        code = self.text[i + 1]
        if code == "u":
            digits = self.text[i + 2 : i + 6]
            if len(digits) != 4 or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise self.error("'\\u' must be followed by four hex digits", i)
            out.append(chr(int(digits, 16)))
            return i + 6
        # unknown escapes stay as written, so regular expressions like "\\d" or "\." survive
        out.append(_ESCAPES.get(code, "\\" + code))
        return i + 2

    def number(self, i: int) -> int:
        match = _NUMBER.match(self.text, i)
        if match is None:  # cannot happen: called on an ASCII digit
            raise self.error("malformed number", i)
        if match.end() - i > MAX_NUMBER_LENGTH:
            raise self.error("number is too long", i)
        self.emit("NUMBER", match.group(0), i, match.end())
        return match.end()

    def name(self, i: int) -> int:
        match = _NAME.match(self.text, i)
        if match is None:  # a non-ASCII letter
            raise self.error(f"unexpected character {self.text[i]!r}", i)
        word = match.group(0)
        after_dot = bool(self.tokens) and self.tokens[-1].type == "DOT"
        kind = "NAME" if after_dot else _KEYWORDS.get(word, "NAME")
        self.emit(kind, word, i, match.end())
        return match.end()


def expression_end(text: str, start: int) -> int:
    """The index after the `<+...>` (or `<+input>` with its options) that starts at `start`;
    ExpressionError when it is not closed. For finding expressions inside a larger text
    (a manifest) without parsing the rest of it."""
    lexer = _Lexer(text, 0)
    match = _INPUT.match(text, start)
    return lexer.input_ref(match) if match else lexer.block(start)
