"""What an expression can see: plain data, a secret resolver, runtime inputs, FirstGen values."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from corral.expressions.masking import MASK, mask_text

__all__ = ["MASK", "ExpressionContext", "Mode", "SecretMemory"]


@runtime_checkable
class SecretMemory(Protocol):
    """A secret resolver that also keeps the values computed from its secrets, to mask them."""

    def remember(self, value: str) -> None: ...


class Mode(enum.Enum):
    """What rendering does with an expression it cannot resolve."""

    NULL = "null"  # the value becomes None ("null" inside text)
    KEEP = "keep"  # the original <+...> text stays in place
    FAIL = "fail"  # ExpressionError naming the path and the expression


@dataclass
class ExpressionContext:
    """Everything an expression may read.

    values:       nested plain data (dicts, lists, strings, numbers, booleans, None) keyed by
                  root name: artifacts/artifact, service, serviceVariables, env, infra,
                  pipeline, stage, execution, ... (see aliases.py for the names that are
                  the same thing).
    secrets:      resolver for secrets.getValue("id"); without one, secret expressions are
                  unresolved (kept in KEEP mode), so stored documents never hold secrets.
    inputs:       runtime input values keyed by the path find_inputs reports.
    firstgen:     values of FirstGen ${...} placeholders: DOCKER_IMAGE_NAME, CONTAINER_NAME,
                  EXECUTION_ROLE, serviceVariable.NAME.
    keep:         references left verbatim when they have no value, whatever the mode;
                  an entry also keeps everything under it ("pipeline" keeps
                  <+pipeline.executionId>). <+targetGroupArn> is filled in by the Blue
                  Green step at run time.
    used_secrets: every secret value an expression produced, and every string computed from
                  one (toUpperCase, substring, base64, ...), so callers can mask logs. When
                  `secrets` has a `remember(value)` method (SecretResolver), computed values
                  are passed to it too, so every masker built from that resolver hides them.
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    secrets: Callable[[str], str] | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    firstgen: Mapping[str, str] = field(default_factory=dict)
    keep: frozenset[str] = frozenset({"targetGroupArn"})
    used_secrets: set[str] = field(default_factory=set)

    def mask(self, text: str) -> str:
        """Text with every secret value produced so far, and every value computed from one,
        replaced by asterisks, in every form masking.py knows."""
        return mask_text(text, self.used_secrets)
