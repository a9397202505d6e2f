"""Manifests from a git repository at a branch, tag or commit (Harness `gitFetchType`).

The repository is a local path or a URL (https, ssh, file://). A local path is read in place,
committed content only (a work tree's uncommitted edits are not seen). A URL is fetched into
a bare mirror under `cache_dir` (one per URL; `~/.cache/corral/git` when none is given),
all branches and tags, once per store; a commit already in the mirror needs no fetch.

Paths are relative to the repository root (a leading `/` is ignored); a folder gives every
.json, .yaml and .yml file below it, sorted. `..` and symbolic links are refused. Sources
read `git:<repo>@<ref>:<path>`.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dulwich.client import get_transport_and_path
from dulwich.config import ConfigDict
from dulwich.errors import NotGitRepository, NotTreeError
from dulwich.object_store import iter_tree_contents, tree_lookup_path
from dulwich.objects import Blob, Commit, ObjectID, Tag
from dulwich.refs import Ref
from dulwich.repo import Repo

from corral.errors import ConfigError, CorralError, Problem
from corral.manifests.manifest_file import ManifestFile, decode, is_manifest_name, relative_parts

_SHA = re.compile(r"^[0-9a-fA-F]{4,40}$")
HTTP_TIMEOUT = 60.0  # seconds without an answer from an https remote before a fetch fails
# ssh never prompts (no terminal to answer it) and gives up on a silent remote
SSH_COMMAND = "ssh -o BatchMode=yes -o ConnectTimeout=30 -o ServerAliveInterval=15 -o ServerAliveCountMax=4"


@dataclass(frozen=True)
class GitAuth:
    """HTTPS credentials: a user name and a password or access token."""

    username: str
    password: str = field(repr=False)


class GitStore:
    def __init__(
        self,
        repo: str,
        *,
        branch: str | None = None,
        commit: str | None = None,
        tag: str | None = None,
        auth: GitAuth | None = None,
        cache_dir: Path | None = None,
    ) -> None:
        given = [(kind, ref) for kind, ref in (("branch", branch), ("commit", commit), ("tag", tag)) if ref]
        if len(given) != 1:
            message = "give exactly one of branch, commit or tag to fetch manifests from"
            raise ConfigError([Problem(file=f"git:{without_credentials(repo)}", path="", message=message)])
        self.repo = repo
        self.shown = without_credentials(repo)
        self.ref_kind, self.ref = given[0]
        self.auth = auth
        self.cache_dir = cache_dir
        self._opened: Repo | None = None

    def fetch(self, paths: list[str]) -> list[ManifestFile]:
        """Every manifest the paths name, in the order given; ConfigError names the repo, ref
        and each path that cannot be read."""
        repo = self._open()
        tree = self._commit(repo).tree
        files: list[ManifestFile] = []
        problems: list[Problem] = []
        for path in paths:
            try:
                files.extend(self._read(repo, tree, path))
            except ConfigError as error:
                problems.extend(error.problems)
        if problems:
            raise ConfigError(problems)
        return files

    # -- the repository ---------------------------------------------------------------------

    def _open(self) -> Repo:
        if self._opened is None:
            self._opened = self._mirror() if _is_url(self.repo) else self._local()
        return self._opened

    def _local(self) -> Repo:
        try:
            return Repo(self.repo)
        except (NotGitRepository, FileNotFoundError, NotADirectoryError):
            problem = Problem(file=f"git:{self.shown}", path="", message="is not a git repository")
            raise ConfigError([problem]) from None

    def _mirror(self) -> Repo:
        root = self.cache_dir or default_cache_dir()
        folder = Path(root, hashlib.sha256(self.repo.encode()).hexdigest()[:24])
        folder.mkdir(parents=True, exist_ok=True)
        with _locked(folder):
            repo = Repo(str(folder)) if (folder / "HEAD").exists() else Repo.init_bare(str(folder))
            if not (self.ref_kind == "commit" and _has_commit(repo, self.ref)):
                self._update(repo)
        return repo

    def _update(self, repo: Repo) -> None:
        username, password = (self.auth.username, self.auth.password) if self.auth else (None, None)
        config = ConfigDict()
        config.set((b"http",), b"timeout", str(HTTP_TIMEOUT).encode())  # a stalled remote ends
        try:
            client, remote_path = get_transport_and_path(
                self.repo, config=config, username=username, password=password, ssh_command=SSH_COMMAND
            )
            result = client.fetch(remote_path, repo, progress=_ignore_progress)
        except Exception as exc:  # dulwich, urllib3 and socket errors: one answer, never a crash
            reason = str(exc).replace(self.repo, self.shown)
            if password:
                reason = reason.replace(password, "***")
            raise CorralError(f"git:{self.shown}: cannot fetch the repository: {reason}") from None
        wanted = {
            name: sha
            for name, sha in result.refs.items()
            if name.startswith((b"refs/heads/", b"refs/tags/")) and not name.endswith(b"^{}") and sha
        }
        for name in list(repo.refs.keys(base=None)):
            if name.startswith((b"refs/heads/", b"refs/tags/")) and name not in wanted:
                del repo.refs[name]  # gone upstream
        for name, sha in wanted.items():
            repo.refs[name] = sha

    # -- the ref ----------------------------------------------------------------------------

    def _commit(self, repo: Repo) -> Commit:
        if self.ref_kind == "branch":
            sha = self._ref_sha(repo, b"refs/heads/", "branches")
        elif self.ref_kind == "tag":
            sha = self._ref_sha(repo, b"refs/tags/", "tags")
        else:
            found = _find_commit(repo, self.ref)
            if found is None:
                raise self._error("", f"commit '{self.ref}' not found")
            sha = found
        obj = repo[sha]
        while isinstance(obj, Tag):  # annotated tags point at the commit
            obj = repo[obj.object[1]]
        if not isinstance(obj, Commit):
            raise self._error("", f"{self.ref_kind} '{self.ref}' does not point at a commit")
        return obj

    def _ref_sha(self, repo: Repo, prefix: bytes, plural: str) -> ObjectID:
        name = Ref(prefix + self.ref.encode())
        refs = repo.get_refs()
        if name not in refs:
            known = sorted(r[len(prefix) :].decode() for r in refs if r.startswith(prefix))
            listed = ", ".join(known[:20]) or "none"
            raise self._error("", f"{self.ref_kind} '{self.ref}' not found ({plural}: {listed})")
        return refs[name]

    # -- the paths --------------------------------------------------------------------------

    def _read(self, repo: Repo, tree: ObjectID, path: str) -> list[ManifestFile]:
        parts = relative_parts(path)
        if parts is None:
            raise self._error(path, "'..' is not allowed in a repository path")
        if not parts:
            mode, sha = stat.S_IFDIR, tree
        else:
            try:
                mode, sha = tree_lookup_path(repo.__getitem__, tree, "/".join(parts).encode())
            except (KeyError, NotTreeError):
                raise self._error(path, "no such file or folder at this ref") from None
        if stat.S_ISDIR(mode):
            return self._folder(repo, sha, parts, path)
        if stat.S_ISLNK(mode) or not stat.S_ISREG(mode):
            raise self._error(path, "is a symbolic link or submodule; give the file it points to")
        return [self._blob(repo, sha, "/".join(parts))]

    def _folder(self, repo: Repo, tree: ObjectID, parts: tuple[str, ...], path: str) -> list[ManifestFile]:
        entries = [
            e
            for e in iter_tree_contents(repo.object_store, tree)
            if stat.S_ISREG(e.mode) and is_manifest_name(e.path.decode())
        ]
        entries.sort(key=lambda e: e.path)
        if not entries:
            raise self._error(path, "folder holds no .json, .yaml or .yml file")
        prefix = "/".join(parts)
        return [
            self._blob(repo, e.sha, f"{prefix}/{e.path.decode()}" if prefix else e.path.decode())
            for e in entries
        ]

    def _blob(self, repo: Repo, sha: bytes, path: str) -> ManifestFile:
        blob = repo[sha]
        assert isinstance(blob, Blob)
        return decode(self._source(path), blob.as_raw_string())

    def _source(self, path: str) -> str:
        return f"git:{self.shown}@{self.ref}:{path}"

    def _error(self, path: str, message: str) -> ConfigError:
        file = self._source(path) if path else f"git:{self.shown}@{self.ref}"
        return ConfigError([Problem(file=file, path="", message=message)])


def default_cache_dir() -> Path:
    """Where mirrors live when the caller names no cache: the user's cache folder."""
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "corral", "git")


def without_credentials(repo: str) -> str:
    """The URL as messages show it: a user or token written into it is left out."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", repo, flags=re.IGNORECASE)


def _is_url(repo: str) -> bool:
    return "://" in repo or bool(re.match(r"^[\w.-]+@[\w.-]+:", repo))


def _ignore_progress(_message: bytes) -> None:
    """Fetch progress lines: nobody reads them."""


def _has_commit(repo: Repo, ref: str) -> bool:
    return _find_commit(repo, ref) is not None


def _find_commit(repo: Repo, ref: str) -> ObjectID | None:
    if not _SHA.match(ref):
        return None
    ref_bytes = ObjectID(ref.lower().encode())
    if len(ref_bytes) == 40:
        return ref_bytes if ref_bytes in repo.object_store else None
    matches = [sha for sha in repo.object_store.iter_prefix(ref_bytes) if isinstance(repo[sha], Commit)]
    return matches[0] if len(matches) == 1 else None


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One fetch at a time per mirror, across processes sharing a cache."""
    with open(folder.parent / f"{folder.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
