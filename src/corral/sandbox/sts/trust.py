"""A role's trust policy, checked before moto answers AssumeRole or AssumeRoleWithWebIdentity.

moto lets anyone assume any role. AWS evaluates the role's trust policy (its
AssumeRolePolicyDocument): a request is allowed only if a statement allows the action for the
caller with every condition met, and no statement denies it
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_create_for-user.html). What the sandbox
evaluates:

- Action: `sts:AssumeRole` / `sts:AssumeRoleWithWebIdentity` (or `sts:*`, `*`).
- Principal: `*`; `{"AWS": ...}` as an account id, `arn:aws:iam::ACCOUNT:root`, or the caller's
  user or role ARN; `{"Federated": "arn:aws:iam::ACCOUNT:oidc-provider/HOST/PATH"}` for the
  issuer of a web identity token.
- Condition: StringEquals, StringNotEquals, StringLike, StringNotLike (and their IfExists
  forms) on `sts:ExternalId` (the external id of a cross-account role, which AWS documents as a
  StringEquals condition in the trust policy:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_common-scenarios_third-party.html)
  and on `HOST/PATH:aud` / `HOST/PATH:sub` of a web identity token
  (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif).
  Another operator makes the statement not apply (the refusal names it).
- A web identity token must be a JWT whose issuer has an OIDC provider in the role's account,
  with an audience in that provider's client ids, and not expired; otherwise InvalidIdentityToken
  or ExpiredTokenException, as AssumeRoleWithWebIdentity documents
  (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html). The
  token's signature is not checked: that would need the issuer's keys from the internet.

A role the sandbox's IAM does not know is assumable by anyone, as in moto, so tests need not
create every role they name.
"""

from __future__ import annotations

import base64
import json
import re
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from ..core.errors import AwsError

CHECKED = frozenset({"AssumeRole", "AssumeRoleWithWebIdentity"})
ACCESS_KEY = re.compile(r"Credential=([^/]+)/")
ROLE_ARN = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/")
STRING_OPERATORS = {
    "StringEquals": (False, False),
    "StringLike": (True, False),
    "StringNotEquals": (False, True),
    "StringNotLike": (True, True),
}


class AccessDenied(AwsError):
    code = "AccessDenied"
    status = 403


class InvalidIdentityToken(AwsError):
    code = "InvalidIdentityToken"


class ExpiredToken(AwsError):
    code = "ExpiredTokenException"


@dataclass
class Request:
    """What the trust policy is matched against."""

    action: str  # sts:AssumeRole, sts:AssumeRoleWithWebIdentity
    role_arn: str
    caller: str  # for the refusal message
    aws_principals: set[str] = field(default_factory=set)  # what an "AWS" principal may name
    federated: str | None = None  # the OIDC provider ARN of a web identity token
    keys: dict[str, list[str]] = field(default_factory=dict)  # condition keys


def check(operation: str, body: bytes, authorization: str) -> None:
    """Raise the error AWS would answer with if the role's trust policy refuses the request."""
    params = {k: v[0] for k, v in urllib.parse.parse_qs(body.decode(errors="replace")).items()}
    role_arn = params.get("RoleArn", "")
    match = ROLE_ARN.match(role_arn)
    if match is None:
        return
    account = match.group(1)
    role = _role(account, role_arn)
    if role is None:
        return
    if operation == "AssumeRole":
        request = _caller_request(role_arn, params, authorization)
    else:
        request = _web_identity_request(account, role_arn, params.get("WebIdentityToken", ""))
    refusal = evaluate(_policy(role.assume_role_policy_document), request)
    if refusal is not None:
        raise AccessDenied(
            f"User: {request.caller} is not authorized to perform: {request.action} on resource: "
            f"{role_arn}{refusal}"
        )


def evaluate(policy: dict[str, Any], request: Request) -> str | None:
    """None when the policy allows the request, else why not (`""` or `" (...)"`)."""
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else statements
    allowed = False
    unsupported: list[str] = []
    for statement in statements:
        if not _action_matches(statement.get("Action"), request.action):
            continue
        if not _principal_matches(statement.get("Principal"), request):
            continue
        met, skipped = _conditions_met(statement.get("Condition") or {}, request.keys)
        unsupported += skipped
        if not met:
            continue
        if statement.get("Effect") == "Deny":
            return " with an explicit deny in the role's trust policy"
        allowed = allowed or statement.get("Effect") == "Allow"
    if allowed:
        return None
    if unsupported:
        return f" (the sandbox does not evaluate condition operator {', '.join(sorted(set(unsupported)))})"
    return ""


