"""Expressions rendered into a manifest's text before it is parsed, as Harness does.

    rendered = render_text(file, evaluate)     # evaluate("<+service.name>") -> "web" | KEEP
    doc = parse(rendered.text)                 # then JSON or YAML, as written

Harness replaces every `<+...>` (and FirstGen `${NAME}`) in the file's text and then parses the result, so people write
`"family": <+service.name>` (no quotes) and `"<+secrets.getValue("db")>"` (quotes inside a JSON
string). Corral does the same, but a value can never change the document's structure:

- inside a JSON string or a double-quoted YAML scalar, the value is written as string content
  (`"` becomes `\\"`, a newline `\\n`); inside a single-quoted YAML scalar, `'` becomes `''`;
- standing bare (`"family": <+service.name>`, `replicas: <+x>`), a number, true or false (or
  text that is exactly one) is written as that scalar, other text as a quoted string, so
  `<+service.name>` gives the string "web"; a list or map from the project's own files is
  written as JSON (flow style in YAML); from a run-time input it is a string;
- inside longer unquoted YAML text (`image: repo:<+artifact.tag>`), a run-time input value that
  could end the scalar (a newline, `: `, ` #`) is refused: quote the scalar.

An expression whose value holds `<+` or `${` (a secret reference kept for the step, a run-time
input without its value yet) and one that cannot be answered yet stays as written (quoted
where it stands bare) and is rendered after parsing, where its path is known. `spots` gives
the line and column of every expression, for messages.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from corral.errors import ConfigError, ExpressionError, Problem
from corral.expressions.firstgen import PLACEHOLDER, looks_like_firstgen
from corral.expressions.lexer import expression_end
from corral.expressions.masking import mask_text
from corral.expressions.taint import is_runtime
from corral.expressions.values import to_text

from .manifest_file import ManifestFile

KEEP = object()  # what `evaluate` returns for an expression rendered after parsing
_SCALAR = re.compile(r"-?(0|[1-9][0-9]*)([.][0-9]+)?([eE][-+]?[0-9]+)?|true|false")
_PLAIN_BREAKS = re.compile(r"\n|\r|: |:$| #|^[\s\"'{\[&*!|>%@`#,-]|\s$")

Evaluate = Callable[[str], Any]


@dataclass(frozen=True)
class Spot:
    """One expression in the text: where it stands and how its value is written there."""

    start: int
    end: int
    source: str  # the expression as written (JSON escapes inside a string undone)
    where: str  # "string" (JSON / YAML double quotes), "single" (YAML), "bare", "plain" (in YAML text)
    line: int
    column: int


@dataclass
class RenderedText:
    text: str
    spots: list[Spot] = field(default_factory=list)
    # (start, end) in the rendered text of each spot that was rendered, and the spot
    placed: list[tuple[int, int, Spot]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    as_written: str = ""  # the text with every expression kept, bare ones quoted

    def where(self, text: str) -> str:
        """' (line L, column C)' of the first expression inside `text`, or ''."""
        spot = next((s for s in self.spots if s.source in text), None)
        return f" (line {spot.line}, column {spot.column})" if spot else ""


def is_json_text(source: str, text: str) -> bool:
    return source.lower().endswith(".json") or text.lstrip()[:1] in ("{", "[")


def render_text(file: ManifestFile, evaluate: Evaluate) -> RenderedText:
    """The file's text with every expression that has a value put in its place."""
    text = file.text
    if "<+" not in text and "${" not in text:
        return RenderedText(text)
    spots = find_spots(text, json_syntax=is_json_text(file.source, text))
    out: list[str] = []
    kept: list[str] = []
    rendered = RenderedText("", spots)
    at = 0
    for spot in spots:
        kept += [text[at : spot.start], _kept(spot, text)]
        out.append(text[at : spot.start])
        offset = sum(len(piece) for piece in out)
        piece = _written(spot, text, evaluate, rendered, file.source)
        out.append(piece)
        if piece != text[spot.start : spot.end]:
            rendered.placed.append((offset, offset + len(piece), spot))
        at = spot.end
    out.append(text[at:])
    rendered.text = "".join(out)
    rendered.as_written = "".join([*kept, text[at:]])
    return rendered


