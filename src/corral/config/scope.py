"""The scope built-ins: what <+account.*>, <+org.*> and <+project.*> read, from corral.yaml.

    <+account.identifier>  project.account.identifier      default: corral
    <+account.name>        project.account.name            default: Corral
    <+account.companyName> project.account.companyName     default: the account's name
    <+org.identifier>      project.org.identifier          default: project.orgIdentifier, else default
    <+org.name>            project.org.name                default: the org's identifier
    <+org.description>     project.org.description         default: ""
    <+project.identifier>  project.identifier              default: project.name made an identifier
    <+project.name>        project.name                    default: corral
    <+project.description> project.description             default: ""
    <+project.tags>        project.tags                    default: {}

A Corral project is one Harness project: every entity, pipeline and manifest of it reads
the same values (Harness's "default" organization is named default too).
"""

from __future__ import annotations

import re
from typing import Any

from .settings import ProjectSettings

SCOPE_ROOTS = ("account", "org", "project")
_NOT_IDENTIFIER = re.compile(r"[^A-Za-z0-9_$]")


def scope_values(settings: ProjectSettings) -> dict[str, Any]:
    body = settings.project
    account, org = body.account, body.org
    org_identifier = org.identifier or body.org_identifier or "default"
    return {
        "account": {
            "identifier": account.identifier,
            "name": account.name,
            "companyName": account.company_name if account.company_name is not None else account.name,
        },
        "org": {
            "identifier": org_identifier,
            "name": org.name if org.name is not None else org_identifier,
            "description": org.description,
        },
        "project": {
            "identifier": body.identifier or identifier_from(body.name),
            "name": body.name,
            "description": body.description or "",
            "tags": dict(body.tags),
        },
    }


def identifier_from(name: str) -> str:
    """A Harness identifier made from a name, as Harness's UI suggests one: every character
    an identifier cannot hold becomes `_`, one starting with a digit gets a `_` first, and at
    most 128 characters are kept."""
    text = _NOT_IDENTIFIER.sub("_", name.strip()) or "corral"
    return (f"_{text}" if text[0].isdigit() else text)[:128]
