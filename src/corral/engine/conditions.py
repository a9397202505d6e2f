"""Conditions written with expressions: `when.condition`, Http `assertion`, Verify success conditions.

    <+pipeline.variables.deploy> == "yes"     text around <+...> is part of the condition
    <+httpResponseCode == 200>                one expression
    true                                      a constant

Blocks are put back into one expression (`(pipeline.variables.deploy) == "yes"`) before it is
evaluated, so a string value compares as a string instead of being pasted in as text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from corral.errors import ExpressionError
from corral.expressions import ExpressionContext, Mode, evaluate, parse
from corral.expressions.nodes import Block, Text
from corral.expressions.values import truthy


def condition_expression(text: str) -> str:
    """The expression body a condition text stands for."""
    template = parse(text)
    if template.is_literal:
        return text.strip()
    pieces = []
    for part in template.parts:
        if isinstance(part, Text):
            pieces.append(part.value)
        elif isinstance(part, Block):
            pieces.append(f"({part.source[2:-1].strip()})")
        else:
            raise ExpressionError(f"{part.source} cannot stand in a condition", expression=text)
    return "".join(pieces).strip()


def evaluate_condition(text: str | bool, values: Mapping[str, Any]) -> bool:
    """True when the condition holds; ExpressionError when it cannot be evaluated."""
    if isinstance(text, bool):
        return text
    body = condition_expression(text)
    if not body:
        raise ExpressionError("empty condition", expression=text)
    value = evaluate(body, ExpressionContext(values=values, keep=frozenset()), mode=Mode.FAIL)
    return truthy(value)
