"""A Docker Registry HTTP API v2 client: tags, manifest digests and image metadata.

    with RegistryClient("https://registry.hub.docker.com/v2/") as hub:
        hub.tags("library/nginx")                       # every tag, following Link pages
        hub.digest("library/nginx", "1.27")             # sha256:... of the tag's manifest
        hub.tag_info("library/nginx", "1.27")           # digest, created, labels
        hub.newest("library/nginx", pattern=re.compile(r"^1\\.2[0-9]$"), limit=5)

Manifests are always asked for with an explicit Accept list (OCI index, OCI manifest,
Docker manifest list, Docker schema 2): without one some registries answer 404 or 400.
A tag's digest comes from `Docker-Content-Digest` on a HEAD (which Docker Hub does not count
as a pull); when a registry does not send it, from the sha256 of the manifest body.
Metadata (creation time, labels) is read from the image's config blob; for a multi-platform
index, from the linux/amd64 image (ECS's default platform), else the first image listed.
"""

from __future__ import annotations

import hashlib
import json
import re
import ssl
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx

from .auth import RegistryAuth
from .errors import (
    ArtifactError,
    RegistryDenied,
    RegistryProtocolError,
    RegistryUnauthorized,
    RegistryUnreachable,
    RepositoryNotFound,
    TagNotFound,
)
from .images import TagInfo, TagPattern, newest_first, parse_time, version_key
from .names import Registry, registry_from_url

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MANIFEST_TYPES = (OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST)
INDEX_TYPES = (OCI_INDEX, DOCKER_MANIFEST_LIST)
IMAGE_CONFIG_TYPES = (
    "application/vnd.oci.image.config.v1+json",
    "application/vnd.docker.container.image.v1+json",
)
ACCEPT = ", ".join(MANIFEST_TYPES)
CREATED_ANNOTATION = "org.opencontainers.image.created"
DEFAULT_TIMEOUT = 30.0
DEFAULT_WORKERS = 8
# most tags whose metadata is read to order a listing (chosen by version order, highest first)
MAX_INSPECTED = 100
_NEXT_LINK = re.compile(r'<([^>]*)>\s*;\s*rel="?next"?', re.IGNORECASE)


@dataclass(frozen=True)
class Manifest:
    media_type: str
    digest: str
    body: dict[str, Any]

    @property
    def is_index(self) -> bool:
        return self.media_type in INDEX_TYPES or "manifests" in self.body


