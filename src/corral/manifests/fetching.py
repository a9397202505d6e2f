"""Fetch a service manifest's files from the store its YAML names.

Harness -> the project's files/ folder; Git/Github -> the connector's repository at the
branch or commit; S3 -> the bucket through the AWS connector; Inline -> the document in
the service YAML itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import yaml

from corral.config.connections import aws_settings, git_remote
from corral.config.entities.connector import AwsConnector, GitConnector, GithubConnector
from corral.config.entities.stores import GitStore as GitStoreConfig
from corral.config.entities.stores import HarnessStore, InlineStore
from corral.config.entities.stores import S3Store as S3StoreConfig
from corral.config.overrides import Placed
from corral.config.settings import STATE_DIR
from corral.errors import ConfigError, Problem, format_path
from corral.manifests.file_store import FileStore
from corral.manifests.manifest_file import ManifestFile

if TYPE_CHECKING:
    from corral.config.project import Project
    from corral.config.secrets import SecretResolver


class RemoteSkipped(Exception):
    """Offline validation: the manifest lives in Git or S3 and was not fetched."""


def fetch_manifest_files(
    project: Project, placed: Placed, secrets: SecretResolver, *, offline: bool = False
) -> list[ManifestFile]:
    """The files of one manifest; ConfigError naming the store field when they cannot be read."""
    store = placed.item.spec.store
    store_path = (*placed.path, "spec", "store")
    if isinstance(store, HarnessStore):
        return FileStore(project.files_root).fetch(store.spec.files)
    if isinstance(store, InlineStore):
        return [_inline(placed, store)]
    if offline:
        raise RemoteSkipped(store.type)
    where = placed.owner.where((*store_path, "spec", "connectorRef"))
    connector = project.connector(store.spec.connector_ref)
    if isinstance(store, GitStoreConfig):
        from corral.manifests.git_store import GitAuth, GitStore  # dulwich: only for Git stores

        if not isinstance(connector, GitConnector | GithubConnector):
            raise _store_problem(where, store_path, "expected a Git or Github connector")
        remote = git_remote(project, connector, secrets, repo_name=store.spec.repo_name)
        auth = GitAuth(remote.username or "", remote.password) if remote.password else None
        git = GitStore(
            remote.url,
            branch=store.spec.branch if store.spec.git_fetch_type == "Branch" else None,
            commit=store.spec.commit_id if store.spec.git_fetch_type == "Commit" else None,
            auth=auth,
            cache_dir=project.root / STATE_DIR / "git",
        )
        paths = [_in_folder(store.spec.folder_path, p) for p in store.spec.paths]
        return git.fetch(paths)
    assert isinstance(store, S3StoreConfig)
    if not isinstance(connector, AwsConnector):
        raise _store_problem(where, store_path, "expected an Aws connector")
    from corral.manifests.s3_store import S3Store  # botocore: only for S3 stores

    client = aws_settings(connector, secrets, region=store.spec.region).client("s3")
    return S3Store(client, store.spec.bucket_name).fetch(store.spec.paths)


def _in_folder(folder: str | None, path: str) -> str:
    return f"{folder.rstrip('/')}/{path.lstrip('/')}" if folder else path


def inline_source(placed: Placed) -> str:
    """How an inline manifest is named in messages: its file, line and manifest identifier."""
    return f"{placed.owner.where((*placed.path, 'spec', 'store', 'spec', 'content'))} (inline {placed.item.identifier})"


def _inline(placed: Placed, store: InlineStore) -> ManifestFile:
    content = store.spec.content
    text = (
        content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False, allow_unicode=True)
    )
    return ManifestFile(source=inline_source(placed), text=text)


def _store_problem(where: str, path: tuple[str | int, ...], message: str) -> ConfigError:
    return ConfigError([Problem(where, format_path((*path, "spec", "connectorRef")), message)])
