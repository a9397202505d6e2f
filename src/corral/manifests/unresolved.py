"""Find expressions that rendering left in a manifest: `<+...>` and FirstGen `${...}`."""

from __future__ import annotations

import re

_OPENERS = {"<+": ("<+", ">"), "${": ("${", "}")}
_SECRET_REFERENCE = re.compile(r'<\+secrets\.getValue\("[A-Za-z0-9_.\-]+"\)>')


def only_secret_references(text: str) -> bool:
    """True when every expression left in text is a plain `<+secrets.getValue("id")>`: a run's
    rendering keeps those in place for the step to fill in (a secret never enters the journal)."""
    found = find_unresolved(text)
    return bool(found) and all(_SECRET_REFERENCE.fullmatch(expression) for expression in found)


def find_unresolved(text: str) -> list[str]:
    """Every `<+...>` / `${...}` in text, outermost only, in order.

    Nesting is counted (`<+a.get(<+b>)>` is one expression); an expression that never
    closes runs to the end of the text.
    """
    found: list[str] = []
    pos = 0
    while True:
        starts = [(text.find(opener, pos), opener) for opener in _OPENERS]
        starts = [(at, opener) for at, opener in starts if at >= 0]
        if not starts:
            return found
        start, opener = min(starts)
        end = _closing(text, start, *_OPENERS[opener])
        found.append(text[start:end])
        pos = end


def _closing(text: str, start: int, opener: str, closer: str) -> int:
    depth = 0
    i = start
    while i < len(text):
        if text.startswith(opener, i):
            depth += 1
            i += len(opener)
            continue
        if text[i] == closer:
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return len(text)
