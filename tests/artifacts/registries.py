"""Registries for the artifact tests, all on 127.0.0.1.

- `DistributionRegistry`: the real Debian `docker-registry` (Distribution 2.8) with htpasswd
  basic auth and storage in a temporary folder.
- `SpecRegistry`: a small server of our own that follows the distribution spec where that
  registry does not (`n`/`last` tag pagination with `Link` headers), with an optional bearer
  token service (the Docker Hub flow), redirected blobs, and a log of every request.
- `push_image` / `push_index`: push small images through the registry API (blob uploads and a
  manifest PUT), as `docker push` would.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
ACCEPT = ", ".join((OCI_INDEX, OCI_MANIFEST, DOCKER_LIST, DOCKER_MANIFEST))

REGISTRY_BINARY = "/usr/bin/docker-registry"


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# -- pushing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pushed:
    tag: str
    digest: str
    media_type: str


def image_parts(
    name: str, *, created: str, labels: dict[str, str] | None = None, oci: bool = False, arch: str = "amd64"
) -> tuple[bytes, bytes, dict[str, Any]]:
    """(config blob, layer blob, manifest) of a tiny one-layer image."""
    layer = f"layer of {name} {arch}".encode()
    config = json.dumps(
        {
            "architecture": arch,
            "os": "linux",
            "created": created,
            "config": {"Labels": labels or {}},
            "rootfs": {"type": "layers", "diff_ids": [sha256(layer)]},
        }
    ).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST if oci else DOCKER_MANIFEST,
        "config": {
            "mediaType": OCI_CONFIG if oci else DOCKER_CONFIG,
            "digest": sha256(config),
            "size": len(config),
        },
        "layers": [
            {"mediaType": OCI_LAYER if oci else DOCKER_LAYER, "digest": sha256(layer), "size": len(layer)}
        ],
    }
    return config, layer, manifest


def upload_blob(http: httpx.Client, repository: str, data: bytes) -> str:
    digest = sha256(data)
    started = http.post(f"/v2/{repository}/blobs/uploads/")
    assert started.status_code == 202, started.text
    location = started.headers["location"]
    joiner = "&" if "?" in location else "?"
    done = http.put(
        f"{location}{joiner}digest={digest}",
        content=data,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert done.status_code == 201, done.text
    return digest


def put_manifest(http: httpx.Client, repository: str, reference: str, manifest: dict[str, Any]) -> str:
    body = json.dumps(manifest).encode()
    answer = http.put(
        f"/v2/{repository}/manifests/{reference}",
        content=body,
        headers={"Content-Type": manifest["mediaType"]},
    )
    assert answer.status_code == 201, answer.text
    return sha256(body)


def push_image(
    http: httpx.Client,
    repository: str,
    tag: str,
    *,
    created: str,
    labels: dict[str, str] | None = None,
    oci: bool = False,
) -> Pushed:
    config, layer, manifest = image_parts(f"{repository}:{tag}", created=created, labels=labels, oci=oci)
    upload_blob(http, repository, config)
    upload_blob(http, repository, layer)
    return Pushed(tag, put_manifest(http, repository, tag, manifest), manifest["mediaType"])


def push_index(
    http: httpx.Client, repository: str, tag: str, *, created: dict[str, str], oci: bool = True
) -> tuple[Pushed, dict[str, str]]:
    """A multi-platform image: one image per architecture in `created`, then an index of them.
    Returns the index and the digest of each platform's manifest."""
    entries, children = [], {}
    for arch, when in created.items():
        config, layer, manifest = image_parts(f"{repository}:{tag}", created=when, oci=oci, arch=arch)
        upload_blob(http, repository, config)
        upload_blob(http, repository, layer)
        digest = put_manifest(http, repository, sha256(json.dumps(manifest).encode()), manifest)
        children[arch] = digest
        size = len(json.dumps(manifest).encode())
        entries.append(
            {
                "mediaType": manifest["mediaType"],
                "digest": digest,
                "size": size,
                "platform": {"architecture": arch, "os": "linux"},
            }
        )
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX if oci else DOCKER_LIST, "manifests": entries}
    return Pushed(tag, put_manifest(http, repository, tag, index), index["mediaType"]), children


# -- the real registry ---------------------------------------------------------------------


