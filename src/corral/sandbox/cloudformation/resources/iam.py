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
    in_place = frozenset(
        {"AssumeRolePolicyDocument", "ManagedPolicyArns", "Policies", "Description", "MaxSessionDuration"}
    )
    name_property = "RoleName"

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        name = str(ctx.physical_id)
        if new.get("AssumeRolePolicyDocument") != old.get("AssumeRolePolicyDocument"):
            ctx.call(
                "iam",
                "UpdateAssumeRolePolicy",
                RoleName=name,
                PolicyDocument=_document(new.get("AssumeRolePolicyDocument", {})),
            )
        if new.get("Description") != old.get("Description") or new.get("MaxSessionDuration") != old.get(
            "MaxSessionDuration"
        ):
            params = {k: new[k] for k in ("Description", "MaxSessionDuration") if k in new}
            ctx.call("iam", "UpdateRole", RoleName=name, **params)
        before, after = set(old.get("ManagedPolicyArns") or []), set(new.get("ManagedPolicyArns") or [])
        for arn in sorted(before - after):
            ctx.call("iam", "DetachRolePolicy", RoleName=name, PolicyArn=arn)
        for arn in sorted(after - before):
            ctx.call("iam", "AttachRolePolicy", RoleName=name, PolicyArn=arn)
        ctx.attributes["ManagedPolicyArns"] = sorted(after)
        kept = {p["PolicyName"] for p in new.get("Policies") or []}
        for policy in old.get("Policies") or []:
            if policy["PolicyName"] not in kept:
                ctx.call("iam", "DeleteRolePolicy", RoleName=name, PolicyName=policy["PolicyName"])
        for policy in new.get("Policies") or []:
            ctx.call(
                "iam",
                "PutRolePolicy",
                RoleName=name,
                PolicyName=policy["PolicyName"],
                PolicyDocument=_document(policy["PolicyDocument"]),
            )
        ctx.attributes["Policies"] = sorted(kept)

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
