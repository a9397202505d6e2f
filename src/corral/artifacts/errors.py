"""Errors of artifact lookups. No message ever carries a password or a token.

CorralError
 └── ArtifactError             a registry lookup failed
      ├── RegistryUnauthorized  the registry (or its token service) refused the credentials
      ├── RegistryDenied        authenticated, but not allowed to pull this repository
      ├── RepositoryNotFound    no such repository
      ├── TagNotFound           the repository has no such tag (or digest)
      ├── RegistryUnreachable   connection, TLS or timeout: nothing was answered
      └── RegistryProtocolError an answer Corral cannot use (status, body, rate limit)
"""

from __future__ import annotations

from corral.errors import CorralError


class ArtifactError(CorralError):
    """A registry lookup failed; the message names the registry and what was asked."""


class RegistryUnauthorized(ArtifactError):
    pass


class RegistryDenied(ArtifactError):
    pass


class RepositoryNotFound(ArtifactError):
    pass


class TagNotFound(ArtifactError):
    pass


class RegistryUnreachable(ArtifactError):
    pass


class RegistryProtocolError(ArtifactError):
    pass


def scrub(text: str, secrets: tuple[str | None, ...]) -> str:
    """text with every secret replaced: a last guard for messages made from server answers."""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "****")
    return text
