"""Files only their owner may read: the SQLite database (and its WAL and shared-memory files)
and secrets keys are created with mode 0600 and brought back to it when found wider."""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

OWNER_ONLY = 0o600
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def create_owner_only(path: Path) -> None:
    """Create `path` empty with mode 0600 unless it exists (then only narrow its mode)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, OWNER_ONLY)
    except FileExistsError:
        restrict(path)
    else:
        os.close(fd)


def restrict(path: Path) -> None:
    """Narrow an existing file of ours to 0600 (a file of another user is left as it is)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        info = path.stat()
        if stat.S_IMODE(info.st_mode) & 0o077 and info.st_uid == os.getuid():
            path.chmod(OWNER_ONLY)


def sqlite_path(url: str) -> Path | None:
    """The database file of a sqlite:/// URL (None for memory databases and other databases)."""
    if not url.startswith("sqlite:///"):
        return None
    name = url[len("sqlite:///") :].split("?", 1)[0]
    return None if name in ("", ":memory:") else Path(name)


def protect_sqlite(url: str) -> None:
    """Before SQLite opens it: the database file exists with mode 0600, as do its companions."""
    path = sqlite_path(url)
    if path is None:
        return
    create_owner_only(path)
    for suffix in SQLITE_COMPANIONS:
        restrict(path.with_name(path.name + suffix))
