"""Registry URLs and repository names: Docker Hub's many names, and what is refused."""

from __future__ import annotations

import re

import pytest

from corral.artifacts import Registry, parse_image, registry_from_url, repository_name

HUB = Registry("https", "registry-1.docker.io")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("nginx", "registry-1.docker.io/library/nginx"),
        ("user/app", "registry-1.docker.io/user/app"),
        ("docker.io/nginx", "registry-1.docker.io/library/nginx"),
        ("docker.io/library/nginx", "registry-1.docker.io/library/nginx"),
        ("index.docker.io/user/app", "registry-1.docker.io/user/app"),
        ("registry.hub.docker.com/library/nginx", "registry-1.docker.io/library/nginx"),
        ("ghcr.io/owner/app", "ghcr.io/owner/app"),
        ("ghcr.io/nginx", "ghcr.io/nginx"),  # library/ is Docker Hub's alone
        ("localhost:5000/team/app", "localhost:5000/team/app"),
    ],
)
def test_image_names_are_normalized_as_docker_pull_reads_them(name: str, expected: str) -> None:
    registry, repository = parse_image(name)
    assert f"{registry}/{repository}" == expected


def test_loopback_registries_are_plain_http_others_https() -> None:
    assert parse_image("localhost:5000/app")[0].url == "http://localhost:5000"
    assert parse_image("ghcr.io/o/app")[0].url == "https://ghcr.io"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://registry.hub.docker.com/v2/", "https://registry-1.docker.io"),
        ("https://index.docker.io/v1/", "https://registry-1.docker.io"),
        ("docker.io", "https://registry-1.docker.io"),
        ("registry.example.com:8443", "https://registry.example.com:8443"),
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000"),
        ("https://user:pw@registry.example.com/v2/", "https://registry.example.com"),
    ],
)
def test_registry_url_from_a_connector(url: str, expected: str) -> None:
    assert registry_from_url(url).url == expected


def test_image_path_inside_the_connectors_registry() -> None:
    private = Registry("https", "registry.example.com")
    assert repository_name("team/web", private) == "team/web"
    assert repository_name("registry.example.com/team/web", private) == "team/web"
    assert repository_name("/library/nginx/", HUB) == "library/nginx"
    assert repository_name("docker.io/nginx", HUB) == "library/nginx"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (
            "ghcr.io/team/web",
            "imagePath names registry ghcr.io but the connector points at registry.example.com",
        ),
        ("team/web:1.0", "carries a tag or digest"),
        ("team/web@sha256:abc", "carries a tag or digest"),
        ("Team/Web", "'Team' in imagePath 'Team/Web' is not a valid repository name component"),
        ("", "got an empty imagePath"),
    ],
)
def test_image_paths_that_are_refused(path: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        repository_name(path, Registry("https", "registry.example.com"))


def test_a_registry_url_that_is_not_one() -> None:
    with pytest.raises(ValueError, match="expected a registry URL"):
        registry_from_url("ftp://registry.example.com")
