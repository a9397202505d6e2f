"""Registry authentication as an httpx auth flow: anonymous, basic, and bearer tokens.

A registry says what it wants in the `WWW-Authenticate` header of a 401:

- `Basic realm="..."`: send the username and password (htpasswd registries, many private ones);
- `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull"`:
  get a token from the realm (with the username and password as basic auth when there are
  any, anonymously otherwise) and send it as `Authorization: Bearer ...` (Docker Hub, GHCR,
  Harbor, Quay, ECR's token service).

The username and password go to a token realm only when it is the registry's own host over
HTTPS (Docker Hub's auth.docker.io for registry-1.docker.io too), or the very same origin as a
registry reached over plain HTTP: a registry cannot send a connector's credentials to another
host, or make them travel in clear, by naming a realm. Another realm is asked anonymously.

Tokens are cached per (realm, service, scope) until shortly before they expire; once a
registry has asked for basic auth or a token, later requests carry it from the start, so a
listing of 100 tags costs one token request, not 100.
"""

from __future__ import annotations

import base64
import re
import threading
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import httpx

from .errors import RegistryProtocolError, RegistryUnauthorized, scrub

DEFAULT_TOKEN_SECONDS = 60  # the distribution token spec's default lifetime
# registries whose token service lives on a host of its own (registry host -> realm host)
KNOWN_TOKEN_HOSTS = {
    "registry-1.docker.io": "auth.docker.io",
    "registry.hub.docker.com": "auth.docker.io",
    "index.docker.io": "auth.docker.io",
    "docker.io": "auth.docker.io",
}
EXPIRY_MARGIN_SECONDS = 10
_PARAM = re.compile(r'([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))')
_REPOSITORY_PATH = re.compile(r"^/v2/(.+?)/(?:tags/list|manifests/[^/]+|blobs/[^/]+)$")


@dataclass(frozen=True)
class Challenge:
    scheme: str  # "basic" or "bearer", lower-cased
    params: dict[str, str]


def parse_challenge(header: str) -> Challenge | None:
    """The first challenge of a `WWW-Authenticate` value, or None when there is none."""
    scheme, _, rest = header.strip().partition(" ")
    if not scheme:
        return None
    params = {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
        for m in _PARAM.finditer(rest)
    }
    return Challenge(scheme.lower(), {k: v.replace('\\"', '"') for k, v in params.items()})


def scope_of(path: str) -> str | None:
    """The token scope a request path needs: `repository:NAME:pull` for repository calls."""
    if path == "/v2/_catalog":
        return "registry:catalog:*"
    found = _REPOSITORY_PATH.match(path)
    return f"repository:{found.group(1)}:pull" if found else None


@dataclass
class _Token:
    value: str
    expires: float  # time.monotonic()