@dataclass
class DistributionRegistry:
    url: str
    username: str
    password: str = field(repr=False)
    process: subprocess.Popen[bytes] = field(repr=False)

    def client(self) -> httpx.Client:
        """A plain httpx client with the registry's credentials, to push with."""
        return httpx.Client(base_url=self.url, auth=(self.username, self.password), timeout=10)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


def registry_available() -> bool:
    return Path(REGISTRY_BINARY).exists() and shutil.which("htpasswd") is not None


def start_distribution_registry(folder: Path) -> DistributionRegistry:
    username, password = "deployer", "pw-" + secrets.token_hex(8)
    htpasswd = subprocess.run(
        ["htpasswd", "-Bbn", username, password], check=True, capture_output=True, text=True
    ).stdout
    (folder / "htpasswd").write_text(htpasswd, encoding="utf-8")
    port = free_port()
    (folder / "config.yml").write_text(
        "version: 0.1\n"
        "log:\n  level: error\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {folder / 'data'}\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n  secret: {secrets.token_hex(16)}\n"
        f"auth:\n  htpasswd:\n    realm: corral-tests\n    path: {folder / 'htpasswd'}\n",
        encoding="utf-8",
    )
    log = (folder / "registry.log").open("wb")
    process = subprocess.Popen(
        [REGISTRY_BINARY, "serve", str(folder / "config.yml")], stdout=log, stderr=subprocess.STDOUT
    )
    registry = DistributionRegistry(f"http://127.0.0.1:{port}", username, password, process)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docker-registry exited: {(folder / 'registry.log').read_text()}")
        try:
            if httpx.get(f"{registry.url}/v2/", timeout=1).status_code == 401:
                return registry
        except httpx.TransportError:
            time.sleep(0.05)
    registry.stop()
    raise RuntimeError("docker-registry did not answer within 15 s")


# -- the spec-following server of our own --------------------------------------------------


@dataclass
class Logged:
    method: str
    path: str
    authorization: str


