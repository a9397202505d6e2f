"""The names other parts of Corral import from corral.expressions stay put."""

from __future__ import annotations

import dataclasses
import enum

import corral.expressions as expressions
from corral.expressions import ExpressionContext, InputSpec, Mode


def test_all_is_sorted_and_complete() -> None:
    assert expressions.__all__ == sorted(expressions.__all__)
    assert set(expressions.__all__) >= {
        "ExpressionContext",
        "InputSpec",
        "Mode",
        "Template",
        "container_name",
        "evaluate",
        "find_expressions",
        "find_inputs",
        "parse",
        "render",
    }
    for name in expressions.__all__:
        assert getattr(expressions, name) is not None


def test_mode_members() -> None:
    assert issubclass(Mode, enum.Enum)
    assert {member.name for member in Mode} == {"NULL", "KEEP", "FAIL"}


def test_input_spec_fields() -> None:
    names = [field.name for field in dataclasses.fields(InputSpec)]
    assert names[:5] == ["path", "expression", "default", "allowed_values", "required"]


def test_context_defaults() -> None:
    ctx = ExpressionContext(values={})
    assert ctx.secrets is None
    assert dict(ctx.inputs) == {}
    assert dict(ctx.firstgen) == {}
    assert ctx.keep == frozenset({"targetGroupArn"})
    assert ctx.used_secrets == set()
