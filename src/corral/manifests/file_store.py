"""The project's own file store: the `files/` folder next to the project YAML.

Paths, as the Harness file store writes them or plain:

- `account:/ECS Tutorial/task.yaml` -> `files/account/ECS Tutorial/task.yaml`
- `org:/X` -> `files/org/X`, `project:/X` -> `files/project/X`
- `ECS Tutorial/task.yaml` (relative) -> `files/ECS Tutorial/task.yaml`

A folder gives every .json, .yaml and .yml file below it, sorted by path. Paths that would
leave the store are refused: absolute paths, `..`, and symbolic links that point outside.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from corral.errors import ConfigError, Problem
from corral.manifests.manifest_file import ManifestFile, decode, is_manifest_name, relative_parts

SCOPES = ("account", "org", "project")
MAX_PATH_CHARS = 1024
_SCOPED = re.compile(r"^(account|org|project):(.*)$", re.DOTALL)


class FileStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def fetch(self, paths: list[str]) -> list[ManifestFile]:
        """Every manifest the paths name, in the order given; ConfigError lists every path
        that cannot be read."""
        files: list[ManifestFile] = []
        problems: list[Problem] = []
        for path in paths:
            try:
                files.extend(self._fetch_one(path))
            except ConfigError as error:
                problems.extend(error.problems)
        if problems:
            raise ConfigError(problems)
        return files

    def _fetch_one(self, path: str) -> list[ManifestFile]:
        parts = self._locate(path)
        target = self.root.joinpath(*parts)
        try:
            self._inside(target, path)
            is_dir, is_file = target.is_dir(), target.is_file()
        except OSError as error:  # a name too long for the file system, a loop of links
            raise _refuse(path, f"cannot be read from the file store: {error.strerror}") from None
        if is_dir:
            return self._folder(target, path)
        if not is_file:
            raise _refuse(path, f"no such file or folder in the file store ({self._shown(target)})")
        return [decode(self._shown(target), target.read_bytes())]

    def _locate(self, path: str) -> tuple[str, ...]:
        if "\x00" in path or len(path) > MAX_PATH_CHARS:
            shown = path.replace("\x00", "\\x00")[:80]
            raise _refuse(shown, f"not a usable path (a NUL character, or over {MAX_PATH_CHARS} characters)")
        scoped = _SCOPED.match(path)
        rest = scoped[2] if scoped else path
        if not scoped and (rest.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:[\\/]", rest)):
            raise _refuse(path, "absolute paths are not allowed; give a path inside files/ or account:/...")
        parts = relative_parts(rest)
        if parts is None:
            raise _refuse(path, "'..' is not allowed in a file store path")
        return ((scoped[1],) if scoped else ()) + parts

    def _folder(self, folder: Path, path: str) -> list[ManifestFile]:
        found: list[Path] = []
        for dirpath, _dirs, names in os.walk(folder):  # does not follow linked folders
            found += [Path(dirpath, n) for n in names if is_manifest_name(n)]
        found.sort(key=lambda p: p.relative_to(folder).as_posix())
        if not found:
            raise _refuse(path, f"folder {self._shown(folder)} holds no .json, .yaml or .yml file")
        files = []
        for file in found:
            self._inside(file, self._shown(file))
            files.append(decode(self._shown(file), file.read_bytes()))
        return files

    def _inside(self, target: Path, path: str) -> None:
        root = self.root.resolve()
        if not target.resolve().is_relative_to(root):
            raise _refuse(path, "points outside the file store (through a symbolic link)")

    def _shown(self, target: Path) -> str:
        return Path(self.root.name, target.relative_to(self.root)).as_posix()


def _refuse(path: str, message: str) -> ConfigError:
    return ConfigError([Problem(file=path, path="", message=message)])
