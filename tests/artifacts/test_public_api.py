"""The package surface: what `corral.artifacts` exports, sorted, and nothing private."""

from __future__ import annotations

import corral.artifacts as artifacts


def test_exports_are_sorted_and_public() -> None:
    names = artifacts.__all__
    assert names == sorted(names, key=lambda n: (not n.isupper(), n))
    assert all(not n.startswith("_") and hasattr(artifacts, n) for n in names)


def test_the_surface() -> None:
    assert set(artifacts.__all__) == {
        "ACCEPT",
        "MANIFEST_TYPES",
        "RESOLVE_DIGEST",
        "ArtifactError",
        "ArtifactRepository",
        "EcrRepository",
        "Manifest",
        "Registry",
        "RegistryClient",
        "RegistryDenied",
        "RegistryLogin",
        "RegistryProtocolError",
        "RegistryUnauthorized",
        "RegistryUnreachable",
        "RepositoryNotFound",
        "ResolvedArtifact",
        "SourceSpec",
        "TagInfo",
        "TagNotFound",
        "list_tags",
        "newest_first",
        "open_repository",
        "parse_image",
        "registry_from_url",
        "repository_name",
        "resolve_artifact",
        "resolve_source",
    }


def test_every_error_is_an_artifact_error() -> None:
    for name in (
        "RegistryDenied",
        "RegistryProtocolError",
        "RegistryUnauthorized",
        "RegistryUnreachable",
        "RepositoryNotFound",
        "TagNotFound",
    ):
        assert issubclass(getattr(artifacts, name), artifacts.ArtifactError)