class SpecRegistry:
    """An in-memory registry following the distribution spec: tag pages of `n` after `last`
    with `Link` headers, HEAD and GET manifests (digest header optional), blobs behind a
    redirect; with `bearer=True` every /v2/ call needs a token from /token, given to
    `username`/`password` (or to anyone when no username is set)."""

    def __init__(
        self,
        *,
        bearer: bool = False,
        username: str | None = None,
        password: str | None = None,
        digest_header: bool = True,
        default_page: int | None = None,
    ) -> None:
        self.bearer = bearer
        self.username = username
        self.password = password
        self.digest_header = digest_header
        self.default_page = default_page
        self.repositories: dict[str, dict[str, tuple[str, bytes]]] = {}  # repo -> ref -> (type, body)
        self.blobs: dict[str, bytes] = {}
        self.log: list[Logged] = []
        self.tokens: dict[str, str] = {}  # token -> scope
        self.token_requests: list[dict[str, list[str]]] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.02,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SpecRegistry:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- content ---------------------------------------------------------------------------

    def add_image(
        self,
        repository: str,
        tag: str,
        *,
        created: str,
        labels: dict[str, str] | None = None,
        oci: bool = False,
    ) -> str:
        config, layer, manifest = image_parts(f"{repository}:{tag}", created=created, labels=labels, oci=oci)
        self.blobs[sha256(config)] = config
        self.blobs[sha256(layer)] = layer
        body = json.dumps(manifest).encode()
        found = self.repositories.setdefault(repository, {})
        found[tag] = found[sha256(body)] = (manifest["mediaType"], body)
        return sha256(body)

    def tags_of(self, repository: str) -> list[str]:
        return sorted(ref for ref in self.repositories.get(repository, {}) if not ref.startswith("sha256:"))

    def requests(self, prefix: str = "/v2/") -> list[Logged]:
        return [entry for entry in self.log if entry.path.startswith(prefix)]

    # -- HTTP ------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                registry._serve(self, "GET")

            def do_HEAD(self) -> None:
                registry._serve(self, "HEAD")

        return Handler

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        parts = urlsplit(handler.path)
        query = parse_qs(parts.query)
        self.log.append(Logged(method, handler.path, handler.headers.get("Authorization", "")))
        if parts.path == "/token":
            return self._token(handler, query)
        if parts.path.startswith("/_blobs/"):
            return self._reply(handler, method, 200, self.blobs[parts.path[len("/_blobs/") :]])
        if not parts.path.startswith("/v2/"):
            return self._reply(handler, method, 404, b"")
        name, kind, reference = _route(parts.path)
        if self.bearer and not self._authorized(handler, name):
            scope = f',scope="repository:{name}:pull"' if name else ""
            challenge = f'Bearer realm="{self.url}/token",service="spec-registry"{scope}'
            body = _errors("UNAUTHORIZED", "authentication required")
            return self._reply(handler, method, 401, body, {"WWW-Authenticate": challenge})
        if kind == "":
            return self._reply(handler, method, 200, b"{}")
        if name not in self.repositories:
            return self._reply(
                handler, method, 404, _errors("NAME_UNKNOWN", "repository name not known to registry")
            )
        if kind == "tags":
            return self._tags(handler, method, name, query)
        if kind == "manifests":
            return self._manifest(handler, method, name, reference)
        if kind == "blobs" and reference in self.blobs:
            return self._reply(handler, method, 307, b"", {"Location": f"/_blobs/{reference}"})
        return self._reply(handler, method, 404, _errors("BLOB_UNKNOWN", "blob unknown to registry"))

    def _tags(
        self, handler: BaseHTTPRequestHandler, method: str, name: str, query: dict[str, list[str]]
    ) -> None:
        tags = self.tags_of(name)
        last = query.get("last", [""])[0]
        page = int(query["n"][0]) if "n" in query else self.default_page
        after = [t for t in tags if t > last] if last else tags
        shown = after[:page] if page else after
        headers = {}
        if page and len(after) > page:
            headers["Link"] = f'</v2/{name}/tags/list?n={page}&last={shown[-1]}>; rel="next"'
        self._reply(handler, method, 200, json.dumps({"name": name, "tags": shown}).encode(), headers)

    def _manifest(self, handler: BaseHTTPRequestHandler, method: str, name: str, reference: str) -> None:
        found = self.repositories[name].get(reference)
        if found is None:
            return self._reply(handler, method, 404, _errors("MANIFEST_UNKNOWN", "manifest unknown"))
        media_type, body = found
        headers = {"Content-Type": media_type}
        if self.digest_header:
            headers["Docker-Content-Digest"] = sha256(body)
        self._reply(handler, method, 200, body, headers)

    def _authorized(self, handler: BaseHTTPRequestHandler, name: str) -> bool:
        given = handler.headers.get("Authorization", "")
        if not given.startswith("Bearer "):
            return False
        scope = self.tokens.get(given[len("Bearer ") :])
        return scope is not None and (not name or scope == f"repository:{name}:pull")

    def _token(self, handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        self.token_requests.append(query)
        if self.username is not None:
            given = handler.headers.get("Authorization", "")
            expected = "Basic " + base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            if given != expected:
                return self._reply(handler, "GET", 401, _errors("UNAUTHORIZED", "bad credentials"))
        token = secrets.token_hex(16)
        self.tokens[token] = query.get("scope", [""])[0]
        body = json.dumps({"token": token, "expires_in": 300, "issued_at": "2026-01-01T00:00:00Z"}).encode()
        self._reply(handler, "GET", 200, body, {"Content-Type": "application/json"})

    @staticmethod
    def _reply(
        handler: BaseHTTPRequestHandler,
        method: str,
        status: int,
        body: bytes,
        headers: dict[str, str] | None = None,
    ) -> None:
        handler.send_response(status)
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        if "Content-Type" not in (headers or {}):
            handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        if method != "HEAD":
            handler.wfile.write(body)


def _route(path: str) -> tuple[str, str, str]:
    """(repository, "tags" | "manifests" | "blobs" | "", reference) of a /v2/ path."""
    rest = path[len("/v2/") :]
    if not rest:
        return "", "", ""
    if rest.endswith("/tags/list"):
        return rest[: -len("/tags/list")], "tags", ""
    for kind in ("manifests", "blobs"):
        name, sep, reference = rest.rpartition(f"/{kind}/")
        if sep:
            return name, kind, reference
    return rest, "?", ""


def _errors(code: str, message: str) -> bytes:
    return json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
