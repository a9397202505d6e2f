"""The CloudFormation step types: Harness's CreateStack, DeleteStack and RollbackStack specs
mapped onto corral.provisioners.cloudformation, with clients from the step's AWS connector.

    register_cloudformation_steps()       # done by corral.wiring.register_step_types

- CreateStack journals, before it changes anything, its Provisioner Identifier, the stack's
  name, connector, region and the stack as it was (template, parameters, tags, capabilities;
  none when it is new). A re-run after a crash keeps the first attempt's record. Its outputs are
  the stack's outputs (`<+...steps.ID.output.OutputKey>`, and `<+provisioner.OutputKey>` in an
  infrastructure definition that names the Provisioner Identifier).
- RollbackStack puts back the stack the latest CreateStack of the stage with the same
  Provisioner Identifier changed: updated to what it was, or deleted when that step created it.
  When no such step ran it logs so and succeeds.
- DeleteStack deletes a stack named inline, or the one the stage's CreateStack with the same
  Provisioner Identifier made (`Inherited`). Harness also finds a stack made by another pipeline
  of the project by its Provisioner Identifier; Corral looks in the stage only.
- Templates: Inline (`templateBody`), Remote (the Harness file store or a Git/Github connector's
  repository) and S3URL (passed to CloudFormation as TemplateURL). Parameter files come from the
  same stores; `parameterOverrides` win over them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from corral.config.connections import aws_settings, git_remote
from corral.config.entities.connector import AwsConnector, GitConnector, GithubConnector
from corral.config.entities.stores import GitStore, HarnessStore
from corral.config.provisioner_specs import cloudformation_enum
from corral.config.settings import STATE_DIR
from corral.engine.steps import SUCCESS, StepOutcome, StepRun, register
from corral.errors import ConfigError, CorralError
from corral.manifests.file_store import FileStore
from corral.manifests.manifest_file import ManifestFile
from corral.provisioners import cloudformation as cfn
from corral.provisioners.cloudformation import StackBefore, StackPolling, StackRequest, StackStopped, Watch

CREATE_STACK = "CreateStack"
EXECUTION = "execution"

_polling = StackPolling()


def set_stack_polling(polling: StackPolling | None) -> None:
    """How often stacks are described while an operation runs (tests shorten it)."""
    global _polling
    _polling = polling or StackPolling()


@dataclass(frozen=True)
class CreatedStack:
    """What CreateStack journals (its checkpoint) before its first change; RollbackStack and
    DeleteStack of the stage find it by Provisioner Identifier."""

    provisioner: str
    stack_name: str
    connector_ref: str
    region: str
    role_arn: str | None
    before: StackBefore | None  # None: the stack did not exist

    def to_journal(self) -> dict[str, Any]:
        return {
            "provisionerIdentifier": self.provisioner,
            "stackName": self.stack_name,
            "connectorRef": self.connector_ref,
            "region": self.region,
            "roleArn": self.role_arn,
            "before": self.before,
        }

    @classmethod
    def from_journal(cls, data: Mapping[str, Any]) -> CreatedStack:
        return cls(
            provisioner=str(data["provisionerIdentifier"]),
            stack_name=str(data["stackName"]),
            connector_ref=str(data["connectorRef"]),
            region=str(data["region"]),
            role_arn=data.get("roleArn"),
            before=data.get("before"),  # as existing_stack answered it
        )


# ---------------------------------------------------------------- the step types


def run_create_stack(run: StepRun) -> StepOutcome:
    spec = run.spec
    config = _mapping(spec.get("configuration"), "spec.configuration")
    provisioner = _text(spec, "provisionerIdentifier", "spec")
    stack_name = _text(config, "stackName", "spec.configuration")
    connector_ref = _text(config, "connectorRef", "spec.configuration")
    region = _text(config, "region", "spec.configuration")
    request = StackRequest(
        stack_name=stack_name,
        parameters=_parameters(run, config),
        capabilities=_choices(config.get("capabilities"), "capabilities", "Capability"),
        tags=_tags(config.get("tags")),
        role_arn=str(config.get("roleArn") or "") or None,
        skip_on_statuses=tuple(
            _choices(config.get("skipOnStackStatuses"), "skipOnStackStatuses", "StackStatus")
        ),
    )
    _template(run, _mapping(config.get("templateFile"), "spec.configuration.templateFile"), request)
    client = _client(run, connector_ref, region)
    watch = _watch(run)
    previous = run.previous_checkpoint or {}
    run.log.section("Create Stack")
    if previous.get("provisionerIdentifier") == provisioner and previous.get("stackName") == stack_name:
        record = CreatedStack.from_journal(previous)  # a re-run: the first attempt saw the stack before
    else:
        record = CreatedStack(
            provisioner=provisioner,
            stack_name=stack_name,
            connector_ref=connector_ref,
            region=region,
            role_arn=request.role_arn,
            before=cfn.existing_stack(client, stack_name),
        )
    run.checkpoint(record.to_journal())
    try:
        done = cfn.create_or_update(client, request, watch)
    except StackStopped:
        return run.stopped_outcome()
    run.log.info(f"Stack {stack_name} is {done.status}; outputs: {', '.join(sorted(done.outputs)) or 'none'}")
    return StepOutcome(SUCCESS, dict(done.outputs), checkpoint=record.to_journal())


def run_rollback_stack(run: StepRun) -> StepOutcome:
    spec = run.spec
    configuration = given if isinstance(given := spec.get("configuration"), Mapping) else {}
    provisioner = str(configuration.get("provisionerIdentifier") or spec.get("provisionerIdentifier") or "")
    record = _created_by(run, provisioner)
    run.log.section("Rollback Stack")
    if record is None:
        run.log.info(
            f"No CreateStack with Provisioner Identifier {provisioner} ran in this stage: nothing to roll back"
        )
        return StepOutcome(SUCCESS, {"rollbackSkipped": True})
    client = _client(run, record.connector_ref, record.region)
    try:
        done = cfn.restore(client, record.stack_name, record.before, _watch(run))
    except StackStopped:
        return run.stopped_outcome()
    run.log.info(f"Stack {record.stack_name}: {done}")
    return StepOutcome(SUCCESS, {"rollbackSkipped": False, "stackName": record.stack_name, "result": done})


def run_delete_stack(run: StepRun) -> StepOutcome:
    spec = run.spec
    config = _mapping(spec.get("configuration"), "spec.configuration")
    inner = given if isinstance(given := config.get("spec"), Mapping) else {}
    run.log.section("Delete Stack")
    if config.get("type") == "Inline":
        stack_name = _text(inner, "stackName", "spec.configuration.spec")
        connector_ref = str(inner.get("connectorRef") or config.get("connectorRef") or "")
        region = _text(inner, "region", "spec.configuration.spec")
        role_arn = str(inner.get("roleArn") or "") or None
    else:
        provisioner = str(spec.get("provisionerIdentifier") or inner.get("provisionerIdentifier") or "")
        record = _created_by(run, provisioner)
        if record is None:
            raise CorralError(
                f"spec.provisionerIdentifier: no CreateStack step with Provisioner Identifier {provisioner} "
                "ran in this stage (Corral inherits the stack from the stage's own CreateStack step)"
            )
        stack_name, connector_ref, region = record.stack_name, record.connector_ref, record.region
        role_arn = record.role_arn
    client = _client(run, connector_ref, region)
    try:
        deleted = cfn.delete(client, stack_name, _watch(run), role_arn=role_arn)
    except StackStopped:
        return run.stopped_outcome()
    return StepOutcome(SUCCESS, {"stackName": stack_name, "deleted": deleted})


STEP_TYPES: dict[str, Callable[[StepRun], StepOutcome]] = {
    CREATE_STACK: run_create_stack,
    "DeleteStack": run_delete_stack,
    "RollbackStack": run_rollback_stack,
}


def register_cloudformation_steps() -> None:
    for type_name, impl in STEP_TYPES.items():
        register(type_name, impl)


# ---------------------------------------------------------------- pieces


def _created_by(run: StepRun, provisioner: str) -> CreatedStack | None:
    """The record of the stage's latest CreateStack with this Provisioner Identifier."""
    for step in reversed(run.prior_steps):
        record = step.checkpoint or {}
        if (
            step.type == CREATE_STACK
            and step.phase == EXECUTION
            and record.get("provisionerIdentifier") == provisioner
        ):
            return CreatedStack.from_journal(record)
    return None