class RegistryAuth(httpx.Auth):
    """Answers a registry's challenges for one registry and one set of credentials."""

    requires_response_body = True  # token answers are JSON; error bodies make better messages

    def __init__(self, registry: str, username: str | None = None, password: str | None = None) -> None:
        self.registry = registry
        self.username = username
        self._password = password
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, str, str], _Token] = {}
        self._bearer: Challenge | None = None  # the registry's bearer challenge, once seen
        self._basic = False  # the registry asked for basic auth
        self.token_requests = 0  # how many tokens were fetched (tests and debugging)

    @property
    def has_credentials(self) -> bool:
        return self.username is not None and self._password is not None

    def secrets(self) -> tuple[str | None, ...]:
        """What must never appear in a message: the password and every token held."""
        with self._lock:
            return (self._password, *(t.value for t in self._tokens.values()))

    def who(self) -> str:
        return f"user '{self.username}'" if self.has_credentials else "anonymous access"

    # -- the flow ------------------------------------------------------------------------

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        scope = scope_of(request.url.path)
        self._authorize_early(request, scope)
        response = yield request
        if response.status_code != 401:
            return
        challenge = parse_challenge(response.headers.get("www-authenticate", ""))
        if challenge is None:
            return
        if challenge.scheme == "basic":
            if not self.has_credentials or request.headers.get("authorization", "").startswith("Basic "):
                return  # nothing (more) to offer: the 401 becomes RegistryUnauthorized
            with self._lock:
                self._basic = True
            request.headers["Authorization"] = self._basic_header()
            yield request
        elif challenge.scheme == "bearer" and challenge.params.get("realm"):
            wanted = challenge.params.get("scope") or scope or ""
            key = (challenge.params["realm"], challenge.params.get("service", ""), wanted)
            with self._lock:
                self._bearer = Challenge(
                    "bearer", {k: v for k, v in challenge.params.items() if k != "scope"}
                )
                self._tokens.pop(key, None)
            refusal = realm_refusal(request.url, challenge.params["realm"])
            token_response = yield self._token_request(key, credentials=refusal is None)
            token = self._token_from(token_response, key, refusal)
            request.headers["Authorization"] = f"Bearer {token}"
            yield request

    def _authorize_early(self, request: httpx.Request, scope: str | None) -> None:
        if "authorization" in request.headers:
            return
        with self._lock:
            if self._bearer is not None and scope is not None:
                params = self._bearer.params
                token = self._tokens.get((params["realm"], params.get("service", ""), scope))
                if token is not None and token.expires > time.monotonic():
                    request.headers["Authorization"] = f"Bearer {token.value}"
                return
            basic = self._basic
        if basic and self.has_credentials:
            request.headers["Authorization"] = self._basic_header()

    def _basic_header(self) -> str:
        pair = f"{self.username or ''}:{self._password or ''}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    # -- tokens --------------------------------------------------------------------------

    def _token_request(self, key: tuple[str, str, str], *, credentials: bool) -> httpx.Request:
        realm, service, scope = key
        params = {k: v for k, v in (("service", service), ("scope", scope)) if v}
        send = credentials and self.has_credentials
        if send:
            params["account"] = self.username or ""
        headers = {"Authorization": self._basic_header()} if send else {}
        return httpx.Request("GET", realm, params=params, headers=headers)

    def _token_from(
        self, response: httpx.Response, key: tuple[str, str, str], refusal: str | None = None
    ) -> str:
        realm, _, scope = key
        with self._lock:
            self.token_requests += 1
        if response.status_code in (401, 403):
            if refusal is not None and self.has_credentials:
                raise RegistryUnauthorized(
                    f"registry {self.registry}: its token service {_origin(realm)} refused anonymous "
                    f"access for {scope or 'this registry'} (HTTP {response.status_code}); the connector's "
                    f"credentials were not sent to it: {refusal}"
                )
            raise RegistryUnauthorized(
                f"registry {self.registry}: the token service {_origin(realm)} refused {self.who()}"
                f" for {scope or 'this registry'} (HTTP {response.status_code}); check the connector's "
                "username and password"
            )
        if response.status_code != 200:
            raise RegistryProtocolError(
                f"registry {self.registry}: the token service {_origin(realm)} answered HTTP "
                f"{response.status_code} for {scope or 'this registry'}"
            )
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        value = body.get("token") or body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise RegistryProtocolError(
                f"registry {self.registry}: the token service {_origin(realm)} answered without a token"
            )
        seconds = body.get("expires_in") if isinstance(body, dict) else None
        lifetime = seconds if isinstance(seconds, int | float) and seconds > 0 else DEFAULT_TOKEN_SECONDS
        expires = time.monotonic() + max(lifetime - EXPIRY_MARGIN_SECONDS, lifetime / 2)
        with self._lock:
            self._tokens[key] = _Token(value, expires)
        return value

    def scrub(self, text: str) -> str:
        return scrub(text, self.secrets())


def realm_refusal(registry: httpx.URL, realm: str) -> str | None:
    """Why the connector's credentials must not go to this token realm, or None when they may."""
    target = httpx.URL(realm)
    if target.scheme == "https":
        if target.host == registry.host or KNOWN_TOKEN_HOSTS.get(registry.host) == target.host:
            return None
        return f"the realm {_origin(realm)} is not on the registry's host {registry.host}"
    same_origin = (target.scheme, target.host, target.port) == (registry.scheme, registry.host, registry.port)
    if target.scheme == "http" and registry.scheme == "http" and same_origin:
        return None  # a plain-HTTP registry's own token endpoint: nothing travels anywhere new
    return (
        f"the realm {_origin(realm)} is plain HTTP and not the registry's own address "
        f"{registry.scheme}://{registry.netloc.decode()}"
    )


def _origin(url: str) -> str:
    """scheme://host of a URL, for messages (a realm may carry query parameters)."""
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}" if parsed.host else url