def find_spots(text: str, *, json_syntax: bool) -> list[Spot]:
    """Every `<+...>` in text outside YAML comments, with the kind of place it stands in."""
    spots: list[Spot] = []
    quote = ""  # the open string's quote character, or ""
    i, line, line_start = 0, 1, 0
    while i < len(text):
        char = text[i]
        if text.startswith("<+", i) or (text.startswith("${", i) and _placeholder(text, i)):
            spot = _spot(text, i, quote, json_syntax, line, line_start)
            if spot is not None:
                spots.append(spot)
                line += text.count("\n", i, spot.end)
                if "\n" in text[i : spot.end]:
                    line_start = text.rindex("\n", i, spot.end) + 1
                i = spot.end
                continue
        if char == "\n":
            line, line_start = line + 1, i + 1
        if quote == '"':
            if char == "\\":
                i += 2
                continue
            if char == '"':
                quote = ""
        elif quote == "'":
            if text.startswith("''", i):
                i += 2
                continue
            if char == "'":
                quote = ""
        elif char in "\"'" and (json_syntax or _scalar_starts(text, i, line_start)):
            quote = char
        elif char == "#" and not json_syntax and (i == line_start or text[i - 1] in " \t"):
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        i += 1
    return spots


def _scalar_starts(text: str, i: int, line_start: int) -> bool:
    """A quote opens a YAML scalar only where a value or key begins."""
    before = text[line_start:i].rstrip()
    return not before or before.endswith((":", "-", "[", "{", ",", "?"))


def _spot(text: str, i: int, quote: str, json_syntax: bool, line: int, line_start: int) -> Spot | None:
    where = {"": "bare", '"': "string", "'": "single"}[quote]
    if where == "bare" and not json_syntax:
        where = "plain"  # in YAML, bare only when it is the whole value (below)
    column = i - line_start + 1
    placeholder = _placeholder(text, i)
    if placeholder is not None:  # FirstGen ${NAME}
        end = placeholder.end()
        if where == "plain" and _stands_alone(text, i, end):
            where = "bare"
        return Spot(i, end, placeholder.group(0), where, line, column)
    if quote == '"':  # `"<+secrets.getValue(\"db\")>"`: the escapes belong to the string
        plain, positions = _unescaped(text, i)
        try:
            length = expression_end(plain, 0)
        except ExpressionError:
            return None
        return Spot(i, positions[length], plain[:length], where, line, column)
    try:
        end = expression_end(text, i)
    except ExpressionError:
        return None  # reported with its path after parsing
    if where == "plain" and _stands_alone(text, i, end):
        where = "bare"
    return Spot(i, end, text[i:end], where, line, column)


def _placeholder(text: str, i: int) -> re.Match[str] | None:
    match = PLACEHOLDER.match(text, i)
    return match if match is not None and looks_like_firstgen(match.group(1)) else None


def _stands_alone(text: str, start: int, end: int) -> bool:
    """In YAML: the expression is the whole value (`key: <+x>`, `- <+x>`)."""
    line_start = text.rfind("\n", 0, start) + 1
    raw = text[line_start:start]
    before = raw.rstrip()
    spaced = raw != before  # `key: <+x>`, not `key:<+x>` or `repo:<+x>`
    if before and not (before.endswith(("[", "{", ",")) or (spaced and before.endswith((":", "-")))):
        return False
    line_end = text.find("\n", end)
    after = text[end : len(text) if line_end < 0 else line_end].lstrip()
    return not after or after[0] in "#,]}"


