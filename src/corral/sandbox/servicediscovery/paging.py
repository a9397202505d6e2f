"""NextToken / MaxResults paging over a list that is already in a stable order."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import TypeVar

from .exceptions import InvalidInput

T = TypeVar("T")


def page(
    items: Sequence[T], next_token: str | None, max_results: int | None, *, default: int = 100
) -> tuple[list[T], str | None]:
    start = _decode(next_token) if next_token else 0
    size = max_results or default
    if size < 1:
        raise InvalidInput("MaxResults must be at least 1.")
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
    raise InvalidInput("The NextToken is not valid.")
