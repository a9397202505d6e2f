"""How much one expression may cost: every bound, in one place.

The language has no loops or user functions, so the work an expression does grows with its
length, its nesting and the size of the values it makes; each of those is bounded here, and
regular expressions (which can backtrack for minutes on 30 characters) get a time limit.

    MAX_EXPRESSION_TOKENS   tokens in one text (names, operators, literals, runs of plain text)
    MAX_VALUE_CHARS         characters of a string (items of a list) an expression makes
    REGEX_TIMEOUT           seconds one regular expression may search
Nesting deeper than Python's stack is reported as "expression is nested too deeply".
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from corral.errors import ExpressionError

MAX_EXPRESSION_TOKENS = 10_000
MAX_VALUE_CHARS = 1_000_000
REGEX_TIMEOUT = 0.5


def check_tokens(count: int) -> None:
    if count > MAX_EXPRESSION_TOKENS:
        raise ExpressionError(
            f"expression too long: {count:,} tokens; the limit is {MAX_EXPRESSION_TOKENS:,} (MAX_EXPRESSION_TOKENS)"
        )


def check_size(size: int, what: str = "value") -> None:
    """Raise before a string or list of `size` characters (items) is made, when over the limit."""
    if size > MAX_VALUE_CHARS:
        raise ExpressionError(
            f"the {what} would be {size:,} long; the limit is {MAX_VALUE_CHARS:,} (MAX_VALUE_CHARS)"
        )


class BoundedPattern:
    """A compiled regular expression whose every search stops after REGEX_TIMEOUT seconds."""

    def __init__(self, pattern: str, label: str) -> None:
        """ValueError for a pattern that does not compile."""
        import regex  # the only module with a time limit per search; loaded on first use

        try:
            self.compiled = regex.compile(pattern)
        except regex.error as exc:
            raise ValueError(str(exc)) from None
        self.label = label
        self.groups: int = self.compiled.groups
        self.groupindex: dict[str, int] = dict(self.compiled.groupindex)

    def search(self, text: str) -> Any:
        return self._bounded(lambda: self.compiled.search(text, timeout=REGEX_TIMEOUT))

    def fullmatch(self, text: str) -> Any:
        return self._bounded(lambda: self.compiled.fullmatch(text, timeout=REGEX_TIMEOUT))

    def finditer(self, text: str) -> Iterator[Any]:
        return iter(self._bounded(lambda: list(self.compiled.finditer(text, timeout=REGEX_TIMEOUT))))

    def sub(self, replace: Callable[[Any], str], text: str) -> str:
        made = 0

        def counted(match: Any) -> str:
            nonlocal made
            piece = replace(match)
            made += len(piece)
            check_size(made, f"result of {self.label}")
            return piece

        result: str = self._bounded(lambda: self.compiled.sub(counted, text, timeout=REGEX_TIMEOUT))
        return result

    def _bounded(self, search: Callable[[], Any]) -> Any:
        try:
            return search()
        except TimeoutError:
            raise ExpressionError(
                f"{self.label}: the regular expression ran longer than {REGEX_TIMEOUT:g} s (REGEX_TIMEOUT)"
            ) from None
