"""AWS::IAM::Role in the sandbox's IAM (moto). Ref is the role name; GetAtt Arn, RoleId."""

from __future__ import annotations

import json
from typing import Any

from .base import ResourceContext, ResourceType


def _document(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


class Role(ResourceType):
    type_name = "AWS::IAM::Role"
    attributes = frozenset({"Arn", "RoleId"})
    settle_seconds = 2.0

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        name = properties.get("RoleName") or ctx.physical_name(64)
        params: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": _document(properties.get("AssumeRolePolicyDocument", {})),
            "Tags": ctx.user_tags(properties),
        }
        for key in ("Path", "Description", "MaxSessionDuration", "PermissionsBoundary"):
            if key in properties:
                params[key] = properties[key]
        if not params["Tags"]:
            del params["Tags"]
        role = ctx.call("iam", "CreateRole", **params)["Role"]
        ctx.physical_id = name
        ctx.attributes.update(Arn=role["Arn"], RoleId=role["RoleId"], Policies=[], ManagedPolicyArns=[])
        for arn in properties.get("ManagedPolicyArns") or []:
            ctx.call("iam", "AttachRolePolicy", RoleName=name, PolicyArn=arn)
            ctx.attributes["ManagedPolicyArns"].append(arn)
        for policy in properties.get("Policies") or []:
            ctx.call(
                "iam",
                "PutRolePolicy",
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=_document(policy["PolicyDocument"]),
            )
            ctx.attributes["Policies"].append(policy["PolicyName"])

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        for arn in attributes.get("ManagedPolicyArns", []):
            ctx.delete_call("iam", "DetachRolePolicy", RoleName=physical_id, PolicyArn=arn)
        for name in attributes.get("Policies", []):
            ctx.delete_call("iam", "DeleteRolePolicy", RoleName=physical_id, PolicyName=name)
        ctx.delete_call("iam", "DeleteRole", RoleName=physical_id)


TYPES: list[type[ResourceType]] = [Role]