def _watch(run: StepRun) -> Watch:
    return Watch(info=run.log.info, stopped=run.stopped, polling=_polling)


def _client(run: StepRun, connector_ref: str, region: str) -> Any:
    if run.project is None:
        raise CorralError(f"step {run.identifier} ({run.type}) needs the project's connectors")
    connector = run.project.connector(connector_ref)
    if not isinstance(connector, AwsConnector):
        raise CorralError(
            f"spec.configuration.connectorRef: {connector_ref} is not an AWS connector of the project"
        )
    secrets = run.secrets
    if secrets is None:
        from corral.config.secrets import SecretResolver

        secrets = SecretResolver(run.project)
    return cfn.client(aws_settings(connector, secrets, region=region).for_clients())


def _mapping(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CorralError(f"{path}: expected a mapping, got {value!r}")
    return value


def _text(data: Mapping[str, Any], name: str, at: str) -> str:
    value = data.get(name)
    if value is None or value == "" or isinstance(value, Mapping | list):
        raise CorralError(f"{at}.{name}: required text, got {value!r}")
    return str(value)


def _choices(value: Any, name: str, shape: str) -> list[str]:
    """A list field that may have been given as an expression (a list, or comma-separated text)."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else [v.strip() for v in str(value).split(",") if v.strip()]
    known = cloudformation_enum(shape)
    for item in items:
        if item not in known:
            raise CorralError(f"spec.configuration.{name}: expected one of {', '.join(known)}, got {item!r}")
    return [str(i) for i in items]


def _tags(value: Any) -> list[dict[str, str]]:
    """Harness's tags: {type: Inline, spec: {content: '[{"key": "k", "value": "v"}]'}} (JSON or YAML)."""
    if not value:
        return []
    content = (value.get("spec") or {}).get("content") if isinstance(value, Mapping) else None
    try:
        items = yaml.safe_load(content) if isinstance(content, str) else content
    except yaml.YAMLError as error:
        raise CorralError(f"spec.configuration.tags.spec.content: not JSON or YAML ({error})") from None
    if not isinstance(items, list) or not all(isinstance(i, Mapping) for i in items):
        raise CorralError(
            'spec.configuration.tags.spec.content: expected a list of {"key": ..., "value": ...}'
        )
    return [
        {"Key": str(i.get("key", i.get("Key"))), "Value": str(i.get("value", i.get("Value", "")))}
        for i in items
    ]


def _parameters(run: StepRun, config: Mapping[str, Any]) -> list[dict[str, str]]:
    """The parameter files' values in order, then parameterOverrides (by name)."""
    values: dict[str, str] = {}
    for index, item in enumerate(config.get("parameters") or []):
        at = f"spec.configuration.parameters[{index}]"
        for file in _store_files(run, _mapping(item, at).get("store"), f"{at}.store"):
            values.update(_parameter_file(file))
    for override in config.get("parameterOverrides") or []:
        if isinstance(override, Mapping) and override.get("name"):
            values[str(override["name"])] = "" if override.get("value") is None else str(override["value"])
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in values.items()]


