"""What the Debian registry does not show: Link pagination of tags, the bearer-token flow
Docker Hub uses, registries without a digest header. Against a spec-following server of the
tests' own (tests/artifacts/registries.py)."""

from __future__ import annotations

import pytest

from corral.artifacts import (
    RegistryClient,
    RegistryProtocolError,
    RegistryUnauthorized,
    RepositoryNotFound,
)

from .registries import SpecRegistry, sha256

TAGS = [f"1.{n}" for n in range(7)]


def filled(registry: SpecRegistry, repository: str = "team/web", tags: list[str] = TAGS) -> SpecRegistry:
    for n, tag in enumerate(tags):
        registry.add_image(repository, tag, created=f"2026-01-{n + 1:02d}T00:00:00Z")
    return registry


def test_tags_follow_link_pages_of_n() -> None:
    with filled(SpecRegistry()) as registry, RegistryClient(registry.url) as client:
        assert client.tags("team/web", page_size=3) == sorted(TAGS)
        pages = [e.path for e in registry.requests("/v2/team/web/tags/list")]
    assert pages == [
        "/v2/team/web/tags/list?n=3",
        "/v2/team/web/tags/list?n=3&last=1.2",
        "/v2/team/web/tags/list?n=3&last=1.5",
    ]


def test_tags_follow_pages_the_server_chooses() -> None:
    with filled(SpecRegistry(default_page=2)) as registry, RegistryClient(registry.url) as client:
        assert client.tags("team/web") == sorted(TAGS)
        assert len(registry.requests("/v2/team/web/tags/list")) == 4


def test_empty_repository_has_no_tags() -> None:
    with SpecRegistry() as registry, RegistryClient(registry.url) as client:
        registry.repositories["team/empty"] = {}
        assert client.tags("team/empty") == []
        with pytest.raises(RepositoryNotFound):
            client.tags("team/none")


def test_bearer_token_flow_fetches_one_token_per_scope() -> None:
    with filled(SpecRegistry(bearer=True)) as registry, RegistryClient(registry.url) as client:
        registry.add_image("team/api", "3.0", created="2026-02-01T00:00:00Z")
        client.tags("team/web", page_size=2)
        newest = client.newest("team/web", limit=1)
        client.digest("team/api", "3.0")
        scopes = [q["scope"][0] for q in registry.token_requests]
    assert newest[0].tag == "1.6"
    # tag pages, manifests and config blobs of team/web all used the one team/web token
    assert scopes == ["repository:team/web:pull", "repository:team/api:pull"]
    assert all("account" not in q for q in registry.token_requests)  # anonymous tokens
    assert {q["service"][0] for q in registry.token_requests} == {"spec-registry"}


def test_bearer_token_with_credentials() -> None:
    with filled(SpecRegistry(bearer=True, username="robot", password="tok3n-pw")) as registry:
        with RegistryClient(registry.url, username="robot", password="tok3n-pw") as client:
            assert client.digest("team/web", "1.3") == client.tag_info("team/web", "1.3").digest
        assert registry.token_requests[0]["account"] == ["robot"]
        assert len(registry.token_requests) == 1


def test_token_service_refusing_the_credentials() -> None:
    registry = filled(SpecRegistry(bearer=True, username="robot", password="right"))
    client = RegistryClient(registry.url, username="robot", password="wr0ng-secret")
    with registry, client, pytest.raises(RegistryUnauthorized) as caught:
        client.tags("team/web")
    assert str(caught.value) == (
        f"registry {registry.url.removeprefix('http://')}: the token service {registry.url} refused "
        "user 'robot' for repository:team/web:pull (HTTP 401); check the connector's username and password"
    )
    assert "wr0ng-secret" not in repr(caught.value)


def test_anonymous_where_the_token_service_wants_credentials() -> None:
    registry = filled(SpecRegistry(bearer=True, username="robot", password="right"))
    with registry, RegistryClient(registry.url) as client, pytest.raises(RegistryUnauthorized) as caught:
        client.check()
    assert "refused anonymous access for this registry (HTTP 401)" in str(caught.value)


def test_digest_from_the_body_when_the_registry_sends_no_header() -> None:
    with SpecRegistry(digest_header=False) as registry, RegistryClient(registry.url) as client:
        digest = registry.add_image("team/web", "1.0", created="2026-01-01T00:00:00Z", oci=True)
        assert client.digest("team/web", "1.0") == digest
        methods = [e.method for e in registry.requests("/v2/team/web/manifests/")]
    assert methods == ["HEAD", "GET"]


def test_digest_needs_only_a_head_when_the_header_is_sent() -> None:
    with filled(SpecRegistry()) as registry, RegistryClient(registry.url) as client:
        client.digest("team/web", "1.0")
        assert [e.method for e in registry.requests("/v2/team/web/manifests/")] == ["HEAD"]


def test_config_blobs_behind_a_redirect_are_followed_and_checked() -> None:
    with SpecRegistry() as registry, RegistryClient(registry.url) as client:
        registry.add_image("team/web", "1.0", created="2026-01-01T00:00:00Z", labels={"a": "b"})
        assert client.tag_info("team/web", "1.0").labels == {"a": "b"}
        config = next(d for d, body in registry.blobs.items() if b'"created"' in body)
        registry.blobs[config] = b'{"created": "2020-01-01T00:00:00Z"}'  # no longer matches its digest
        with pytest.raises(RegistryProtocolError, match="does not match its digest"):
            client.tag_info("team/web", "1.0")


def test_a_manifest_fetched_by_digest_must_match_it() -> None:
    with SpecRegistry() as registry, RegistryClient(registry.url) as client:
        digest = registry.add_image("team/web", "1.0", created="2026-01-01T00:00:00Z")
        media_type, body = registry.repositories["team/web"][digest]
        registry.repositories["team/web"][digest] = (media_type, body + b" ")
        assert sha256(body + b" ") != digest
        with pytest.raises(RegistryProtocolError, match="does not match its digest"):
            client.manifest("team/web", digest)
