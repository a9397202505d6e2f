"""AWS::Logs::LogGroup in the sandbox's CloudWatch Logs (moto). Ref is the name; GetAtt Arn."""

from __future__ import annotations

from typing import Any

from .base import ResourceContext, ResourceType


class LogGroup(ResourceType):
    type_name = "AWS::Logs::LogGroup"
    attributes = frozenset({"Arn"})
    in_place = frozenset({"RetentionInDays"})
    name_property = "LogGroupName"

    def update(self, ctx: ResourceContext, old: dict[str, Any], new: dict[str, Any]) -> None:
        name = str(ctx.physical_id)
        if "RetentionInDays" in new:
            ctx.call("logs", "PutRetentionPolicy", logGroupName=name, retentionInDays=new["RetentionInDays"])
        else:
            ctx.call("logs", "DeleteRetentionPolicy", logGroupName=name)

    def create(self, ctx: ResourceContext, properties: dict[str, Any]) -> None:
        name = properties.get("LogGroupName") or ctx.physical_name(512)
        tags = {t["Key"]: t["Value"] for t in ctx.user_tags(properties)}
        params: dict[str, Any] = {"logGroupName": name}
        if tags:
            params["tags"] = tags
        if "KmsKeyId" in properties:
            params["kmsKeyId"] = properties["KmsKeyId"]
        ctx.call("logs", "CreateLogGroup", **params)
        ctx.physical_id = name
        if "RetentionInDays" in properties:
            ctx.call(
                "logs", "PutRetentionPolicy", logGroupName=name, retentionInDays=properties["RetentionInDays"]
            )
        # "Return values" of AWS::Logs::LogGroup: the Arn ends in :*
        ctx.attributes["Arn"] = f"arn:aws:logs:{ctx.region}:{ctx.account_id}:log-group:{name}:*"

    def delete(self, ctx: ResourceContext, physical_id: str, attributes: dict[str, Any]) -> None:
        ctx.delete_call("logs", "DeleteLogGroup", logGroupName=physical_id)


TYPES: list[type[ResourceType]] = [LogGroup]
