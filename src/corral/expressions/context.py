"""What an expression can see: plain data, a secret resolver, runtime inputs, FirstGen values."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

MASK = "**************"


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
    used_secrets: every secret value an expression produced, so callers can mask logs.
    """

    values: Mapping[str, Any] = field(default_factory=dict)
    secrets: Callable[[str], str] | None = None
    inputs: Mapping[str, Any] = field(default_factory=dict)
    firstgen: Mapping[str, str] = field(default_factory=dict)
    keep: frozenset[str] = frozenset({"targetGroupArn"})
    used_secrets: set[str] = field(default_factory=set)

    def mask(self, text: str) -> str:
        """Text with every secret value produced so far replaced by asterisks: as is, and as
        scripts commonly print it, base64-encoded and URL-encoded."""
        forms = {form for secret in self.used_secrets if secret for form in secret_forms(secret)}
        for form in sorted(forms, key=len, reverse=True):
            text = text.replace(form, MASK)
        return text


def secret_forms(secret: str) -> set[str]:
    """The secret and its base64 (with and without padding, standard and URL-safe) and URL
    encodings (%20 and + for spaces). A secret of under 4 characters is masked only as is: its
    encodings would mask ordinary text."""
    import base64
    from urllib.parse import quote, quote_plus

    if len(secret) < 4:
        return {secret}
    raw = secret.encode()
    forms = {secret, quote(secret, safe=""), quote_plus(secret, safe="")}
    for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms |= {encoded, encoded.rstrip("=")}
    return forms
