"""Hide secret values in text: as written, line by line, escaped, percent-encoded, base64, hex.

    mask_text("token=s3cr3t%2Fx", {"s3cr3t/x"})  ->  "token=**************"

For each secret value (and, for a value of several lines such as a PEM key, each line of it)
one regular expression matches every way text commonly carries it: each character as itself,
percent-encoded in either case (`quote`, `quote_plus`, every byte encoded), or escaped by JSON
or Python (`\\n`, `\\"`, `\\u00e9`, `\\x41`, doubly escaped too). Base64 (standard and URL-safe,
with and without padding, wrapped at 64 or 76 characters, and the part that does not depend
on what precedes or follows the value) and hex are matched as fixed text.

Values shorter than MIN_SECRET_LENGTH characters are never masked: hiding "ab" inside every
word would tell anyone who prints words what the secret is. Such secrets are refused where
they are read instead (see short_secret).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable
from functools import lru_cache

MASK = "**************"
MIN_SECRET_LENGTH = 4
# fixed forms shorter than this (a wrapped base64 line's tail, a shifted core) are left alone:
# they are too short to be told apart from ordinary text
_MIN_FIXED_FORM = 8
_WRAPS = (64, 76)  # PEM and openssl wrap base64 at 64 characters, base64(1) and MIME at 76
_NAMED_ESCAPES = {"\n": "n", "\t": "t", "\r": "r", "\b": "b", "\f": "f"}
_ESCAPE = r"\\+"  # one backslash (JSON, repr) or more (JSON inside JSON)


def short_secret(identifier: str, length: int) -> str:
    """The message refusing a secret too short to be masked safely."""
    return (
        f"secret '{identifier}' is {length} character{'s' if length != 1 else ''} long; secrets shorter "
        f"than {MIN_SECRET_LENGTH} characters are refused, because masking them would hide them "
        "inside ordinary words"
    )


def mask_text(text: str, values: Iterable[str]) -> str:
    """text with every form of every value replaced by MASK."""
    pattern = _pattern(frozenset(v for v in values if len(v) >= MIN_SECRET_LENGTH))
    return text if pattern is None else pattern.sub(MASK, text)


@lru_cache(maxsize=128)
def _pattern(values: frozenset[str]) -> re.Pattern[str] | None:
    forms: set[str] = set()
    for value in values:
        forms |= _forms(value)
    if not forms:
        return None
    # longest first: at a given position the whole value wins over one of its lines
    return re.compile("|".join(sorted(forms, key=len, reverse=True)))


def _forms(value: str) -> set[str]:
    """Regular expressions for one value: itself and each line of it, in every form."""
    texts = {value}
    if "\n" in value or "\r" in value:
        texts |= {line.strip() for line in re.split(r"\r\n|\r|\n", value)}
    forms = {_characters(text) for text in texts if len(text) >= MIN_SECRET_LENGTH}
    return forms | {re.escape(fixed) for fixed in _fixed_forms(value)}


def _characters(text: str) -> str:
    return "".join(_character(char) for char in text)


def _character(char: str) -> str:
    """Every way one character of a secret commonly appears in text."""
    code = ord(char)
    options = [re.escape(char), "".join("%" + _hex_any_case(f"{byte:02x}") for byte in char.encode())]
    if char == " ":
        options.append(r"\+")
    if code < 0x10000:
        options.append(_ESCAPE + "u" + _hex_any_case(f"{code:04x}"))
    else:  # JSON writes a surrogate pair, Python \U0001f600
        high, low = 0xD800 + ((code - 0x10000) >> 10), 0xDC00 + ((code - 0x10000) & 0x3FF)
        options.append(
            _ESCAPE + "u" + _hex_any_case(f"{high:04x}") + _ESCAPE + "u" + _hex_any_case(f"{low:04x}")
        )
        options.append(_ESCAPE + "U" + _hex_any_case(f"{code:08x}"))
    if code < 0x100:
        options.append(_ESCAPE + "x" + _hex_any_case(f"{code:02x}"))
    if char in _NAMED_ESCAPES:
        options.append(_ESCAPE + _NAMED_ESCAPES[char])
    if char == "\n":
        options.append(r"\r\n")
    if char in "\"'\\/":
        options.append(_ESCAPE + re.escape(char))
    return "(?:" + "|".join(options) + ")"


def _hex_any_case(digits: str) -> str:
    return "".join(f"[{d}{d.upper()}]" if d.isalpha() else d for d in digits)


def _fixed_forms(value: str) -> set[str]:
    """Base64 and hex forms of a value."""
    raw = value.encode()
    whole = {raw.hex(), raw.hex().upper()}
    parts: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        encoded = encode(raw).decode()
        whole |= {encoded, encoded.rstrip("=")}
        for width in _WRAPS:
            parts |= {encoded[i : i + width] for i in range(0, len(encoded), width)}
        for shift in (0, 1, 2):  # the value inside longer data: `user:secret`, `secret\n`
            shifted = encode(b"\0" * shift + raw).decode()
            first = -(-8 * shift // 6)
            parts.add(shifted[first : 8 * (shift + len(raw)) // 6])
    return whole | {part for part in parts if len(part) >= _MIN_FIXED_FORM}
