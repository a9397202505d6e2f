"""Manifests from an S3 bucket, through a boto3 client the caller builds from the AWS
connector (its region and endpoint decide where the bucket is read).

A path is an object key (a leading `/` is ignored). When no object has that key, it is read
as a folder: every .json, .yaml and .yml object below `<path>/`, sorted by key. Sources read
`s3://bucket/key`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from corral.errors import ConfigError, CorralError, Problem
from corral.manifests.manifest_file import ManifestFile, decode, is_manifest_name

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}


class S3Store:
    def __init__(self, client: Any, bucket: str) -> None:
        self.client = client
        self.bucket = bucket

    def fetch(self, paths: list[str]) -> list[ManifestFile]:
        """Every manifest the paths name, in the order given; ConfigError lists every path
        with nothing behind it."""
        files: list[ManifestFile] = []
        problems: list[Problem] = []
        for path in paths:
            try:
                files.extend(self._fetch_one(path.lstrip("/")))
            except ConfigError as error:
                problems.extend(error.problems)
        if problems:
            raise ConfigError(problems)
        return files

    def _fetch_one(self, key: str) -> list[ManifestFile]:
        if key and not key.endswith("/"):
            found = self._object(key)
            if found is not None:
                return [found]
        prefix = key if not key or key.endswith("/") else key + "/"
        keys = sorted(k for k in self._keys(prefix) if is_manifest_name(k))
        if not keys:
            raise self._error(key, "no such object, and no .json, .yaml or .yml object below it")
        files = []
        for found_key in keys:
            found = self._object(found_key)
            if found is None:  # deleted between listing and reading
                raise self._error(found_key, "no such object")
            files.append(found)
        return files

    def _object(self, key: str) -> ManifestFile | None:
        with self._translated(key):
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _NOT_FOUND:
                    return None  # the path may still be a folder
                raise
        return decode(self._source(key), body)

    def _keys(self, prefix: str) -> list[str]:
        with self._translated(prefix):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix)
            keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
        return [k for k in keys if not k.endswith("/")]  # folder markers made by the console

    @contextmanager
    def _translated(self, key: str) -> Iterator[None]:
        """S3 errors as Corral errors naming the object."""
        try:
            yield
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code = error.get("Code", "")
            if code == "NoSuchBucket":
                raise self._error(key, f"bucket '{self.bucket}' does not exist") from None
            raise self._error(key, f"cannot read from S3: {code}: {error.get('Message') or code}") from None
        except BotoCoreError as exc:
            raise CorralError(f"{self._source(key)}: cannot reach S3: {exc}") from None

    def _source(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def _error(self, key: str, message: str) -> ConfigError:
        return ConfigError([Problem(file=self._source(key), path="", message=message)])
