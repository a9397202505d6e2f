"""CloudFormation's per-account, per-Region state: stacks (deleted ones kept, as AWS lists them) and exports."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.exceptions import ClientError

from ..core.world import Backend as BaseBackend
from . import template as templates
from . import template_text, updates
from .exceptions import AlreadyExistsException, ValidationError
from .resources import TYPES
from .resources.base import VIA
from .stacks import Stack

STACK_NAME = re.compile(r"^[a-zA-Z][-a-zA-Z0-9]{0,127}$")
MAX_BODY_BYTES = 51_200  # TemplateBody's limit (CreateStack API reference)
MAX_URL_BODY_BYTES = 1_000_000  # TemplateURL's limit


class Backend(BaseBackend):
    service = "cloudformation"

    def __init__(self, region: Any) -> None:
        super().__init__(region)
        self.stacks: list[Stack] = []
        self.exports: dict[str, tuple[str, str]] = {}  # name -> (exporting stack id, value)

    # ------------------------------------------------------------------ lookup

    def find(self, name_or_id: str) -> Stack | None:
        """By name: the stack not deleted; by stack ID: any, deleted ones too (as AWS answers)."""
        if name_or_id.startswith("arn:"):
            return next((s for s in self.stacks if s.stack_id == name_or_id), None)
        return next((s for s in self.stacks if s.name == name_or_id and not s.is_deleted), None)

    def get(self, name_or_id: str) -> Stack:
        stack = self.find(name_or_id)
        if stack is None:
            raise ValidationError(f"Stack with id {name_or_id} does not exist")
        return stack

    # ------------------------------------------------------------------ templates

    def template_body(self, params: dict[str, Any]) -> str:
        body, url = params.get("TemplateBody"), params.get("TemplateURL")
        if (body is None) == (url is None):
            raise ValidationError("Either Template URL or Template Body must be specified.")
        if body is not None:
            if len(body.encode()) > MAX_BODY_BYTES:
                raise ValidationError(
                    "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: "
                    f"Member must have length less than or equal to {MAX_BODY_BYTES}"
                )
            return str(body)
        return self._fetch_template(str(url))

    def _fetch_template(self, url: str) -> str:
        """A template in the sandbox's S3, at a virtual-hosted or path-style S3 URL."""
        parts = urlsplit(url)
        host, path = parts.netloc, unquote(parts.path.lstrip("/"))
        virtual = re.match(r"^(.+)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com$", host)
        if virtual:
            bucket, key = virtual.group(1), path
        elif re.match(r"^s3[.-]([a-z0-9-]+\.)?amazonaws\.com$", host):
            bucket, _, key = path.partition("/")
        else:
            raise ValidationError("TemplateURL must be a supported URL.")
        client = self.world.aws_client(VIA, "s3", self.region_name)
        try:
            body: bytes = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            raise ValidationError(f"S3 error: Access Denied or the object does not exist: {url}") from exc
        if len(body) > MAX_URL_BODY_BYTES:
            raise ValidationError("Template may not exceed 1000000 bytes in size.")
        return body.decode()

    def load_template(self, body: str) -> templates.Template:
        template = templates.load(template_text.parse(body))
        _check_get_atts(template)
        return template

    # ------------------------------------------------------------------ create

    def create_stack(self, params: dict[str, Any]) -> Stack:
        name = params["StackName"]
        if not STACK_NAME.match(name):
            raise ValidationError(
                f"1 validation error detected: Value '{name}' at 'stackName' failed to satisfy constraint: "
                "Member must satisfy regular expression pattern: [a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*"
            )
        existing = self.find(name)
        if existing is not None:
            if existing.seen(params.get("ClientRequestToken"), "CreateStack"):
                return existing  # the same request again: a retry after a lost answer
            raise AlreadyExistsException(f"Stack [{name}] already exists")
        if params.get("DisableRollback") and params.get("OnFailure"):
            raise ValidationError("You cannot specify both DisableRollback and OnFailure.")
        body = self.template_body(params)
        template = self.load_template(body)
        values = templates.resolve_parameters(template, params.get("Parameters") or [])
        capabilities = list(params.get("Capabilities") or [])
        template.check_capabilities(capabilities)
        on_failure = params.get("OnFailure") or (
            "DO_NOTHING" if params.get("DisableRollback") else "ROLLBACK"
        )
        stack = Stack(
            self,
            name=name,
            template_body=body,
            template=template,
            parameters=values,
            capabilities=capabilities,
            tags=[{"Key": t["Key"], "Value": t["Value"]} for t in params.get("Tags") or []],
            role_arn=params.get("RoleARN"),
            on_failure=on_failure,
            timeout_minutes=params.get("TimeoutInMinutes"),
            notification_arns=list(params.get("NotificationARNs") or []),
            termination_protection=bool(params.get("EnableTerminationProtection", False)),
            token=params.get("ClientRequestToken"),
        )
        self.stacks.append(stack)
        stack.start_create()
        return stack

    def update_stack(self, params: dict[str, Any]) -> Stack:
        stack = self.get(params["StackName"])
        if stack.seen(params.get("ClientRequestToken"), "UpdateStack"):
            return stack  # a retry of an update already under way or done
        if params.get("UsePreviousTemplate"):
            if params.get("TemplateBody") or params.get("TemplateURL"):
                raise ValidationError(
                    "You cannot specify both usePreviousTemplate and Template Body/Template URL."
                )
            body = stack.template_body
        else:
            body = self.template_body(params)
        template = self.load_template(body)
        given = []
        for item in params.get("Parameters") or []:
            if item.get("UsePreviousValue"):
                key = item["ParameterKey"]
                if key not in stack.parameters:
                    raise ValidationError(
                        f"Invalid input for parameter key {key}. Cannot specify usePreviousValue as true for a parameter key not in the previous template"
                    )
                given.append({"ParameterKey": key, "ParameterValue": stack.parameters[key]})
            else:
                given.append(item)
        values = templates.resolve_parameters(template, given)
        capabilities = list(params.get("Capabilities") or [])
        template.check_capabilities(capabilities)
        tags = params.get("Tags")
        updates.start_update(
            stack,
            template=template,
            template_body=body,
            parameters=values,
            capabilities=capabilities,
            tags=None if tags is None else [{"Key": t["Key"], "Value": t["Value"]} for t in tags],
            role_arn=params.get("RoleARN"),
            disable_rollback=bool(params.get("DisableRollback", False)),
            token=params.get("ClientRequestToken"),
        )
        return stack

    # ------------------------------------------------------------------ exports

    def export_value(self, name: str) -> str | None:
        found = self.exports.get(name)
        return found[1] if found else None

    def claim_exports(
        self, stack: Stack, outputs: list[dict[str, Any]], replacing: list[str] | None = None
    ) -> None:
        """Record the stack's exports; an update may not drop or change an export another stack imports."""
        exported = {o["ExportName"]: o["OutputValue"] for o in outputs if "ExportName" in o}
        for name in exported:
            holder = self.exports.get(name)
            if holder is not None and holder[0] != stack.stack_id:
                raise ValidationError(
                    f"Export with name {name} is already exported by stack {_name(holder[0])}"
                )
        for name in replacing or []:
            users = self.imports_of(name, besides=stack)
            if users and name not in exported:
                raise ValidationError(f"Cannot delete export {name} as it is in use by {users[0]}")
            if users and exported[name] != self.export_value(name):
                raise ValidationError(f"Cannot update export {name} as it is in use by {users[0]}")
        self.release_exports(stack)
        for name, value in exported.items():
            self.exports[name] = (stack.stack_id, value)

    def release_exports(self, stack: Stack) -> None:
        self.exports = {k: v for k, v in self.exports.items() if v[0] != stack.stack_id}

    def importers_of(self, stack: Stack) -> list[tuple[str, str]]:
        """(export name, importing stack name) for this stack's exports other live stacks import."""
        found = []
        for name in stack.exports:
            for other in self.stacks:
                if other is not stack and not other.is_deleted and name in other.imports:
                    found.append((name, other.name))
        return found

    def imports_of(self, export_name: str, besides: Stack | None = None) -> list[str]:
        return [
            s.name for s in self.stacks if s is not besides and not s.is_deleted and export_name in s.imports
        ]


def _name(stack_id: str) -> str:
    return stack_id.split("/")[1] if "/" in stack_id else stack_id


def _check_get_atts(template: templates.Template) -> None:
    """Fn::GetAtt of an attribute the resource type does not have fails validation, as on AWS."""

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if len(value) == 1 and "Fn::GetAtt" in value:
                arg = value["Fn::GetAtt"]
                if isinstance(arg, str):
                    arg = arg.split(".", 1)
                if isinstance(arg, list) and len(arg) == 2 and all(isinstance(a, str) for a in arg):
                    resource, attribute = arg
                    spec = template.resources.get(resource)
                    if spec is None:
                        raise ValidationError(
                            f"Template error: instance of Fn::GetAtt references undefined resource {resource}"
                        )
                    handler = TYPES.get(spec["Type"])
                    if handler is not None and attribute not in handler.attributes:
                        raise ValidationError(
                            f"Template error: resource {resource} does not support attribute type "
                            f"{attribute} in Fn::GetAtt"
                        )
                return
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk({name: spec.get("Properties") for name, spec in template.resources.items()})
    walk(template.body.get("Outputs") or {})