class RegistryClient:
    """One registry, one set of credentials; thread-safe (tags are inspected in parallel)."""

    def __init__(
        self,
        url: str | Registry,
        *,
        username: str | None = None,
        password: str | None = None,
        verify: bool | str | ssl.SSLContext = True,
        timeout: float = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.registry = url if isinstance(url, Registry) else registry_from_url(url)
        self.auth = RegistryAuth(self.registry.host, username, password)
        self.timeout = timeout
        self.workers = workers
        self._http = httpx.Client(
            base_url=self.registry.url,
            auth=self.auth,
            verify=verify,
            timeout=timeout,
            follow_redirects=True,  # blobs live behind redirects; httpx drops credentials across hosts
            transport=transport,
            headers={"User-Agent": "corral"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> RegistryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- the API -------------------------------------------------------------------------

    def check(self) -> None:
        """GET /v2/: the registry answers and accepts the credentials."""
        self._checked(self._send("GET", "/v2/", what="the API root"), what="the API root")

    def tags(self, repository: str, *, page_size: int | None = None) -> list[str]:
        """Every tag of a repository, following `Link: <...>; rel="next"` pages."""
        url: str | None = f"/v2/{repository}/tags/list"
        params = {"n": str(page_size)} if page_size else None
        seen: set[str] = set()
        found: list[str] = []
        while url is not None:
            response = self._checked(
                self._send("GET", url, params=params, what=f"the tags of {repository}"), repository=repository
            )
            body = self._json(response, f"the tags of {repository}")
            found += [t for t in (body.get("tags") or []) if isinstance(t, str)]
            url, params = self._next_page(response, seen), None
        return found

    def digest(self, repository: str, reference: str) -> str:
        """The manifest digest a tag (or digest) names."""
        response = self._send(
            "HEAD",
            _manifest_path(repository, reference),
            headers={"Accept": ACCEPT},
            what=f"{repository}:{reference}",
        )
        header = response.headers.get("docker-content-digest")
        if response.status_code == 200 and header:
            return str(header)
        return self.manifest(repository, reference).digest  # errors and digest from the body

    def manifest(self, repository: str, reference: str) -> Manifest:
        path = _manifest_path(repository, reference)
        what = f"{repository}{'@' if ':' in reference else ':'}{reference}"
        response = self._checked(
            self._send("GET", path, headers={"Accept": ACCEPT}, what=what),
            repository=repository,
            reference=reference,
        )
        computed = "sha256:" + hashlib.sha256(response.content).hexdigest()
        if reference.startswith("sha256:") and computed != reference:
            raise RegistryProtocolError(
                f"registry {self.registry}: the manifest of {what} does not match its digest ({computed})"
            )
        body = self._json(response, f"the manifest of {what}")
        media_type = body.get("mediaType") or response.headers.get("content-type", "").split(";")[0]
        digest = response.headers.get("docker-content-digest") or computed
        return Manifest(str(media_type), digest, body)

    def blob_json(self, repository: str, digest: str) -> dict[str, Any]:
        """A small JSON blob (an image config), checked against its digest."""
        response = self._checked(
            self._send("GET", f"/v2/{repository}/blobs/{digest}", what=f"blob {digest} of {repository}"),
            repository=repository,
            reference=digest,
        )
        if (
            digest.startswith("sha256:")
            and "sha256:" + hashlib.sha256(response.content).hexdigest() != digest
        ):
            raise RegistryProtocolError(
                f"registry {self.registry}: blob {digest} of {repository} does not match its digest"
            )
        return self._json(response, f"blob {digest} of {repository}")

    def tag_info(self, repository: str, tag: str) -> TagInfo:
        """A tag's digest, creation time and labels (from the image config)."""
        top = self.manifest(repository, tag)
        image = top
        if top.is_index:
            child = _platform_child(top.body)
            image = self.manifest(repository, child) if child else top
        created, labels = None, {}
        config = image.body.get("config")
        if (
            isinstance(config, dict)
            and config.get("mediaType") in IMAGE_CONFIG_TYPES
            and config.get("digest")
        ):
            blob = self.blob_json(repository, str(config["digest"]))
            created = parse_time(blob.get("created"))
            found = (blob.get("config") or {}).get("Labels") or {}
            labels = {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}
        for manifest in (top, image):
            annotations = manifest.body.get("annotations") or {}
            created = created or parse_time(annotations.get(CREATED_ANNOTATION))
        return TagInfo(tag, top.digest, created, labels, top.media_type, _size(image))

    def describe(self, repository: str, tags: Iterable[str]) -> list[TagInfo]:
        """tag_info for many tags at once; tags deleted meanwhile are left out."""
        names = list(dict.fromkeys(tags))

        def one(tag: str) -> TagInfo | None:
            try:
                return self.tag_info(repository, tag)
            except TagNotFound:
                return None

        if len(names) <= 1 or self.workers <= 1:
            found = [one(t) for t in names]
        else:
            with ThreadPoolExecutor(max_workers=min(self.workers, len(names))) as pool:
                found = list(pool.map(one, names))
        return [info for info in found if info is not None]

    def newest(
        self,
        repository: str,
        *,
        pattern: TagPattern | None = None,
        limit: int | None = None,
        inspect: int = MAX_INSPECTED,
    ) -> list[TagInfo]:
        """Tags (those `pattern` finds a match in, if given), newest first.

        Ordering needs each tag's config; at most `inspect` tags are read, the highest by
        version order, so a repository with thousands of tags costs a bounded number of calls."""
        names = [t for t in self.tags(repository) if pattern is None or pattern.search(t)]
        candidates = sorted(names, key=version_key, reverse=True)[:inspect]
        ordered = newest_first(self.describe(repository, candidates))
        return ordered[:limit] if limit else ordered

    # -- requests and their errors -------------------------------------------------------

    def _send(
        self,
        method: str,
        url: str,
        *,
        what: str,
        params: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        try:
            return self._http.request(method, url, params=params, headers=headers)
        except ArtifactError as error:  # raised by the auth flow (token service)
            raise type(error)(self.auth.scrub(str(error))) from None
        except httpx.TimeoutException:
            raise RegistryUnreachable(
                f"registry {self.registry.url}: no answer within {self.timeout:g} s ({what})"
            ) from None
        except httpx.TransportError as error:
            raise RegistryUnreachable(self.auth.scrub(self._transport_message(error))) from None

    def _transport_message(self, error: httpx.TransportError) -> str:
        tls = _ssl_cause(error)
        if tls is not None:
            reason = getattr(tls, "verify_message", None) or getattr(tls, "reason", None) or str(tls)
            return (
                f"registry {self.registry.url}: TLS handshake failed ({reason}); check the registry URL "
                "and its certificate (a plain-http registry needs an http:// URL)"
            )
        return f"registry {self.registry.url}: cannot connect ({error or type(error).__name__})"

    def _checked(
        self, response: httpx.Response, *, repository: str = "", reference: str = "", what: str = ""
    ) -> httpx.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        code, detail = _error_of(response)
        where = f"repository '{repository}'" if repository else (what or "this request")
        if status == 401:
            raise RegistryUnauthorized(self.auth.scrub(self._unauthorized(where)))
        if status == 403:
            raise RegistryDenied(
                self.auth.scrub(
                    f"registry {self.registry}: {self.auth.who()} may not pull {where} (HTTP 403)"
                )
            )
        if status == 404 and repository:
            if code == "NAME_UNKNOWN" or not reference:
                raise RepositoryNotFound(f"registry {self.registry}: repository '{repository}' not found")
            kind = "digest" if reference.startswith("sha256:") else "tag"
            raise TagNotFound(
                f"registry {self.registry}: {kind} '{reference}' not found in repository '{repository}'"
            )
        if status == 429:
            raise RegistryProtocolError(
                f"registry {self.registry}: too many requests (HTTP 429) for {where}; the registry's rate "
                "limit was reached, try again later"
            )
        text = f": {detail}" if detail else ""
        raise RegistryProtocolError(
            self.auth.scrub(f"registry {self.registry}: HTTP {status} for {where}{text}")
        )

    def _unauthorized(self, where: str) -> str:
        if not self.auth.has_credentials:
            message = (
                f"registry {self.registry}: {where} needs credentials (anonymous access was refused); "
                "give the connector UsernamePassword auth"
            )
        else:
            message = (
                f"registry {self.registry}: {self.auth.who()} was refused for {where} (HTTP 401); "
                "check the connector's username and password"
            )
        if self.registry.is_docker_hub:
            message += " (Docker Hub also answers this for repositories that do not exist)"
        return message

    def _json(self, response: httpx.Response, what: str) -> dict[str, Any]:
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise RegistryProtocolError(f"registry {self.registry}: {what} is not a JSON object")
        return body

    def _next_page(self, response: httpx.Response, seen: set[str]) -> str | None:
        found = _NEXT_LINK.search(response.headers.get("link", ""))
        if not found:
            return None
        url = response.url.join(found.group(1))
        if (url.scheme, url.netloc.decode()) != (self.registry.scheme, self.registry.host):
            raise RegistryProtocolError(
                f"registry {self.registry}: the next page of tags is on another host ({url.host}); not followed"
            )
        text = str(url)
        if text in seen:
            raise RegistryProtocolError(f"registry {self.registry}: tag pages repeat ({text})")
        seen.add(text)
        return text


def _manifest_path(repository: str, reference: str) -> str:
    return f"/v2/{repository}/manifests/{reference}"


def _platform_child(index: dict[str, Any]) -> str | None:
    """The digest of the linux/amd64 image of an index, else of its first image (attestation
    manifests, platform unknown/unknown, are never chosen)."""
    images = [
        m
        for m in index.get("manifests") or []
        if isinstance(m, dict) and m.get("digest") and (m.get("platform") or {}).get("os") != "unknown"
    ]
    for entry in images:
        platform = entry.get("platform") or {}
        if platform.get("os") == "linux" and platform.get("architecture") == "amd64":
            return str(entry["digest"])
    return str(images[0]["digest"]) if images else None


def _size(manifest: Manifest) -> int | None:
    if manifest.is_index:
        return None
    parts = [manifest.body.get("config"), *(manifest.body.get("layers") or [])]
    sizes = [p.get("size") for p in parts if isinstance(p, dict)]
    return sum(s for s in sizes if isinstance(s, int)) if sizes else None


def _error_of(response: httpx.Response) -> tuple[str, str]:
    """(code, message) of the first error in a registry's error body, or ("", "")."""
    try:
        body = json.loads(response.content) if response.content else None
    except ValueError:
        return "", ""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return str(errors[0].get("code") or ""), str(errors[0].get("message") or "")
    return "", ""


def _ssl_cause(error: BaseException) -> ssl.SSLError | None:
    seen: BaseException | None = error
    for _ in range(10):
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
