"""The sandbox's STS honours a role's trust policy (moto alone lets anyone assume anything)."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from corral.sandbox import Sandbox
from tests.aws.sts_helpers import (
    ACCOUNT,
    OTHER_ACCOUNT,
    cross_account_role,
    role_name,
    token,
    unique,
    user_keys,
    web_identity_role,
)


def _sts(sandbox: Sandbox, key: tuple[str, str] | None = None, *, unsigned: bool = False) -> object:
    kwargs: dict[str, object] = {"region_name": "us-east-1", "endpoint_url": sandbox.endpoint_url}
    if unsigned:
        kwargs["config"] = Config(signature_version=UNSIGNED)
    else:
        kwargs["aws_access_key_id"], kwargs["aws_secret_access_key"] = key or ("testing", "testing")
    return boto3.client("sts", **kwargs)


def _refusal(call: object) -> dict[str, str]:
    with pytest.raises(ClientError) as caught:
        call()  # type: ignore[operator]
    return caught.value.response["Error"]


def test_external_id_must_match_the_trust_policy(sandbox: Sandbox) -> None:
    role = cross_account_role(sandbox)
    keys = user_keys(sandbox)
    sts = _sts(sandbox, keys)
    assumed = sts.assume_role(RoleArn=role, RoleSessionName="ci", ExternalId="corral-42")  # type: ignore[attr-defined]
    assert (
        assumed["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OTHER_ACCOUNT}:assumed-role/{role_name(role)}/ci"
    )
    wrong = _refusal(lambda: sts.assume_role(RoleArn=role, RoleSessionName="ci", ExternalId="guess"))  # type: ignore[attr-defined]
    assert wrong["Code"] == "AccessDenied"
    assert f"arn:aws:iam::{ACCOUNT}:user/deployer-" in wrong["Message"]
    assert "is not authorized to perform: sts:AssumeRole on resource" in wrong["Message"]
    missing = _refusal(lambda: sts.assume_role(RoleArn=role, RoleSessionName="ci"))  # type: ignore[attr-defined]
    assert missing["Code"] == "AccessDenied"


def test_a_principal_the_policy_does_not_name_is_refused(sandbox: Sandbox) -> None:
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ]
    }
    iam = sandbox.client("iam")
    role = iam.create_role(RoleName=unique("task-role"), AssumeRolePolicyDocument=json.dumps(policy))["Role"][
        "Arn"
    ]
    assert (
        _refusal(lambda: _sts(sandbox).assume_role(RoleArn=role, RoleSessionName="ci"))["Code"]
        == "AccessDenied"
    )  # type: ignore[attr-defined]


def test_an_unknown_role_is_assumable_as_in_moto(sandbox: Sandbox) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/nowhere"
    assert _sts(sandbox).assume_role(RoleArn=role, RoleSessionName="ci")["AssumedRoleUser"]  # type: ignore[attr-defined]


def test_web_identity_needs_the_provider_audience_subject_and_time(sandbox: Sandbox) -> None:
    role = web_identity_role(sandbox)
    sts = _sts(sandbox, unsigned=True)

    def assume(jwt: str) -> dict[str, object]:
        return sts.assume_role_with_web_identity(RoleArn=role, RoleSessionName="pod", WebIdentityToken=jwt)  # type: ignore[attr-defined,no-any-return]

    assert (
        assume(token())["AssumedRoleUser"]["Arn"]
        == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role_name(role)}/pod"
    )  # type: ignore[index]
    assert _refusal(lambda: assume(token(sub="system:serviceaccount:other:x")))["Code"] == "AccessDenied"
    assert _refusal(lambda: assume(token(aud="someone-else")))["Code"] == "InvalidIdentityToken"
    assert _refusal(lambda: assume(token(expires_in=-60)))["Code"] == "ExpiredTokenException"
    assert _refusal(lambda: assume("not-a-jwt"))["Code"] == "InvalidIdentityToken"
