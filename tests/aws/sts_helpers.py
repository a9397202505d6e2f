"""Roles, OIDC providers and web identity tokens in the sandbox's IAM, for the STS tests."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any

ACCOUNT = "123456789012"
OTHER_ACCOUNT = "111122223333"
ISSUER = "https://oidc.eks.us-east-1.amazonaws.com/id/CORRALTEST"
PROVIDER = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER.removeprefix('https://')}"
SUBJECT = "system:serviceaccount:deploy:corral"


def token(*, sub: str = SUBJECT, aud: str = "sts.amazonaws.com", expires_in: int = 3600) -> str:
    """An unsigned-looking JWT (the sandbox reads its claims; it cannot check signatures)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    claims = {"iss": ISSUER, "sub": sub, "aud": aud, "exp": int(time.time()) + expires_in}
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def write_token(path: Path, **claims: Any) -> Path:
    path.write_text(token(**claims) + "\n")
    return path


def in_account(client: Any, account: str) -> Any:
    """Make a sandbox client act in another account (moto reads x-moto-account-id)."""

    def add_header(request: Any, **_: Any) -> None:
        request.headers["x-moto-account-id"] = account

    client.meta.events.register("before-sign.*.*", add_header)
    return client


def unique(prefix: str) -> str:
    """moto's IAM outlives one sandbox in a test process: every test names its own."""
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def role_name(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def web_identity_role(sandbox: Any, prefix: str = "irsa-deployer", *, sub: str = SUBJECT) -> str:
    """A role that the OIDC provider's tokens for `sub` may assume (the IRSA trust policy EKS documents)."""
    iam = sandbox.client("iam")
    providers = [p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]]
    if PROVIDER not in providers:
        iam.create_open_id_connect_provider(
            Url=ISSUER, ClientIDList=["sts.amazonaws.com"], ThumbprintList=["9" * 40]
        )
    host = ISSUER.removeprefix("https://")
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": PROVIDER},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {"StringEquals": {f"{host}:sub": sub, f"{host}:aud": "sts.amazonaws.com"}},
            }
        ],
    }
    return iam.create_role(RoleName=unique(prefix), AssumeRolePolicyDocument=json.dumps(policy))["Role"][
        "Arn"
    ]


def cross_account_role(
    sandbox: Any,
    prefix: str = "deploy-target",
    *,
    external_id: str = "corral-42",
    account: str = OTHER_ACCOUNT,
) -> str:
    """A role in `account` that the sandbox's default account may assume with the external id
    (the trust policy AWS documents for third-party access)."""
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"sts:ExternalId": external_id}},
            }
        ],
    }
    iam = in_account(sandbox.client("iam"), account)
    return iam.create_role(RoleName=unique(prefix), AssumeRolePolicyDocument=json.dumps(policy))["Role"][
        "Arn"
    ]


def user_keys(sandbox: Any, prefix: str = "deployer") -> tuple[str, str]:
    iam = sandbox.client("iam")
    name = unique(prefix)
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]
