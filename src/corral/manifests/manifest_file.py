"""A fetched manifest file and the path rules every store shares."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePosixPath

from corral.errors import ConfigError, Problem

MANIFEST_SUFFIXES = (".json", ".yaml", ".yml")


@dataclass(frozen=True)
class ManifestFile:
    """The text of one manifest and where it came from, as shown in error messages
    (`files/account/ECS Tutorial/task.yaml`, `git:<repo>@<ref>:path`, `s3://bucket/key`)."""

    source: str
    text: str


def is_manifest_name(name: str) -> bool:
    """Whether a file found in a folder is picked up as a manifest."""
    return name.lower().endswith(MANIFEST_SUFFIXES)


def relative_parts(path: str) -> tuple[str, ...] | None:
    """The parts of a relative path, or None when it has `..` (it would leave the store)."""
    parts = tuple(p for p in PurePosixPath(path.replace("\\", "/")).parts if p not in ("", ".", "/"))
    return None if ".." in parts else parts


def decode(source: str, data: bytes) -> ManifestFile:
    """UTF-8 text (a byte order mark is dropped) or a ConfigError naming the file."""
    try:
        return ManifestFile(source=source, text=data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        message = f"is not UTF-8 text (at byte offset {exc.start}); expected a JSON or YAML manifest"
        raise ConfigError([Problem(file=source, path="", message=message)]) from None
