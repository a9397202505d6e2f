"""Manifests from S3, read through the sandbox's S3 with a plain boto3 client."""

from __future__ import annotations

from typing import Any

import pytest

from corral.errors import ConfigError, Problem
from corral.manifests import ManifestFile, S3Store

BUCKET = "corral-manifests"


@pytest.fixture
def s3(sandbox: Any) -> Any:
    client = sandbox.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket=BUCKET)
    objects = {
        "ecs/task.yaml": "family: web\n",
        "ecs/service.json": '{"serviceName": "web"}',
        "ecs/scaling/policy.yml": "policyName: P1\n",
        "ecs/README.md": "not a manifest",
        "ecs/empty/": "",  # a console-made "folder" marker
        "ecs-other/task.yaml": "family: other\n",
        "docs/index.md": "# docs",
    }
    for key, text in objects.items():
        client.put_object(Bucket=BUCKET, Key=key, Body=text.encode())
    return client


def test_object_by_key(s3: Any) -> None:
    assert S3Store(s3, BUCKET).fetch(["ecs/task.yaml", "/ecs/service.json"]) == [
        ManifestFile(f"s3://{BUCKET}/ecs/task.yaml", "family: web\n"),
        ManifestFile(f"s3://{BUCKET}/ecs/service.json", '{"serviceName": "web"}'),
    ]


@pytest.mark.parametrize("prefix", ["ecs", "ecs/", "/ecs"])
def test_prefix_gives_every_manifest_below_it_sorted(s3: Any, prefix: str) -> None:
    assert [f.source for f in S3Store(s3, BUCKET).fetch([prefix])] == [
        f"s3://{BUCKET}/ecs/scaling/policy.yml",
        f"s3://{BUCKET}/ecs/service.json",
        f"s3://{BUCKET}/ecs/task.yaml",
    ]


def test_missing_keys_are_all_reported(s3: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        S3Store(s3, BUCKET).fetch(["ecs/nope.yaml", "ecs/task.yaml", "docs"])
    message = "no such object, and no .json, .yaml or .yml object below it"
    assert caught.value.problems == [
        Problem(f"s3://{BUCKET}/ecs/nope.yaml", "", message),
        Problem(f"s3://{BUCKET}/docs", "", message),
    ]


def test_missing_bucket(s3: Any) -> None:
    with pytest.raises(ConfigError) as caught:
        S3Store(s3, "no-such-bucket").fetch(["ecs/task.yaml"])
    assert caught.value.problems == [
        Problem("s3://no-such-bucket/ecs/task.yaml", "", "bucket 'no-such-bucket' does not exist")
    ]
