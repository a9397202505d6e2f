"""Identifiers in the shapes Cloud Map uses: `ns-` / `srv-` plus 16 lowercase letters and digits."""

from __future__ import annotations

import secrets
import string

_ALPHABET = string.ascii_lowercase + string.digits


def random_chars(count: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(count))


def namespace_id() -> str:
    return "ns-" + random_chars(16)


def service_id() -> str:
    return "srv-" + random_chars(16)


def operation_id() -> str:
    # real operation ids look like `gv4g5meo7ndmeh4fqskygvk23d2fijwa-k9302yzd`
    return f"{random_chars(32)}-{random_chars(8)}"


def hosted_zone_id() -> str:
    return "Z" + random_chars(20).upper()
