"""Which Git repositories a project may be synced from, and by whom.

A local path or `file://` URL reads the server's own disk (another project's folder, the data
folder, any repository the server's user can open): only global admins may name one. Remote
URLs are https, http, ssh or `user@host:path`; when the operator gives `--git-allow`
patterns, a remote URL must match one of them (shell-style `*`, matched against the URL
without credentials). Anything else is refused for everyone: `git://` (no encryption, and a
remote that never answers would hold a server thread for good), `ext::`, a host starting
with `-` that ssh would read as an option.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from corral.manifests.git_store import without_credentials

_REMOTE_SCHEMES = ("https", "http", "ssh")
_SCP_LIKE = re.compile(r"^(?P<user>[\w.-]+)@(?P<host>[\w.-]+):(?P<path>.*)$")


@dataclass(frozen=True)
class SourceRefused(Exception):
    """Why a sync source is refused and the HTTP status that says it (400 or 403)."""

    message: str
    status: int

    def __str__(self) -> str:
        return self.message


def is_local(url: str) -> bool:
    """A path on the server's disk (absolute, relative, or file://)."""
    return url.lower().startswith("file:") or ("://" not in url and not _SCP_LIKE.match(url))


def check_source(url: str, *, admin: bool, allowed: list[str]) -> None:
    """Raise SourceRefused unless the caller may sync from url."""
    shown = without_credentials(url)
    if any(ord(c) < 32 for c in url):
        raise SourceRefused("the repository URL holds control characters", 400)
    if is_local(url):
        if not admin:
            raise SourceRefused(
                f"{shown}: a local path or file:// repository reads the server's own disk; "
                "only a global admin may sync from one",
                403,
            )
        return
    host = _host(url)
    if host is None:
        raise SourceRefused(f"{shown}: expected an https, http, ssh or git URL, or user@host:path", 400)
    if not host or host.startswith("-"):
        raise SourceRefused(f"{shown}: not a usable host name", 400)
    if allowed and not any(fnmatch.fnmatchcase(shown, pattern) for pattern in allowed):
        raise SourceRefused(
            f"{shown}: not allowed by this server's --git-allow patterns ({', '.join(allowed)})", 403
        )


def _host(url: str) -> str | None:
    scp = _SCP_LIKE.match(url)
    if scp and "://" not in url:
        return scp["host"]
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in _REMOTE_SCHEMES:
        return None
    return parts.hostname or ""
