"""Amazon ECR through its API (boto3): tags, digests and push times without a registry login.

    repo = EcrRepository(session.client("ecr"), "team/web", registry_id="123456789012")
    repo.newest(limit=5)             # DescribeImages, every page, newest push first
    repo.tag_info("1.4.2")           # one tag: digest, pushed time, media type, size
    repo.image_base                  # 123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web
    repo.login()                     # GetAuthorizationToken: user AWS, a 12-hour password

ECR's push time stands in for the creation time when ordering tags.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any

from .errors import (
    ArtifactError,
    RegistryDenied,
    RegistryProtocolError,
    RegistryUnauthorized,
    RegistryUnreachable,
    RepositoryNotFound,
    TagNotFound,
)
from .images import TagInfo, TagPattern, newest_first, parse_time

ECR_URI = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<repository>.+)$"
)
_UNAUTHORIZED = {
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "AuthFailure",
}
_DENIED = {"AccessDeniedException", "AccessDenied"}


def ecr_host(registry_id: str, region: str) -> str:
    return f"{registry_id}.dkr.ecr.{region}.amazonaws.com"


@dataclass(frozen=True)
class RegistryLogin:
    """Credentials for the registry API of ECR (what `docker login` would use)."""

    username: str
    password: str = field(repr=False)
    endpoint: str


class EcrRepository:
    """One ECR repository, read with a boto3 ECR client (any endpoint: AWS or the sandbox)."""

    def __init__(self, client: Any, repository: str, *, registry_id: str | None = None) -> None:
        self.client = client
        self.repository = repository
        self.registry_id = registry_id
        self._uri: str | None = None

    @property
    def region(self) -> str:
        return str(self.client.meta.region_name)

    @property
    def image_base(self) -> str:
        """`ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY` (asks ECR for the account if not given)."""
        if self.registry_id:
            return f"{ecr_host(self.registry_id, self.region)}/{self.repository}"
        if self._uri is None:
            found = self._call(
                "DescribeRepositories", self.client.describe_repositories, repositoryNames=[self.repository]
            )
            self._uri = str(found["repositories"][0]["repositoryUri"])
        return self._uri

    def images(self) -> list[TagInfo]:
        """Every tag of the repository (DescribeImages, all pages), newest push first."""
        paginator = self.client.get_paginator("describe_images")
        params = self._params(filter={"tagStatus": "TAGGED"})
        found: list[TagInfo] = []

        def pages() -> list[dict[str, Any]]:
            return list(paginator.paginate(**params))

        for page in self._call("DescribeImages", pages):
            for detail in page.get("imageDetails", []):
                found += _tag_infos(detail)
        return newest_first(found)

    def newest(self, *, pattern: TagPattern | None = None, limit: int | None = None) -> list[TagInfo]:
        ordered = [t for t in self.images() if pattern is None or pattern.search(t.tag)]
        return ordered[:limit] if limit else ordered

    def tag_info(self, tag: str) -> TagInfo:
        answer = self._call(
            "DescribeImages",
            self.client.describe_images,
            **self._params(imageIds=[{"imageTag": tag}]),
            tag=tag,
        )
        for detail in answer.get("imageDetails", []):
            for info in _tag_infos(detail):
                if info.tag == tag:
                    return info
        raise TagNotFound(f"ECR repository '{self.repository}' has no tag '{tag}'")

    def digest(self, tag: str) -> str:
        digest = self.tag_info(tag).digest
        if not digest:
            raise RegistryProtocolError(f"ECR gave no digest for {self.repository}:{tag}")
        return digest

    def login(self) -> RegistryLogin:
        """GetAuthorizationToken for this repository's registry, decoded to user and password."""
        params: dict[str, Any] = {"registryIds": [self.registry_id]} if self.registry_id else {}
        answer = self._call("GetAuthorizationToken", self.client.get_authorization_token, **params)
        data = answer["authorizationData"][0]
        username, _, password = base64.b64decode(data["authorizationToken"]).decode().partition(":")
        return RegistryLogin(username, password, str(data["proxyEndpoint"]))

    # -- calls and their errors ----------------------------------------------------------

    def _params(self, **params: Any) -> dict[str, Any]:
        out = {"repositoryName": self.repository, **params}
        if self.registry_id:
            out["registryId"] = self.registry_id
        return out

    def _call(self, operation: str, function: Any, *, tag: str | None = None, **params: Any) -> Any:
        from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

        try:
            return function(**params)
        except ClientError as error:
            raise self._error(operation, error, tag) from None
        except NoCredentialsError:
            raise RegistryUnauthorized(
                f"ECR ({self.region}): no AWS credentials found for {operation}; check the AWS connector"
            ) from None
        except BotoCoreError as error:
            raise RegistryUnreachable(f"ECR ({self.region}): {operation} failed: {error}") from None

    def _error(self, operation: str, error: Any, tag: str | None) -> ArtifactError:
        code = error.response.get("Error", {}).get("Code", "")
        message = error.response.get("Error", {}).get("Message", "")
        where = f"ECR repository '{self.repository}' ({self.region})"
        if code == "RepositoryNotFoundException":
            return RepositoryNotFound(f"{where} not found")
        if code == "ImageNotFoundException":
            return TagNotFound(f"{where} has no tag '{tag}'")
        if code in _UNAUTHORIZED:
            return RegistryUnauthorized(f"{where}: AWS refused the credentials for {operation} ({code})")
        if code in _DENIED:
            return RegistryDenied(f"{where}: {operation} is not allowed for these credentials ({code})")
        return RegistryProtocolError(f"{where}: {operation} failed: {code}: {message}")


def _tag_infos(detail: dict[str, Any]) -> list[TagInfo]:
    return [
        TagInfo(
            tag=tag,
            digest=detail.get("imageDigest"),
            created=parse_time(detail.get("imagePushedAt")),
            media_type=detail.get("imageManifestMediaType"),
            size=detail.get("imageSizeInBytes"),
        )
        for tag in detail.get("imageTags") or []
    ]
