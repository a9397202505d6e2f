"""NextToken / MaxResults paging over a list that is already in a stable order."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from .exceptions import InvalidNextTokenException, ValidationException

T = TypeVar("T")

MAX_RESULTS = 50  # the API's default and upper limit


def page(items: Sequence[T], next_token: str | None, max_results: int | None) -> tuple[list[T], str | None]:
    size = MAX_RESULTS if max_results is None else max_results
    if not 1 <= size <= MAX_RESULTS:
        raise ValidationException(f"MaxResults must be between 1 and {MAX_RESULTS}.")
    start = _decode(next_token) if next_token else 0
    end = start + size
    return list(items[start:end]), (_encode(end) if end < len(items) else None)


def _encode(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _decode(token: str) -> int:
    try:
        kind, _, value = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
        if kind == "offset" and int(value) >= 0:
            return int(value)
    except ValueError:
        pass
    raise InvalidNextTokenException("Invalid token")
