"""Registry URLs and repository names as the Docker Registry HTTP API v2 needs them.

Docker Hub goes by many names (`docker.io`, `index.docker.io`, `registry.hub.docker.com`,
`hub.docker.com`); its API answers at `registry-1.docker.io`, and its official images live
under `library/`:

    nginx                          -> registry-1.docker.io/library/nginx
    user/app                       -> registry-1.docker.io/user/app
    docker.io/nginx                -> registry-1.docker.io/library/nginx
    index.docker.io/user/app       -> registry-1.docker.io/user/app
    ghcr.io/owner/app              -> ghcr.io/owner/app
    localhost:5000/team/app        -> localhost:5000/team/app
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

DOCKER_HUB_API_HOST = "registry-1.docker.io"
DOCKER_HUB_HOSTS = frozenset(
    {"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com", "hub.docker.com"}
)
# the distribution spec's repository name grammar: lower-case components joined by /
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


@dataclass(frozen=True)
class Registry:
    """Where a registry's API answers: `https://registry-1.docker.io`, `http://127.0.0.1:5000`."""

    scheme: str
    host: str  # host[:port]

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}"

    @property
    def is_docker_hub(self) -> bool:
        return self.host in DOCKER_HUB_HOSTS

    def __str__(self) -> str:
        return self.host


def registry_from_url(url: str) -> Registry:
    """The API root of a connector's `dockerRegistryUrl` (https when no scheme is given);
    any Docker Hub alias becomes registry-1.docker.io."""
    text = url.strip()
    parts = urlsplit(text if "://" in text else f"https://{text}")
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"expected a registry URL like https://registry.example.com; got '{url}'")
    host = parts.netloc.rsplit("@", 1)[-1].lower()  # never keep user:password@ from a URL
    if host in DOCKER_HUB_HOSTS:
        return Registry("https", DOCKER_HUB_API_HOST)
    return Registry(parts.scheme, host)


def looks_like_host(component: str) -> bool:
    """Docker's rule: a first component with a dot or a port, or `localhost`, is a registry."""
    return "." in component or ":" in component or component == "localhost"


def repository_name(image_path: str, registry: Registry) -> str:
    """The repository an `imagePath` names inside `registry`.

    A leading host is allowed when it is the registry's own (any Docker Hub alias counts for
    Docker Hub) and is dropped; a different host is refused rather than sent the connector's
    credentials. One-component Docker Hub names get `library/`."""
    path = image_path.strip().strip("/")
    if not path:
        raise ValueError("expected a repository path like team/app; got an empty imagePath")
    first, sep, rest = path.partition("/")
    if sep and looks_like_host(first):
        host = first.lower()
        same = host == registry.host or (registry.is_docker_hub and host in DOCKER_HUB_HOSTS)
        if not same:
            raise ValueError(
                f"imagePath names registry {host} but the connector points at {registry.host}; "
                "give the path inside the connector's registry"
            )
        path = rest
    if "@" in path or ":" in path.rsplit("/", 1)[-1]:
        raise ValueError(
            f"imagePath '{image_path}' carries a tag or digest; give the repository only "
            "and put the tag in tag (or the digest in digest)"
        )
    components = path.split("/")
    for component in components:
        if not _COMPONENT.fullmatch(component):
            raise ValueError(
                f"'{component}' in imagePath '{image_path}' is not a valid repository name component "
                "(lower-case letters, digits and . _ - separators)"
            )
    if registry.is_docker_hub and len(components) == 1:
        path = f"library/{path}"
    return path


def parse_image(reference: str) -> tuple[Registry, str]:
    """(registry, repository) of a bare image name as `docker pull` reads it (no tag);
    loopback registries are spoken to over plain http, as Docker does."""
    first, sep, rest = reference.strip().partition("/")
    if sep and looks_like_host(first):
        scheme = "http" if first.split(":")[0] in ("localhost", "127.0.0.1") else "https"
        registry = registry_from_url(f"{scheme}://{first}")
        return registry, repository_name(rest, registry)
    hub = Registry("https", DOCKER_HUB_API_HOST)
    return hub, repository_name(reference, hub)