def _unescaped(text: str, start: int) -> tuple[str, list[int]]:
    """text from start to the end of its line with `\\"` and `\\\\` undone, and for each index
    of the result the index in text it came from (one more at the end)."""
    line_end = text.find("\n", start)
    stop = len(text) if line_end < 0 else line_end
    chars: list[str] = []
    positions: list[int] = []
    i = start
    while i < stop:
        if text[i] == "\\" and i + 1 < stop and text[i + 1] in '"\\':
            positions.append(i)
            chars.append(text[i + 1])
            i += 2
            continue
        positions.append(i)
        chars.append(text[i])
        i += 1
    positions.append(stop)
    return "".join(chars), positions


def _written(spot: Spot, text: str, evaluate: Evaluate, rendered: RenderedText, source: str) -> str:
    """What the spot becomes in the text."""
    as_written = text[spot.start : spot.end]
    try:
        value = evaluate(spot.source)
    except ExpressionError:
        value = KEEP  # reported with its path once parsed
    if value is KEEP and spot.source.startswith("${"):
        return as_written  # a placeholder without a value is reported as one (manifests/service_rendering.py)
    if value is KEEP or _holds_expression(value):
        return _kept(spot, text)
    runtime = is_runtime(value)
    if spot.where == "string":
        return json.dumps(to_text(value), ensure_ascii=False)[1:-1]
    if spot.where == "single":
        return to_text(value).replace("'", "''")
    if spot.where == "bare":
        return _scalar(value, runtime)
    value_text = to_text(value)
    if runtime and _PLAIN_BREAKS.search(value_text):
        rendered.problems.append(
            Problem(
                source,
                f"line {spot.line}, column {spot.column}",
                f"the run-time value of {spot.source} cannot stand in unquoted YAML text here "
                "(it would end the value); put the value in quotes",
            )
        )
        return as_written
    return value_text


def _kept(spot: Spot, text: str) -> str:
    """The expression as written, quoted where it stands bare (rendered after parsing)."""
    if spot.where == "bare":
        return json.dumps(spot.source, ensure_ascii=False)
    if spot.where == "string":
        return json.dumps(spot.source, ensure_ascii=False)[1:-1]
    return text[spot.start : spot.end]


def _scalar(value: Any, runtime: bool) -> str:
    """A value standing bare: one JSON scalar (a string unless it is a number or boolean), or
    the JSON of a list or map from the project's own files."""
    if isinstance(value, bool) or value is None:
        return to_text(value)
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, list | dict) and not runtime:
        return to_text(value)
    text = to_text(value)
    return text if _scalar_text(text) else json.dumps(text, ensure_ascii=False)


def _scalar_text(text: str) -> bool:
    """Text that reads back as itself: "3", "true"; not "1.10" (the number 1.1) or "007"."""
    if not _SCALAR.fullmatch(text):
        return False
    return text in ("true", "false") or json.dumps(json.loads(text)) == text


def _holds_expression(value: Any) -> bool:
    text = to_text(value)
    return "<+" in text or "${" in text


# -- a parse error in the rendered text -------------------------------------------------


def explain_parse_error(
    error: ConfigError, file: ManifestFile, rendered: RenderedText, secrets: Iterable[str]
) -> ConfigError:
    """The parser's problem, with the rendered line shown (secrets masked) and the line and
    column moved back into the file as written, when an expression's value is on that line."""
    if not rendered.placed:
        return error
    out = []
    for problem in error.problems:
        match = re.fullmatch(r"line (\d+), column (\d+)", problem.path)
        if match is None:
            out.append(problem)
            continue
        line = int(match.group(1))
        lines = rendered.text.split("\n")
        start = sum(len(item) + 1 for item in lines[: line - 1])
        end = start + len(lines[line - 1]) if line <= len(lines) else start
        on_line = [spot for s, e, spot in rendered.placed if s <= end and e >= start]
        if not on_line:
            out.append(problem)
            continue
        shown = mask_text(lines[line - 1].strip(), secrets)
        first = on_line[0]
        from_ = ", ".join(f"{spot.source} at line {spot.line}, column {spot.column}" for spot in on_line)
        message = f"{problem.message}; the line as rendered is: {shown} (from {from_})"
        out.append(Problem(problem.file, f"line {first.line}, column {first.column}", message))
    return ConfigError(out)