def _parameter_file(file: ManifestFile) -> dict[str, str]:
    """A CloudFormation parameters file: [{"ParameterKey": ..., "ParameterValue": ...}]."""
    try:
        items = json.loads(file.text)
    except json.JSONDecodeError as error:
        raise CorralError(f"{file.source}: not a JSON parameters file ({error.msg})") from None
    if not isinstance(items, list) or not all(isinstance(i, Mapping) and "ParameterKey" in i for i in items):
        raise CorralError(f'{file.source}: expected [{{"ParameterKey": ..., "ParameterValue": ...}}]')
    return {str(i["ParameterKey"]): str(i.get("ParameterValue", "")) for i in items}


def _template(run: StepRun, template: Mapping[str, Any], request: StackRequest) -> None:
    kind = template.get("type")
    spec = given if isinstance(given := template.get("spec"), Mapping) else {}
    at = "spec.configuration.templateFile.spec"
    if kind == "Inline":
        request.template_body = _text(spec, "templateBody", at)
    elif kind in ("S3URL", "S3Url"):
        request.template_url = _text(spec, "templateUrl", at)
    elif kind == "Remote":
        files = _store_files(run, spec.get("store"), f"{at}.store")
        if len(files) != 1:
            raise CorralError(f"{at}.store: expected one template file, found {len(files)}")
        request.template_body = files[0].text
    else:
        raise CorralError(
            f"spec.configuration.templateFile.type: expected Inline, Remote or S3URL, got {kind!r}"
        )


_STORE: TypeAdapter[HarnessStore | GitStore] = TypeAdapter(HarnessStore | GitStore)


def _store_files(run: StepRun, raw: Any, at: str) -> list[ManifestFile]:
    """The files a Harness file store or Git store names."""
    assert run.project is not None
    try:
        store = _STORE.validate_python(raw)
    except ValidationError:
        raise CorralError(f"{at}: expected a Harness (file store) or Git/Github store") from None
    if isinstance(store, HarnessStore):
        return FileStore(run.project.files_root).fetch(store.spec.files)
    from corral.manifests.git_store import GitAuth
    from corral.manifests.git_store import GitStore as GitFetcher

    connector = run.project.connector(store.spec.connector_ref)
    if not isinstance(connector, GitConnector | GithubConnector):
        raise CorralError(
            f"{at}.spec.connectorRef: {store.spec.connector_ref} is not a Git or Github connector"
        )
    secrets = run.secrets
    if secrets is None:
        from corral.config.secrets import SecretResolver

        secrets = SecretResolver(run.project)
    try:
        remote = git_remote(run.project, connector, secrets, repo_name=store.spec.repo_name)
        git = GitFetcher(
            remote.url,
            branch=store.spec.branch if store.spec.git_fetch_type == "Branch" else None,
            commit=store.spec.commit_id if store.spec.git_fetch_type == "Commit" else None,
            auth=GitAuth(remote.username or "", remote.password) if remote.password else None,
            cache_dir=run.project.root / STATE_DIR / "git",
        )
        folder = store.spec.folder_path
        return git.fetch([f"{folder.rstrip('/')}/{p.lstrip('/')}" if folder else p for p in store.spec.paths])
    except ConfigError as error:
        raise CorralError(f"{at}: {error}") from None
