"""nextToken / maxResults paging for the List* operations (opaque offset tokens)."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import TypeVar

from .exceptions import InvalidParameterException

T = TypeVar("T")


def page(
    items: Sequence[T], *, next_token: str | None, max_results: int | None, default: int, limit: int
) -> tuple[list[T], str | None]:
    size = default if max_results is None else max_results
    if size < 1 or size > limit:
        raise InvalidParameterException(f"maxResults must be between 1 and {limit}.")
    start = _offset(next_token)
    chunk = list(items[start : start + size])
    end = start + len(chunk)
    return chunk, (_token(end) if end < len(items) else None)


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"offset": offset}).encode()).decode()


def _offset(token: str | None) -> int:
    if not token:
        return 0
    try:
        offset = json.loads(base64.urlsafe_b64decode(token.encode()))["offset"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidParameterException("Invalid nextToken.") from exc
    if not isinstance(offset, int) or offset < 0:
        raise InvalidParameterException("Invalid nextToken.")
    return offset
