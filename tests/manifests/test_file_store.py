"""The project's files/ folder: Harness scopes, folders, and paths that try to leave it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from corral.errors import ConfigError, Problem
from corral.manifests import FileStore, ManifestFile


@pytest.fixture
def store(tmp_path: Path) -> FileStore:
    files = tmp_path / "project" / "files"
    write(files / "account" / "ECS Tutorial" / "RegisterTaskDefinitionRequest.yaml", "family: web\n")
    write(files / "account" / "ECS Tutorial" / "CreateServiceRequest.json", '{"serviceName": "myapp"}')
    write(files / "account" / "ECS Tutorial" / "notes.txt", "not a manifest")
    write(files / "org" / "scaling" / "policy.yml", "policyName: P1\n")
    write(files / "project" / "target.yaml", "minCapacity: 1\n")
    write(files / "ECS Tutorial" / "task.yaml", "family: plain\n")
    write(files / "manifests" / "b" / "service.yaml", "serviceName: b\n")
    write(files / "manifests" / "a.json", "{}")
    write(tmp_path / "project" / "secret.yaml", "password: hunter2\n")
    return FileStore(files)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def refused(store: FileStore, path: str) -> Problem:
    with pytest.raises(ConfigError) as caught:
        store.fetch([path])
    [problem] = caught.value.problems
    return problem


def test_harness_scopes_map_into_the_files_folder(store: FileStore) -> None:
    fetched = store.fetch(
        [
            "account:/ECS Tutorial/RegisterTaskDefinitionRequest.yaml",
            "org:/scaling/policy.yml",
            "project:/target.yaml",
        ]
    )
    assert fetched == [
        ManifestFile("files/account/ECS Tutorial/RegisterTaskDefinitionRequest.yaml", "family: web\n"),
        ManifestFile("files/org/scaling/policy.yml", "policyName: P1\n"),
        ManifestFile("files/project/target.yaml", "minCapacity: 1\n"),
    ]


def test_plain_relative_path(store: FileStore) -> None:
    assert store.fetch(["ECS Tutorial/task.yaml"]) == [
        ManifestFile("files/ECS Tutorial/task.yaml", "family: plain\n")
    ]


def test_folder_gives_every_manifest_below_it_sorted(store: FileStore) -> None:
    assert [f.source for f in store.fetch(["manifests"])] == [
        "files/manifests/a.json",
        "files/manifests/b/service.yaml",
    ]
    assert [f.source for f in store.fetch(["account:/ECS Tutorial/"])] == [
        "files/account/ECS Tutorial/CreateServiceRequest.json",
        "files/account/ECS Tutorial/RegisterTaskDefinitionRequest.yaml",
    ]


def test_missing_file_is_reported_with_every_other_missing_path(store: FileStore) -> None:
    with pytest.raises(ConfigError) as caught:
        store.fetch(["account:/ECS Tutorial/missing.yaml", "ECS Tutorial/task.yaml", "org:/nothing"])
    assert caught.value.problems == [
        Problem("account:/ECS Tutorial/missing.yaml", "",
                "no such file or folder in the file store (files/account/ECS Tutorial/missing.yaml)"),
        Problem("org:/nothing", "", "no such file or folder in the file store (files/org/nothing)"),
    ]  # fmt: skip


def test_folder_without_manifests_is_an_error(store: FileStore, tmp_path: Path) -> None:
    (tmp_path / "project" / "files" / "empty").mkdir()
    assert refused(store, "empty").message == "folder files/empty holds no .json, .yaml or .yml file"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("../secret.yaml", "'..' is not allowed in a file store path"),
        ("account:/../../secret.yaml", "'..' is not allowed in a file store path"),
        ("manifests/../../secret.yaml", "'..' is not allowed in a file store path"),
        ("/etc/passwd", "absolute paths are not allowed; give a path inside files/ or account:/..."),
        ("C:\\Windows\\win.ini", "absolute paths are not allowed; give a path inside files/ or account:/..."),
    ],
)
def test_paths_leaving_the_store_are_refused(store: FileStore, path: str, message: str) -> None:
    assert refused(store, path) == Problem(path, "", message)


def test_symlink_out_of_the_store_is_refused(store: FileStore, tmp_path: Path) -> None:
    os.symlink(tmp_path / "project" / "secret.yaml", tmp_path / "project" / "files" / "link.yaml")
    assert refused(store, "link.yaml").message == "points outside the file store (through a symbolic link)"


def test_symlinked_folder_out_of_the_store_is_refused(store: FileStore, tmp_path: Path) -> None:
    os.symlink(tmp_path / "project", tmp_path / "project" / "files" / "up")
    assert refused(store, "up").message == "points outside the file store (through a symbolic link)"


def test_symlink_inside_a_folder_pointing_out_is_refused(store: FileStore, tmp_path: Path) -> None:
    os.symlink(tmp_path / "project" / "secret.yaml", tmp_path / "project" / "files" / "manifests" / "z.yaml")
    assert refused(store, "manifests") == Problem(
        "files/manifests/z.yaml", "", "points outside the file store (through a symbolic link)"
    )


def test_symlink_within_the_store_is_followed(store: FileStore, tmp_path: Path) -> None:
    files = tmp_path / "project" / "files"
    os.symlink(files / "ECS Tutorial" / "task.yaml", files / "alias.yaml")
    assert store.fetch(["alias.yaml"]) == [ManifestFile("files/alias.yaml", "family: plain\n")]


def test_non_utf8_file_is_refused(store: FileStore, tmp_path: Path) -> None:
    (tmp_path / "project" / "files" / "latin1.yaml").write_bytes("family: caf\xe9\n".encode("latin-1"))
    assert refused(store, "latin1.yaml") == Problem(
        "files/latin1.yaml", "", "is not UTF-8 text (at byte offset 11); expected a JSON or YAML manifest"
    )
