"""What Corral knows about one tag of an image, and the order tags are shown in.

Newest first: by the image's creation time (the `created` of its config blob, the
`org.opencontainers.image.created` annotation, or ECR's push time), tags without a time
last; ties are broken by version order (`1.10` after `1.9`), highest first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

_NUMBER_OR_TEXT = re.compile(r"(\d+)|(\D+)")
_FRACTION = re.compile(r"(\.\d{6})\d+")


class TagPattern(Protocol):
    """What picks tags: a compiled pattern whose search is bounded in time (a project's
    tagRegex or tagPattern, searched in tags a registry lists: see tag_pattern)."""

    def search(self, text: str, /) -> Any: ...


def tag_pattern(text: str, label: str) -> TagPattern:
    """text compiled with a time limit per search (expressions/limits.py REGEX_TIMEOUT): a
    pattern that backtracks (`^(\\d+\\.?)+$`) on a tag someone pushed must not hold a server
    thread. ValueError when it does not compile."""
    from corral.expressions.limits import BoundedPattern

    return BoundedPattern(text, label)


@dataclass(frozen=True)
class TagInfo:
    """One tag: its manifest digest and, when looked up, when it was made and its labels."""

    tag: str
    digest: str | None = None
    created: datetime | None = None
    labels: dict[str, str] = field(default_factory=dict)
    media_type: str | None = None
    size: int | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tag": self.tag, "digest": self.digest}
        out["created"] = self.created.isoformat().replace("+00:00", "Z") if self.created else None
        out["labels"] = dict(self.labels)
        out["mediaType"] = self.media_type
        if self.size is not None:
            out["size"] = self.size
        return out


def version_key(tag: str) -> tuple[tuple[int, int | str], ...]:
    """A sort key reading runs of digits as numbers: 1.9 < 1.10 < 2.0."""
    return tuple((0, int(n)) if n else (1, t) for n, t in _NUMBER_OR_TEXT.findall(tag))


def newest_first(tags: Iterable[TagInfo]) -> list[TagInfo]:
    by_version = sorted(tags, key=lambda t: version_key(t.tag), reverse=True)
    # a stable sort keeps version order among equal times and among tags without a time
    return sorted(by_version, key=_time_key, reverse=True)


def _time_key(info: TagInfo) -> tuple[bool, float]:
    return (info.created is not None, info.created.timestamp() if info.created else 0.0)


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 time as registries write it (nanoseconds, `Z`), in UTC; None if unreadable."""
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r"\1", value.strip()).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
