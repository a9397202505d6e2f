"""Shared by tests/security/test_paths.py and test_bounded_input.py: a live server, a project
admin of one project among two, a picture of every file on disk, a small Git repository.

The fixtures are named `live`, `admin` and `mallory`; a test module imports the functions
(`live_fixture`, ...) to use them."""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.helpers import ENVIRONMENTS, HELLO, Api, Live, live_server

# the server's own database files change with every request (audit, tokens): not project files
_DATABASE_SUFFIXES = (".db", ".db-wal", ".db-shm", ".db-journal")


@pytest.fixture(name="live")
def live_fixture(tmp_path: Path) -> Iterator[Live]:
    with live_server(tmp_path / "server") as running:
        yield running


@pytest.fixture(name="admin")
def admin_fixture(live: Live) -> Api:
    return live.client()


@pytest.fixture(name="mallory")
def mallory_fixture(admin: Api) -> Api:
    """Admin of project `alpha` only; project `beta` is someone else's."""
    admin.post("/projects", {"name": "alpha", "yaml": ENVIRONMENTS}, 201)
    admin.post("/projects", {"name": "beta", "yaml": "---\n".join([ENVIRONMENTS, HELLO])}, 201)
    return admin.user("mallory", project="alpha", role="admin")


def files_under(root: Path) -> dict[str, str]:
    """Every file below root (links too) and a digest of its content, by relative path."""
    found: dict[str, str] = {}
    for folder, dirs, names in os.walk(root):
        for name in dirs + names:
            path = Path(folder, name)
            if name.endswith(_DATABASE_SUFFIXES) or (path.is_dir() and not path.is_symlink()):
                continue
            content = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            found[path.relative_to(root).as_posix()] = hashlib.sha256(content).hexdigest()
    return found


def refused_writes(admin: Api, actor: str) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = admin.get("/audit", params={"actor": actor, "action": "write.refused"})
    return entries


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


def git_repo(path: Path, files: dict[str, str]) -> Path:
    """A repository at path with one commit on `main` holding files."""
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "t@example.com")
    git(path, "config", "user.name", "t")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "first")
    return path


def crafted_repo(path: Path, parts: list[str], text: str) -> Path:
    """A repository whose tree holds one file at parts, even names git itself refuses (`..`):
    what a hostile remote can serve."""
    import time

    from dulwich.objects import Blob, Commit, Tree
    from dulwich.repo import Repo

    repo = Repo.init(str(path), mkdir=True)
    blob = Blob.from_string(text.encode())
    repo.object_store.add_object(blob)
    mode, sha = 0o100644, blob.id
    for name in reversed(parts):
        tree = Tree()
        tree.add(name.encode(), mode, sha)
        repo.object_store.add_object(tree)
        mode, sha = 0o040000, tree.id
    commit = Commit()
    commit.tree = sha
    commit.author = commit.committer = b"t <t@example.com>"
    commit.commit_time = commit.author_time = int(time.time())
    commit.commit_timezone = commit.author_timezone = 0
    commit.message = b"crafted"
    repo.object_store.add_object(commit)
    repo.refs[b"refs/heads/main"] = commit.id
    return path
