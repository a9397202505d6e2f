"""The execution role check CreateFunction makes: Lambda must be able to assume the role.

"Lambda execution role" (https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html):
the role's trust policy allows the `lambda.amazonaws.com` service principal `sts:AssumeRole`;
otherwise CreateFunction answers InvalidParameterValueException "The role defined for the function
cannot be assumed by Lambda." A role the sandbox's IAM (moto) does not know is accepted, as the
sandbox's STS treats unknown roles, so tests need not create every role they name.
"""

from __future__ import annotations

import json
import sys
import urllib.parse
from typing import Any

from .exceptions import InvalidParameterValueException

LAMBDA_PRINCIPAL = "lambda.amazonaws.com"


def check_assumable(account_id: str, role_arn: str) -> None:
    document = _trust_policy(account_id, role_arn)
    if document is None:
        return
    if not any(_allows_lambda(statement) for statement in _listed(document.get("Statement", []))):
        raise InvalidParameterValueException("The role defined for the function cannot be assumed by Lambda.")


def _trust_policy(account_id: str, role_arn: str) -> dict[str, Any] | None:
    models = sys.modules.get("moto.iam.models")
    if models is None:  # nobody called IAM in this process: no role exists
        return None
    try:
        role = models.iam_backends[account_id]["aws"].get_role_by_arn(role_arn)
    except Exception:  # moto's IAMNotFoundException: a role the sandbox does not know
        return None
    document = role.assume_role_policy_document
    if isinstance(document, dict):
        return document
    try:
        text = urllib.parse.unquote(document) if str(document).startswith("%") else str(document)
        parsed = json.loads(text)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def _allows_lambda(statement: Any) -> bool:
    if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
        return False
    actions = [str(a).lower() for a in _listed(statement.get("Action", []))]
    if not any(a in ("sts:assumerole", "sts:*", "*") for a in actions):
        return False
    principal = statement.get("Principal")
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return any(p in (LAMBDA_PRINCIPAL, "*") for p in _listed(principal.get("Service", [])))


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
