"""Run-time input values in a ShellScript body: data for bash, never bash code.

Harness pastes an expression's value into the script text. Corral does the same for values
written in the project (variables' defaults, input sets, triggers: editors wrote them and
may mean shell text), but a value that came from a run-time input (CLI --input, the API, the
UI form; expressions/taint.py marks it) is handed to bash in an environment variable, and
the script text gets a reference to it that suits the quoting around the expression:

    bare (also inside $(...), `...`, ${...})   "${__CORRAL_V1}", or ${__CORRAL_V1} for a value
                                                 of plain words (letters, digits, spaces and
                                                 _.,:/@+=%-) so it splits as the pasted value;
                                                 refused where bash expects a command's name
    inside "..." or an unquoted heredoc, or a comment    ${__CORRAL_V1}
    inside '...'                                '"${__CORRAL_V1}"'   (close, reference, reopen)
    inside $'...'                               '"${__CORRAL_V1}"$'
    inside a quoted heredoc (<<'EOF')            the value itself, refused if a line of the
                                                 script would then be the terminator (and, after
                                                 a secret's expression, unless plain words)
    inside $((...)), ((...)), $[...], ${a[...]},  the value itself, refused unless a whole
    ${x:offset}; in let, declare -i, and            number (bash evaluates arithmetic text:
    [[ ... ]] comparing with -eq -lt ...            `a[$(cmd)]` would run cmd)

Bash never reads the value of a variable as code (no command substitution, no quote
removal, no `;`), so `hi"; echo $(cat key)` is printed, not run, and ordinary values print
what Harness prints (`echo <+pipeline.variables.msg>` prints `hello world`). Arithmetic is
the exception: bash evaluates text there, so only whole numbers go in. Known limits: an
assignment to a variable declared `-i` on an earlier line, and a script that passes a value
on to another interpreter (eval, bash -c, ssh), decide themselves what the value does.

The values travel with the step's spec under RUNTIME_VALUES, outside the reach of the
executor's second rendering (secrets), and the step adds them to the script's environment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from corral.errors import ExpressionError
from corral.expressions.context import ExpressionContext, Mode
from corral.expressions.render import Piece, render_pieces
from corral.expressions.taint import is_runtime
from corral.expressions.values import located


class ShellQuotingError(ExpressionError):
    """A run-time value that cannot go where the script puts it."""


RUNTIME_VALUES = "corralRuntimeValues"
VARIABLE_PREFIX = "__CORRAL_V"
SCRIPT_PATH = ("source", "spec", "script")

_BARE = ("top", "cmd", "tick", "brace")
_WORD_END = " \t\n;&|()<>"
# where bash expects the name of a command: a run-time value may not stand there
_COMMAND_START = re.compile(
    r"(?:^|[\n;&|(`]|(?<![$\w])\{[ \t])[ \t]*(?:(?:do|then|else|elif|if|while|until|!|time)[ \t]+)*$"
)
_INTEGER = re.compile(r"[+-]?[0-9]+")
# the first word of a simple command, after the keywords that may precede it
_COMMAND_WORD = re.compile(r"[ \t]*(?:(?:then|do|else|elif|if|while|until|!|time)[ \t]+)*([^ \t\n;&|()<>]+)")
_OFFSET = re.compile(r"#?(?:[A-Za-z_][A-Za-z0-9_]*|[0-9@*]):[^-=?+]?", re.DOTALL)
# where bash evaluates a command's arguments as arithmetic: let, declare -i, [[ x -eq y ]]
_INTEGER_OPTION = re.compile(r"[ \t]-[A-Za-z]*i")
_ARITHMETIC_TEST = re.compile(r"(?:^|[ \t])-(?:eq|ne|lt|le|gt|ge)(?=[ \t]|$)")
# values bash does nothing to but split at spaces (no glob, tilde or brace characters): left
# unquoted in bare text they become the same words as the pasted value would
PLAIN_WORDS = re.compile(r"[A-Za-z0-9_.,:/@+=% -]*")
_UNKNOWN = "__corral_later__"


def script_of(spec: dict[str, Any]) -> Any:
    source = spec.get("source")
    inner = source.get("spec") if isinstance(source, dict) else None
    return inner.get("script") if isinstance(inner, dict) else None


def with_script(spec: dict[str, Any], script: Any) -> dict[str, Any]:
    source = dict(spec["source"])
    source["spec"] = {**source["spec"], "script": script}
    return {**spec, "source": source}


def runtime_environment(spec: dict[str, Any]) -> dict[str, str]:
    """The environment variables holding the run-time values the script refers to."""
    values = spec.get(RUNTIME_VALUES) or {}
    return {str(k): str(v) for k, v in values.items() if str(k).startswith(VARIABLE_PREFIX)}


def render_script(
    script: str, ctx: ExpressionContext, *, path: str, mode: Mode = Mode.FAIL
) -> tuple[str, dict[str, str]]:
    """The script with every expression filled in, and the run-time values it now refers to.
    ExpressionError (naming `path`) when a run-time value cannot go where it is written."""
    if is_runtime(script):
        raise ShellQuotingError(
            located(
                path,
                "the script's text cannot be a run-time input: run-time inputs are data; "
                "write the script in the pipeline and pass the value in a variable",
            )
        )
    out: list[str] = []  # the script's text
    seen: list[str] = []  # the same text as the scanner reads it
    environment: dict[str, str] = {}
    pasted: list[_Pasted] = []
    tests: list[tuple[int, int, Piece]] = []  # values inside [[ ... ]]: (command at, value at)
    deferred = False  # an expression filled in later (a secret) stands before
    for piece in render_pieces(script, ctx, mode=mode, path=path):
        if not piece.expression or not is_runtime(piece.value):
            out.append(piece.text)
            # an expression filled in later is read as one plain word: its value is unknown
            seen.append(_UNKNOWN if piece.deferred else piece.text)
            deferred = deferred or piece.deferred
            continue
        name = f"{VARIABLE_PREFIX}{len(environment) + 1}"
        text = "".join(seen)
        context = scan(text)
        if context.kind == "heredoc" and context.quoted and deferred:
            context.uncertain = True
        if _integer_command(context, text) and _INTEGER.fullmatch(piece.text) is None:
            how = context.command if context.command == "let" else f"{context.command} -i"
            raise ShellQuotingError(located(path, _arithmetic(piece.source, how)))
        if context.command == "[[":
            tests.append((context.command_at, len(text), piece))
        reference = _reference(context, name, piece, path)
        if reference is None:  # pasted as it is
            start = len("".join(out))
            pasted.append(_Pasted(start, start + len(piece.text), context, piece.source))
            out.append(str(piece.text))
            seen.append(str(piece.text))
        else:
            environment[name] = str(piece.text)
            out.append(reference)
            seen.append(reference)
    rendered = "".join(out)
    for paste in pasted:
        paste.check(rendered, path)
    _check_tests("".join(seen), tests, path)
    return rendered, environment


def _integer_command(context: Context, text: str) -> bool:
    """let and declare -i (typeset, local, readonly, export) evaluate their words as arithmetic."""
    if context.command == "let":
        return True
    integer = context.command in ("declare", "typeset", "local", "readonly", "export")
    return integer and _INTEGER_OPTION.search(text, context.command_at) is not None


def _check_tests(text: str, tests: list[tuple[int, int, Piece]], path: str) -> None:
    """A value in [[ ... ]] compared with -eq, -lt, ... is evaluated as arithmetic by bash."""
    for command_at, at, piece in tests:
        end = text.find("]]", at)
        condition = text[command_at : len(text) if end < 0 else end]
        if _ARITHMETIC_TEST.search(condition) and _INTEGER.fullmatch(piece.text) is None:
            raise ShellQuotingError(located(path, _arithmetic(piece.source, "[[ ... -eq ... ]]")))


def _arithmetic(source: str, where: str) -> str:
    return (
        f"{source} stands in shell arithmetic ({where}), where bash evaluates text; a run-time "
        "value there must be a whole number"
    )


# -- where in the script an expression stands --------------------------------------------


@dataclass
class Context:
    """The innermost construct open at the end of some script text."""

    kind: str  # top cmd tick brace dq sq ansi arith comment heredoc
    closer: str = ""
    depth: int = 0
    terminator: str = ""  # of a heredoc
    strip_tabs: bool = False  # <<- : the terminator line may start with tabs
    quoted: bool = False  # <<'EOF', <<"EOF", <<\EOF: no expansion in the body
    escaped: bool = False  # the text ends with a backslash that escapes what follows
    command_start: bool = False  # bare text where bash expects a command's name
    uncertain: bool = False  # a quoted heredoc, after text only known later (a secret)
    start: int = 0  # where the construct's text starts
    command_at: int = 0  # top, cmd, tick: where the current simple command starts
    command: str = ""  # at the end of the scan: the current simple command's first word
    pending: list[Context] = field(default_factory=list)  # heredocs starting at the next newline


def scan(text: str) -> Context:
    """What is open at the end of text: a small bash reader, enough to know the quoting."""
    return _Scanner(text).run()


class _Scanner:
    def __init__(self, text: str) -> None:
        self.text = text
        self.i = 0
        self.stack = [Context("top")]

    def run(self) -> Context:
        while self.i < len(self.text):
            frame = self.stack[-1]
            if frame.kind in _BARE:
                self.bare(frame)
            elif frame.kind == "dq":
                self.double(frame)
            elif frame.kind in ("sq", "ansi"):
                self.single(frame)
            elif frame.kind == "comment":
                if self.text[self.i] == "\n":
                    self.stack.pop()  # the newline itself belongs to the enclosing command
                else:
                    self.i += 1
            elif frame.kind == "arith":
                self.arith(frame)
            else:
                self.heredoc(frame)
            if self.stack[-1].escaped:
                break
        top = self.stack[-1]
        top.command_start = (
            top.kind in ("top", "cmd", "tick") and _COMMAND_START.search(self.text) is not None
        )
        command = next(f for f in reversed(self.stack) if f.kind in ("top", "cmd", "tick"))
        top.command_at = command.command_at
        word = _COMMAND_WORD.match(self.text, command.command_at)
        top.command = word.group(1) if word else ""
        return top

    def push(self, kind: str, width: int, **details: Any) -> None:
        start = self.i + width
        self.stack.append(Context(kind, start=start, command_at=start, **details))
        self.i += width

    def backslash(self, frame: Context) -> None:
        if self.i + 1 >= len(self.text):
            frame.escaped = True
        self.i += 2

    def expansion(self) -> bool:
        """$((, $(, ${, $[ and backticks, open wherever expansions happen."""
        text, i = self.text, self.i
        if text.startswith("$((", i):
            self.push("arith", 3, closer="))")
        elif text.startswith("$(", i):
            self.push("cmd", 2)
        elif text.startswith("${", i):
            self.push("brace", 2)
        elif text.startswith("$[", i):
            self.push("arith", 2, closer="]")
        elif text[i] == "`":
            self.push("tick", 1)
        else:
            return False
        return True

    def bare(self, frame: Context) -> None:
        text, i = self.text, self.i
        char = text[i]
        if char == "\\":
            self.backslash(frame)
        elif (
            (char == "`" and frame.kind == "tick")
            or (char == "}" and frame.kind == "brace")
            or (char == ")" and frame.kind == "cmd" and frame.depth == 0)
        ):
            self.stack.pop()
            self.i += 1
        elif char == "'":
            self.push("sq", 1)
        elif char == '"':
            self.push("dq", 1)
        elif text.startswith("$'", i):
            self.push("ansi", 2)
        elif self.expansion():
            pass
        elif char == "#" and (i == 0 or text[i - 1] in _WORD_END):
            self.push("comment", 1)
        elif text.startswith("<<", i) and not text.startswith("<<<", i):
            self.heredoc_operator(frame)
        elif text.startswith("((", i) and _COMMAND_START.search(text, 0, i) is not None:
            self.push("arith", 2, closer="))")
        elif char == "\n" and frame.pending:
            # heredoc bodies start after the line that announced them, in order
            self.stack.extend(reversed(frame.pending))
            frame.pending = []
            self.i += 1
        elif frame.kind == "brace" and char == "[":
            self.push("arith", 1, closer="]")  # ${array[...]}: bash evaluates the subscript
        elif frame.kind == "brace" and char == ":" and _OFFSET.fullmatch(text, frame.start, i + 2):
            self.push("arith", 1, closer="}")  # ${name:offset:length}
        else:
            if frame.kind == "cmd" and char in "()":
                frame.depth += 1 if char == "(" else -1
            if char in "\n;&|(":
                frame.command_at = i + 1
            self.i += 1

    def heredoc_operator(self, frame: Context) -> None:
        text = self.text
        j = self.i + 2
        strip_tabs = text.startswith("-", j)
        j += 1 if strip_tabs else 0
        while j < len(text) and text[j] in " \t":
            j += 1
        word, quoted = [], False
        while j < len(text) and text[j] not in _WORD_END:
            char = text[j]
            if char in "'\"":
                end = text.find(char, j + 1)
                end = len(text) if end < 0 else end
                word.append(text[j + 1 : end])
                quoted, j = True, end + 1
            elif char == "\\":
                word.append(text[j + 1 : j + 2])
                quoted, j = True, j + 2
            else:
                word.append(char)
                j += 1
        if word:
            heredoc = Context("heredoc", terminator="".join(word), strip_tabs=strip_tabs, quoted=quoted)
            frame.pending.append(heredoc)
        self.i = j

    def double(self, frame: Context) -> None:
        char = self.text[self.i]
        if char == "\\":
            self.backslash(frame)
        elif char == '"':
            self.stack.pop()
            self.i += 1
        elif not self.expansion():
            self.i += 1

    def single(self, frame: Context) -> None:
        char = self.text[self.i]
        if char == "\\" and frame.kind == "ansi":
            self.backslash(frame)
        elif char == "'":
            self.stack.pop()
            self.i += 1
        else:
            self.i += 1

    def arith(self, frame: Context) -> None:
        text, i = self.text, self.i
        char = text[i]
        if frame.depth == 0 and text.startswith(frame.closer, i):
            self.stack.pop()
            self.i += 0 if frame.closer == "}" else len(frame.closer)  # "}" also ends the ${...}
        elif char == "\\":
            self.backslash(frame)
        elif char == '"':
            self.push("dq", 1)
        elif char == "'":
            self.push("sq", 1)
        elif self.expansion():
            pass
        else:
            if char in "()":
                frame.depth += 1 if char == "(" else -1
            self.i += 1

    def heredoc(self, frame: Context) -> None:
        text, i = self.text, self.i
        at_line_start = i == 0 or text[i - 1] == "\n"
        if at_line_start:
            end = text.find("\n", i)
            if end >= 0:
                line = text[i:end]
                if (line.lstrip("\t") if frame.strip_tabs else line) == frame.terminator:
                    self.stack.pop()
                    self.i = end + 1
                    self.stack[-1].command_at = self.i
                    return
            if frame.quoted:  # nothing is special in the body: skip the line
                self.i = len(text) if end < 0 else end + 1
                return
        char = text[i]
        if frame.quoted:
            self.i += 1
        elif char == "\\":
            self.backslash(frame)
        elif not self.expansion():
            self.i += 1


# -- what goes in the script's text ------------------------------------------------------


def _reference(context: Context, name: str, piece: Piece, path: str) -> str | None:
    """The text that stands for the value there; None: paste the value (a quoted heredoc)."""
    if context.escaped:
        raise ShellQuotingError(
            located(
                path,
                f"{piece.source} follows a backslash; remove the backslash (a run-time value is "
                "never shell text, so there is nothing to escape)",
            )
        )
    kind = context.kind
    if kind in _BARE and context.command_start:
        raise ShellQuotingError(
            located(
                path,
                f"{piece.source} stands where bash expects a command; a run-time value is data "
                "and cannot name the command to run",
            )
        )
    if kind in _BARE:
        # plain words split as the pasted value would (printf '%s\\n' <+x>, for x in <+x>)
        plain = PLAIN_WORDS.fullmatch(piece.text) is not None
        return f"${{{name}}}" if plain else f'"${{{name}}}"'
    if kind in ("dq", "comment") or (kind == "heredoc" and not context.quoted):
        return f"${{{name}}}"
    if kind == "sq":
        return f"'\"${{{name}}}\"'"
    if kind == "ansi":
        return f"'\"${{{name}}}\"$'"
    if kind == "arith":
        if _INTEGER.fullmatch(piece.text) is None:
            raise ShellQuotingError(located(path, _arithmetic(piece.source, "$((...)), ((...)), ${a[...]}")))
        return None  # digits are the same text in any context
    if context.uncertain and PLAIN_WORDS.fullmatch(piece.text) is None:
        # a secret filled in later could end the heredoc before this point
        raise ShellQuotingError(
            located(
                path,
                f"{piece.source} stands in a quoted heredoc after a secret's expression; there a "
                "run-time value must be plain words (letters, digits, spaces and _.,:/@+=%-)",
            )
        )
    return None  # a quoted heredoc: checked once the whole script is known


@dataclass
class _Pasted:
    """A run-time value pasted into a quoted heredoc, or a whole number into arithmetic."""

    start: int
    end: int
    context: Context
    source: str

    def check(self, script: str, path: str) -> None:
        if self.context.kind != "heredoc":
            return
        first = script.rfind("\n", 0, self.start) + 1
        last = script.find("\n", self.end)
        lines = script[first : len(script) if last < 0 else last].split("\n")
        terminator = self.context.terminator
        if any((line.lstrip("\t") if self.context.strip_tabs else line) == terminator for line in lines):
            raise ShellQuotingError(
                located(
                    path,
                    f"the value of {self.source} would end the heredoc <<{terminator} early "
                    f"(a line of it would read '{terminator}'); it is refused",
                )
            )
