"""Artifact sources: Docker Registry HTTP API v2 and Amazon ECR, and the resolver that turns
a service's artifact source into the image a deployment runs.

    artifact = resolve_artifact(project, "web", inputs={"tag": "1.27"})
    artifact.image                       # registry.hub.docker.com/library/nginx:1.27
    with RegistryClient("http://127.0.0.1:5000", username="u", password="p") as registry:
        registry.newest("team/web", limit=5)

Modules:
    names.py      registry URLs and repository names (Docker Hub normalization)
    auth.py       anonymous, basic and bearer-token authentication (an httpx auth flow)
    registry.py   RegistryClient: tags with Link pagination, digests, manifests, image config
    ecr.py        EcrRepository: DescribeImages, GetAuthorizationToken, image URIs
    images.py     TagInfo and the newest-first order
    sources.py    a source's spec and connector -> a repository to ask (one interface)
    resolver.py   resolve_artifact / resolve_source -> ResolvedArtifact; list_tags
    errors.py     ArtifactError and its kinds (no secret in any message)
"""

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corral.artifacts.ecr import EcrRepository, RegistryLogin
    from corral.artifacts.errors import (
        ArtifactError,
        RegistryDenied,
        RegistryProtocolError,
        RegistryUnauthorized,
        RegistryUnreachable,
        RepositoryNotFound,
        TagNotFound,
    )
    from corral.artifacts.images import TagInfo, newest_first
    from corral.artifacts.names import Registry, parse_image, registry_from_url, repository_name
    from corral.artifacts.registry import ACCEPT, MANIFEST_TYPES, Manifest, RegistryClient
    from corral.artifacts.resolver import (
        RESOLVE_DIGEST,
        ResolvedArtifact,
        list_tags,
        resolve_artifact,
        resolve_source,
    )
    from corral.artifacts.sources import ArtifactRepository, SourceSpec, open_repository

# name -> module, imported on first use: rendering needs the resolver, not httpx, unless a
# registry is asked
_EXPORTS = {
    "EcrRepository": "corral.artifacts.ecr",
    "RegistryLogin": "corral.artifacts.ecr",
    "ArtifactError": "corral.artifacts.errors",
    "RegistryDenied": "corral.artifacts.errors",
    "RegistryProtocolError": "corral.artifacts.errors",
    "RegistryUnauthorized": "corral.artifacts.errors",
    "RegistryUnreachable": "corral.artifacts.errors",
    "RepositoryNotFound": "corral.artifacts.errors",
    "TagNotFound": "corral.artifacts.errors",
    "TagInfo": "corral.artifacts.images",
    "newest_first": "corral.artifacts.images",
    "Registry": "corral.artifacts.names",
    "parse_image": "corral.artifacts.names",
    "registry_from_url": "corral.artifacts.names",
    "repository_name": "corral.artifacts.names",
    "ACCEPT": "corral.artifacts.registry",
    "MANIFEST_TYPES": "corral.artifacts.registry",
    "Manifest": "corral.artifacts.registry",
    "RegistryClient": "corral.artifacts.registry",
    "RESOLVE_DIGEST": "corral.artifacts.resolver",
    "ResolvedArtifact": "corral.artifacts.resolver",
    "list_tags": "corral.artifacts.resolver",
    "resolve_artifact": "corral.artifacts.resolver",
    "resolve_source": "corral.artifacts.resolver",
    "ArtifactRepository": "corral.artifacts.sources",
    "SourceSpec": "corral.artifacts.sources",
    "open_repository": "corral.artifacts.sources",
}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'corral.artifacts' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
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
]
