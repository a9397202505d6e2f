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
