"""Identifiers and ARNs as ECS makes them."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from .exceptions import InvalidParameterException


def task_id() -> str:
    return uuid.uuid4().hex


def deployment_id() -> str:
    return "ecs-svc/" + str(secrets.randbelow(9 * 10**18) + 10**18)


def service_deployment_id() -> str:
    """The last part of a service deployment ARN: 20 letters, digits, `-` and `_` (as ECS shows them)."""
    return secrets.token_urlsafe(15)[:20]


def container_instance_id() -> str:
    return uuid.uuid4().hex


def ec2_instance_id() -> str:
    return "i-" + secrets.token_hex(9)[:17]


def eni_id() -> str:
    return "eni-" + secrets.token_hex(9)[:17]


def mac_address() -> str:
    return ":".join(f"{b:02x}" for b in secrets.token_bytes(6))


def new_uuid() -> str:
    return str(uuid.uuid4())


def short_name(reference: str) -> str:
    """`name` from a name or an ARN whose resource part ends in `/name`."""
    return reference.rsplit("/", 1)[-1] if reference.startswith("arn:") else reference


@dataclass(frozen=True)
class ParsedArn:
    region: str
    account: str
    kind: str  # cluster, service, task, task-definition, container-instance
    parts: tuple[str, ...]  # the resource path after the kind, split on "/"


def parse_arn(arn: str) -> ParsedArn:
    pieces = arn.split(":", 5)
    if len(pieces) != 6 or pieces[0] != "arn" or pieces[2] != "ecs" or "/" not in pieces[5]:
        raise InvalidParameterException(f"Invalid identifier: Unexpected ARN format: {arn}")
    kind, _, path = pieces[5].partition("/")
    return ParsedArn(region=pieces[3], account=pieces[4], kind=kind, parts=tuple(path.split("/")))