def _role(account: str, role_arn: str) -> Any:
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account]["aws"].get_role_by_arn(role_arn)
    except Exception:  # moto's IAMNotFoundException: a role the sandbox does not know
        return None


def _policy(document: Any) -> dict[str, Any]:
    if isinstance(document, dict):
        return document
    try:
        parsed = json.loads(urllib.parse.unquote(document) if document.startswith("%") else document)
    except (ValueError, AttributeError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _caller_request(role_arn: str, params: dict[str, str], authorization: str) -> Request:
    from moto.iam.models import get_account_id_from, iam_backends
    from moto.sts.models import sts_backends

    match = ACCESS_KEY.search(authorization)
    key = match.group(1) if match else ""
    account = get_account_id_from(key)
    principals = {account, f"arn:aws:iam::{account}:root"}
    caller = f"arn:aws:iam::{account}:user/moto"
    user = iam_backends[account]["aws"].get_user_from_access_key_id(key)
    if user is not None:
        caller = user.arn
        principals.add(user.arn)
    assumed = sts_backends[account]["aws"].get_assumed_role_from_access_key(key)
    if assumed is not None:
        caller = assumed.arn
        principals.update({assumed.role_arn, assumed.arn})
    keys = {"sts:ExternalId": [params["ExternalId"]]} if "ExternalId" in params else {}
    return Request("sts:AssumeRole", role_arn, caller, principals, keys=keys)


def _web_identity_request(account: str, role_arn: str, token: str) -> Request:
    claims = _claims(token)
    issuer = str(claims.get("iss", ""))
    provider_url = re.sub(r"^https://", "", issuer).rstrip("/")
    provider_arn = f"arn:aws:iam::{account}:oidc-provider/{provider_url}"
    provider = _provider(account, provider_arn)
    if provider is None:
        raise InvalidIdentityToken(f"No OpenIDConnect provider found in your account for {issuer}")
    audiences = claims.get("aud", [])
    audiences = [audiences] if isinstance(audiences, str) else [str(a) for a in audiences]
    if not set(audiences) & set(provider.client_id_list or []):
        raise InvalidIdentityToken("Incorrect token audience")
    expires = claims.get("exp")
    if isinstance(expires, int | float) and expires < time.time():
        raise ExpiredToken("Token expired: current date/time is past the token's exp")
    keys = {f"{provider_url}:aud": audiences, f"{provider_url}:sub": [str(claims.get("sub", ""))]}
    caller = f"{provider_arn} (sub {claims.get('sub', '')})"
    return Request("sts:AssumeRoleWithWebIdentity", role_arn, caller, federated=provider_arn, keys=keys)


def _claims(token: str) -> dict[str, Any]:
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise InvalidIdentityToken("The web identity token is not a JWT (header.payload.signature)")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        raise InvalidIdentityToken("The web identity token's payload is not base64url JSON") from None
    if not isinstance(payload, dict):
        raise InvalidIdentityToken("The web identity token's payload is not a JSON object")
    return payload


def _provider(account: str, arn: str) -> Any:
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account]["aws"].get_open_id_connect_provider(arn)
    except Exception:  # moto's not-found error
        return None


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _action_matches(actions: Any, action: str) -> bool:
    return any(_matches(action.lower(), str(a).lower(), like=True) for a in _listed(actions or []))


def _principal_matches(principal: Any, request: Request) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    if request.federated is not None:
        return request.federated in _listed(principal.get("Federated", []))
    return any(p == "*" or p in request.aws_principals for p in _listed(principal.get("AWS", [])))


def _conditions_met(conditions: dict[str, Any], keys: dict[str, list[str]]) -> tuple[bool, list[str]]:
    """(all conditions hold, operators the sandbox does not evaluate)."""
    for operator, tests in conditions.items():
        base = operator.removesuffix("IfExists")
        if base not in STRING_OPERATORS or not isinstance(tests, dict):
            return False, [operator]
        like, negated = STRING_OPERATORS[base]
        for key, expected in tests.items():
            values = keys.get(key)
            if values is None:
                if operator.endswith("IfExists") or negated:
                    continue
                return False, []
            patterns = [str(e) for e in _listed(expected)]
            hit = any(_matches(v, p, like) for v in values for p in patterns)
            if hit == negated:
                return False, []
    return True, []


def _matches(value: str, pattern: str, like: bool) -> bool:
    if not like:
        return value == pattern
    # StringLike knows two wildcards only: * (any run) and ? (one character)
    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None
