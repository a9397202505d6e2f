"""Where a manifest's files live: `spec.store` of a service manifest.

Harness (the project's `files/` folder), Git/Github, S3, and Inline (Corral's extension:
the document written right in the service YAML).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .common import Model, field_error, is_runtime_input


class HarnessStoreSpec(Model):
    files: list[str] = Field(min_length=1)


class HarnessStore(Model):
    type: Literal["Harness"]
    spec: HarnessStoreSpec


class GitStoreSpec(Model):
    connector_ref: str
    git_fetch_type: Literal["Branch", "Commit"] = "Branch"
    branch: str | None = None
    commit_id: str | None = None
    paths: list[str] = Field(min_length=1)
    repo_name: str | None = None
    folder_path: str | None = None

    @model_validator(mode="after")
    def _ref_for_fetch_type(self) -> GitStoreSpec:
        if self.git_fetch_type == "Branch" and not self.branch:
            raise field_error("branch", "required when gitFetchType is Branch (the branch to fetch)")
        if self.git_fetch_type == "Commit" and not self.commit_id:
            raise field_error("commitId", "required when gitFetchType is Commit (the commit to fetch)")
        return self


class GitStore(Model):
    type: Literal["Git", "Github"]
    spec: GitStoreSpec


class S3StoreSpec(Model):
    connector_ref: str
    region: str
    bucket_name: str
    paths: list[str] = Field(min_length=1)


class S3Store(Model):
    type: Literal["S3"]
    spec: S3StoreSpec


class InlineStoreSpec(Model):
    # a mapping is the manifest itself; a string is its YAML or JSON text
    content: dict[str, Any] | str

    @model_validator(mode="after")
    def _not_empty(self) -> InlineStoreSpec:
        if isinstance(self.content, str) and not self.content.strip():
            raise field_error("content", "is empty: expected the manifest document")
        return self


class InlineStore(Model):
    type: Literal["Inline"]
    spec: InlineStoreSpec


Store = Annotated[HarnessStore | GitStore | S3Store | InlineStore, Field(discriminator="type")]
STORE_TYPES = ("Harness", "Git", "Github", "S3", "Inline")


def store_connector_ref(store: HarnessStore | GitStore | S3Store | InlineStore) -> str | None:
    if isinstance(store, GitStore | S3Store):
        ref = store.spec.connector_ref
        return None if is_runtime_input(ref) else ref
    return None
