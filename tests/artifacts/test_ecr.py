"""ECR through boto3 against the sandbox (ECR served by moto): images put with PutImage."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import pytest

from corral.artifacts import (
    EcrRepository,
    RegistryUnreachable,
    RepositoryNotFound,
    TagNotFound,
    list_tags,
    resolve_artifact,
)
from corral.sandbox import Sandbox

from .projects import aws_connector, service, source, write_project
from .registries import SpecRegistry, sha256

ACCOUNT = "123456789012"


def put(ecr: Any, repository: str, tag: str) -> str:
    """PutImage of a small schema 2 manifest; returns the digest ECR reports."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 100,
            "digest": sha256(f"config {tag}".encode()),
        },
        "layers": [
            {
                "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                "size": 1000,
                "digest": sha256(f"layer {tag}".encode()),
            }
        ],
    }
    answer = ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
    return str(answer["image"]["imageId"]["imageDigest"])


def next_second() -> None:
    """ECR's push times have whole seconds: wait for the next one so pushes are ordered."""
    time.sleep(1.02 - time.time() % 1)


PUSHES = (("2.0", "1.5"), ("1.4", "0.0", "0.1", "0.2"))  # one second each; 1.4 newest despite its name


def push_in_seconds(ecr: Any) -> dict[str, str]:
    """Push each group of PUSHES within one second, the groups in later seconds; returns the
    digests. A busy machine can let a group straddle a second: then it pushes everything again."""
    for _ in range(3):
        ecr.create_repository(repositoryName="team/web")
        digests: dict[str, str] = {}
        for group in PUSHES:
            next_second()
            digests.update({tag: put(ecr, "team/web", tag) for tag in group})
        details = ecr.describe_images(repositoryName="team/web")["imageDetails"]
        pushed = {tag: d["imagePushedAt"] for d in details for tag in d.get("imageTags", [])}
        if all(len({pushed[tag] for tag in group}) == 1 for group in PUSHES):
            return digests
        ecr.delete_repository(repositoryName="team/web", force=True)
    raise AssertionError("could not push each group of images within one second")


@pytest.fixture(scope="module")
def ecr_images() -> Any:
    with Sandbox(speed=50) as sandbox:
        ecr = sandbox.client("ecr")
        digests = push_in_seconds(ecr)
        yield sandbox, ecr, {tag: digests[tag] for tag in ("2.0", "1.5", "1.4")}


def test_tags_newest_push_first_with_digests(ecr_images: Any) -> None:
    _, ecr, digests = ecr_images
    repository = EcrRepository(ecr, "team/web", registry_id=ACCOUNT)
    images = repository.images()
    assert [i.tag for i in images][:3] == ["1.4", "0.2", "0.1"]  # same second: version order
    assert {i.tag: i.digest for i in images if i.tag in digests} == digests
    assert images[0].created is not None and images[0].media_type.endswith("manifest.v2+json")  # type: ignore[union-attr]
    assert [i.tag for i in repository.newest(pattern=re.compile(r"^[12]\."), limit=2)] == ["1.4", "2.0"]


def test_every_tag_of_every_image_is_listed(ecr_images: Any) -> None:
    _, ecr, _ = ecr_images
    # DescribeImages is read through botocore's paginator (moto answers in one page)
    assert sorted(i.tag for i in EcrRepository(ecr, "team/web").images()) == [
        "0.0",
        "0.1",
        "0.2",
        "1.4",
        "1.5",
        "2.0",
    ]


def test_one_tag_and_the_image_uri(ecr_images: Any) -> None:
    _, ecr, digests = ecr_images
    repository = EcrRepository(ecr, "team/web")
    assert repository.tag_info("2.0").digest == digests["2.0"]
    assert repository.digest("1.5") == digests["1.5"]
    assert repository.image_base == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/web"


