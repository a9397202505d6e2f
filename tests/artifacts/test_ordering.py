"""Newest first: creation time, then version order; times as registries write them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from corral.artifacts import TagInfo, newest_first
from corral.artifacts.auth import parse_challenge, scope_of
from corral.artifacts.images import parse_time


def test_time_first_then_version_order_then_tags_without_a_time() -> None:
    jan, feb = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC)
    tags = [
        TagInfo("1.9", created=jan),
        TagInfo("latest"),
        TagInfo("1.10", created=jan),
        TagInfo("0.1", created=feb),
        TagInfo("2.0"),
    ]
    assert [t.tag for t in newest_first(tags)] == ["0.1", "1.10", "1.9", "latest", "2.0"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-01T08:30:00Z", datetime(2026, 3, 1, 8, 30, tzinfo=UTC)),
        ("2026-03-01T08:30:00.123456789Z", datetime(2026, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)),
        ("2026-03-01T10:30:00+02:00", datetime(2026, 3, 1, 8, 30, tzinfo=UTC)),
        ("2026-03-01T08:30:00", datetime(2026, 3, 1, 8, 30, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_times_as_registries_write_them(text: str | None, expected: datetime | None) -> None:
    assert parse_time(text) == expected


def test_docker_hub_challenge() -> None:
    header = (
        'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",'
        'scope="repository:library/nginx:pull",error="insufficient_scope"'
    )
    challenge = parse_challenge(header)
    assert challenge is not None and challenge.scheme == "bearer"
    assert challenge.params == {
        "realm": "https://auth.docker.io/token",
        "service": "registry.docker.io",
        "scope": "repository:library/nginx:pull",
        "error": "insufficient_scope",
    }
    assert parse_challenge('Basic realm="Registry Realm"') == parse_challenge('basic  realm="Registry Realm"')
    assert parse_challenge("") is None


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/v2/library/nginx/tags/list", "repository:library/nginx:pull"),
        ("/v2/a/b/c/manifests/1.0", "repository:a/b/c:pull"),
        ("/v2/team/web/blobs/sha256:abc", "repository:team/web:pull"),
        ("/v2/_catalog", "registry:catalog:*"),
        ("/v2/", None),
    ],
)
def test_the_scope_a_request_needs(path: str, scope: str | None) -> None:
    assert scope_of(path) == scope
