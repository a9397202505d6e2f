"""The parsed form of templates and expressions: small frozen dataclasses.

A Template is a sequence of parts: literal Text, <+...> Blocks, runtime inputs (InputRef)
and FirstGen ${...} placeholders. A Block holds an expression tree built from the other
node classes. `pos` is the offset in the parsed text, for error messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Literal:
    value: Any  # None, bool, int, float or str
    pos: int


@dataclass(frozen=True)
class StringTemplate:
    """A string literal holding <+...>, as in .replace("a", "<+pipeline.variables.b>")."""

    template: Template
    pos: int


@dataclass(frozen=True)
class Var:
    name: str
    pos: int


@dataclass(frozen=True)
class Attr:
    target: Node
    name: str
    pos: int


@dataclass(frozen=True)
class Index:
    target: Node
    key: Node
    pos: int


@dataclass(frozen=True)
class Method:
    target: Node
    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True)
class Unary:
    op: str  # ! - +
    operand: Node
    pos: int


@dataclass(frozen=True)
class Binary:
    op: str  # + - * / % == != < <= > >= && ||
    left: Node
    right: Node
    pos: int


@dataclass(frozen=True)
class Ternary:
    condition: Node
    then: Node
    otherwise: Node
    pos: int


@dataclass(frozen=True)
class Block:
    """<+ expr >, either a part of a template or nested inside another expression."""

    expr: Node
    source: str
    pos: int


Node = Literal | StringTemplate | Var | Attr | Index | Method | Unary | Binary | Ternary | Block


@dataclass(frozen=True)
class Text:
    value: str
    pos: int


@dataclass(frozen=True)
class FirstGenRef:
    name: str  # DOCKER_IMAGE_NAME, serviceVariable.port, ...
    source: str  # ${...}
    pos: int


@dataclass(frozen=True)
class InputRef:
    """<+input> with its options, e.g. <+input>.default(dev).allowedValues(dev,prod)."""

    source: str
    pos: int
    default: Any = None
    allowed_values: tuple[str, ...] | None = None
    regex: str | None = None
    execution_input: bool = False


Part = Text | FirstGenRef | Block | InputRef


@dataclass(frozen=True)
class Template:
    """Parsed text: literal text mixed with expressions."""

    source: str
    parts: tuple[Part, ...]

    @property
    def is_single(self) -> bool:
        """True when the whole text is one expression, whose value then keeps its type."""
        return len(self.parts) == 1 and not isinstance(self.parts[0], Text)

    @property
    def is_literal(self) -> bool:
        """True when there is nothing to evaluate."""
        return all(isinstance(part, Text) for part in self.parts)

    def expressions(self) -> list[str]:
        """Source text of each top-level expression, input and placeholder, in order."""
        return [part.source for part in self.parts if not isinstance(part, Text)]