def test_missing_repository_and_tag(ecr_images: Any) -> None:
    _, ecr, _ = ecr_images
    with pytest.raises(TagNotFound, match=r"ECR repository 'team/web' \(us-east-1\) has no tag '9.9'"):
        EcrRepository(ecr, "team/web").tag_info("9.9")
    with pytest.raises(RepositoryNotFound, match=r"ECR repository 'team/none' \(us-east-1\) not found"):
        EcrRepository(ecr, "team/none").images()


def test_login_decodes_the_authorization_token(ecr_images: Any) -> None:
    _, ecr, _ = ecr_images
    login = EcrRepository(ecr, "team/web", registry_id=ACCOUNT).login()
    assert login.username == "AWS" and login.password
    assert login.endpoint == f"https://{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"
    assert login.password not in repr(login)


def ecr_project(tmp_path: Path, endpoint: str, **spec: str) -> Any:
    spec.setdefault("imagePath", "team/web")
    spec.setdefault("region", "us-east-1")
    src = source(type="Ecr", connector="aws", **spec)
    return write_project(tmp_path, connectors=[aws_connector(endpoint)], service_yaml=service(src))


def test_resolver_picks_the_newest_matching_tag_from_ecr(ecr_images: Any, tmp_path: Path) -> None:
    sandbox, _, digests = ecr_images
    project = ecr_project(tmp_path, sandbox.endpoint_url, tagRegex=r"^[12]\.")
    artifact = resolve_artifact(project, "web")
    assert (artifact.tag, artifact.image) == (
        "1.4",
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/web:1.4",
    )
    assert artifact.metadata["digest"] == digests["1.4"]


def test_resolver_pins_an_ecr_tag_to_its_digest(ecr_images: Any, tmp_path: Path) -> None:
    sandbox, _, digests = ecr_images
    project = ecr_project(tmp_path, sandbox.endpoint_url, tag="2.0", digest="resolve", registryId=ACCOUNT)
    artifact = resolve_artifact(project, "web")
    assert artifact.image == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/web@{digests['2.0']}"
    assert (artifact.tag, artifact.digest) == ("2.0", digests["2.0"])


def test_list_tags_of_an_ecr_source(ecr_images: Any, tmp_path: Path) -> None:
    sandbox, _, _ = ecr_images
    project = ecr_project(tmp_path, sandbox.endpoint_url, tag="2.0")
    spec, base, tags = list_tags(project, "web", limit=2)
    assert (spec.type, base) == ("Ecr", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/web")
    assert [t.tag for t in tags] == ["1.4", "0.2"]


def test_fixed_tag_with_the_account_known_makes_no_call(tmp_path: Path) -> None:
    with SpecRegistry() as listener:  # stands in for the AWS endpoint: any call would be logged
        project = ecr_project(tmp_path, listener.url, tag="2.0", registryId=ACCOUNT)
        artifact = resolve_artifact(project, "web")
        uri = ecr_project(
            tmp_path, listener.url, tag="2.0", imagePath=f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/app"
        )
        by_uri = resolve_artifact(uri, "web")
        assert listener.log == []
    assert artifact.image == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/web:2.0"
    assert by_uri.image == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/app:2.0"


def test_without_the_account_one_call_finds_the_uri_or_offline_a_stand_in(
    ecr_images: Any, tmp_path: Path
) -> None:
    sandbox, _, _ = ecr_images
    project = ecr_project(tmp_path, sandbox.endpoint_url, tag="2.0")
    # as Harness: the repository is in the account of the connector's credentials
    assert resolve_artifact(project, "web").image == f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/team/web:2.0"
    # without a call (validate, render), AWS's own placeholder for the account stands in
    offline = resolve_artifact(project, "web", offline=True)
    assert offline.image == "aws_account_id.dkr.ecr.us-east-1.amazonaws.com/team/web:2.0"


def test_ecr_endpoint_down(tmp_path: Path) -> None:
    with SpecRegistry() as gone:
        url = gone.url
    project = ecr_project(tmp_path, url, tagRegex=".*", registryId=ACCOUNT)
    with pytest.raises(RegistryUnreachable, match=r"ECR \(us-east-1\): DescribeImages failed"):
        resolve_artifact(project, "web", timeout=0.5)  # connection errors are retried until then
