"""RegistryClient against a real registry (Debian docker-registry, htpasswd basic auth)."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime

import pytest

from corral.artifacts import (
    RegistryClient,
    RegistryUnauthorized,
    RegistryUnreachable,
    RepositoryNotFound,
    TagNotFound,
)

from .conftest import WEB_TAGS, Filled
from .registries import free_port


def client(filled: Filled, **options: object) -> RegistryClient:
    registry = filled.registry
    return RegistryClient(registry.url, username=registry.username, password=registry.password, **options)  # type: ignore[arg-type]


def test_lists_every_tag(distribution: Filled) -> None:
    with client(distribution) as registry:
        assert sorted(registry.tags("team/web")) == sorted(WEB_TAGS)


def test_digest_of_a_docker_schema_2_tag(distribution: Filled) -> None:
    with client(distribution) as registry:
        assert registry.digest("team/web", "1.9") == distribution.web["1.9"].digest
        manifest = registry.manifest("team/web", "1.9")
    assert manifest.media_type == "application/vnd.docker.distribution.manifest.v2+json"
    assert manifest.digest == distribution.web["1.9"].digest


def test_digest_of_an_oci_tag(distribution: Filled) -> None:
    with client(distribution) as registry:
        assert registry.digest("team/oci", "v2") == distribution.oci["v2"].digest
        assert registry.manifest("team/oci", "v2").media_type == "application/vnd.oci.image.manifest.v1+json"


def test_digest_of_an_oci_index_is_the_index_digest(distribution: Filled) -> None:
    assert distribution.index is not None
    with client(distribution) as registry:
        assert registry.digest("team/multi", "2.0") == distribution.index.digest
        manifest = registry.manifest("team/multi", "2.0")
    assert manifest.is_index and manifest.media_type == "application/vnd.oci.image.index.v1+json"


def test_metadata_from_the_image_config(distribution: Filled) -> None:
    with client(distribution) as registry:
        info = registry.tag_info("team/web", "1.9")
    assert info.digest == distribution.web["1.9"].digest
    assert info.created == datetime(2026, 3, 1, 8, 30, 0, 123456, tzinfo=UTC)  # nanoseconds cut to micro
    assert info.labels == {"org.opencontainers.image.version": "1.9", "team": "web"}
    assert info.to_dict()["created"] == "2026-03-01T08:30:00.123456Z"


def test_metadata_of_a_multi_platform_tag_comes_from_linux_amd64(distribution: Filled) -> None:
    assert distribution.index is not None
    with client(distribution) as registry:
        info = registry.tag_info("team/multi", "2.0")
    # amd64 was built a day before arm64: its time is the one ECS's default platform runs
    assert info.created == datetime(2026, 6, 1, tzinfo=UTC)
    assert info.digest == distribution.index.digest


def test_newest_first_by_creation_time_not_by_name(distribution: Filled) -> None:
    with client(distribution) as registry:
        tags = [t.tag for t in registry.newest("team/web")]
        assert tags == ["1.9", "2.0-rc1", "1.10", "1.0"]
        assert [t.tag for t in registry.newest("team/web", pattern=re.compile(r"^1\.\d+$"), limit=2)] == [
            "1.9",
            "1.10",
        ]


def test_missing_repository_and_tag_are_named(distribution: Filled) -> None:
    with client(distribution) as registry:
        with pytest.raises(RepositoryNotFound) as missing_repo:
            registry.tags("team/nothing")
        with pytest.raises(TagNotFound) as missing_tag:
            registry.digest("team/web", "9.9")
        with pytest.raises(TagNotFound) as missing_digest:
            registry.manifest("team/web", "sha256:" + "0" * 64)
    host = distribution.registry.url.removeprefix("http://")
    assert str(missing_repo.value) == f"registry {host}: repository 'team/nothing' not found"
    assert str(missing_tag.value) == f"registry {host}: tag '9.9' not found in repository 'team/web'"
    assert "digest 'sha256:000" in str(missing_digest.value)


def test_wrong_password_names_registry_and_user_never_the_password(distribution: Filled) -> None:
    registry = distribution.registry
    wrong = registry.password + "-wrong"
    with RegistryClient(registry.url, username=registry.username, password=wrong) as bad:
        with pytest.raises(RegistryUnauthorized) as caught:
            bad.tags("team/web")
        with pytest.raises(RegistryUnauthorized) as caught_digest:
            bad.digest("team/web", "1.0")
    host = registry.url.removeprefix("http://")
    message = str(caught.value)
    assert message == (
        f"registry {host}: user 'deployer' was refused for repository 'team/web' (HTTP 401); "
        "check the connector's username and password"
    )
    for text in (message, str(caught_digest.value), repr(caught.value)):
        assert wrong not in text and registry.password not in text


def test_anonymous_access_to_a_private_registry(distribution: Filled) -> None:
    with (
        RegistryClient(distribution.registry.url) as anonymous,
        pytest.raises(RegistryUnauthorized) as caught,
    ):
        anonymous.tags("team/web")
    assert "repository 'team/web' needs credentials (anonymous access was refused)" in str(caught.value)


def test_check_accepts_good_credentials(distribution: Filled) -> None:
    with client(distribution) as registry:
        registry.check()


def test_nothing_listening() -> None:
    port = free_port()
    registry = RegistryClient(f"http://127.0.0.1:{port}", username="u", password="secret-pw")
    with registry, pytest.raises(RegistryUnreachable) as caught:
        registry.tags("team/web")
    assert str(caught.value).startswith(f"registry http://127.0.0.1:{port}: cannot connect (")
    assert "secret-pw" not in str(caught.value)


def test_https_to_a_plain_http_registry_is_a_tls_error(distribution: Filled) -> None:
    url = distribution.registry.url.replace("http://", "https://")
    with client(distribution) as plain, RegistryClient(url, username="deployer", password="pw-xyz") as tls:
        assert plain.tags("team/oci")
        with pytest.raises(RegistryUnreachable) as caught:
            tls.tags("team/oci")
    message = str(caught.value)
    assert message.startswith(f"registry {url}: TLS handshake failed (")
    assert "a plain-http registry needs an http:// URL" in message and "pw-xyz" not in message


def test_a_silent_server_times_out() -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # accepts the connection, never answers
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with RegistryClient(url, timeout=0.3) as registry, pytest.raises(RegistryUnreachable) as caught:
            registry.tags("team/web")
    assert str(caught.value) == f"registry {url}: no answer within 0.3 s (the tags of team/web)"
