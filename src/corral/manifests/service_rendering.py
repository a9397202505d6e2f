"""Render one service for one environment and infrastructure into ECS requests.

    render_service(project, "web", "prod", "ecs_prod", inputs={"tag": "1.25"})

reads top to bottom as a deploy step would: apply runtime inputs to the entities, apply
overrides (service < environment < infrastructure < runtime), build what expressions can
see (artifact, variables, env, infra, FirstGen placeholders), fetch each manifest from its
store, render expressions into its text and parse it (manifests/text_rendering.py), render
what was left for after parsing (runtime inputs, secrets kept as references), validate it against its AWS request shape, convert it to the request
(API member names), force what the infrastructure decides (cluster, launch type, network
configuration, execution role) and check the ECS rules across the task and service
definitions. Every problem is collected; ConfigError lists them all.

One function for every caller: `corral validate`, `render`, `plan` and the check before a run
give stand-ins (RenderOptions.satisfiable, defer_lookups, a secret stand-in); a stage that
starts renders for real, once (wiring/stage_targets.py: registry lookups, secret_references), and
journals `RenderedService.to_journal()`; its steps read `from_journal` + `with_secrets`.

Expressions that only a running pipeline can answer (`<+pipeline.*>`, `<+stage.*>`,
`<+execution.*>`, ...) and `<+targetGroupArn>` (the Blue Green step fills it) stay as
written.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

from pydantic import ValidationError

from corral.config.entities.common import Document, Entity, is_expression, is_runtime_input
from corral.config.entities.environment import Environment
from corral.config.entities.infrastructure import InfrastructureDefinition
from corral.config.entities.service import SINGLE_MANIFEST_TYPES, Service
from corral.config.entities.stores import InlineStore
from corral.config.input_listing import InputLine, entity_input_lines
from corral.config.overrides import EffectiveService, Placed, effective_service
from corral.config.problems import problems_from_validation, split_path
from corral.config.project import Project
from corral.config.provisioned_infrastructure import provisioned_infrastructure
from corral.config.runtime_inputs import LATER, InputTable
from corral.config.scope import scope_values
from corral.config.secrets import SecretProblem, SecretResolver, missing_value_cause, referenced_ids
from corral.errors import ConfigError, CorralError, ExpressionError, Problem, format_path
from corral.expressions import ExpressionContext, Mode, container_name, render
from corral.expressions.aliases import with_aliases
from corral.expressions.firstgen import MISSING, lookup, substitute_text, without_registry
from corral.manifests import (
    ManifestFile,
    ManifestKind,
    check_ecs_rules,
    to_api,
    unwrap_pasted,
)
from corral.manifests.text_rendering import KEEP as TEXT_KEEP
from corral.manifests.text_rendering import RenderedText, explain_parse_error, render_text
from corral.manifests.validation import shape_check

from .fetching import RemoteSkipped, fetch_manifest_files
from .text_parsing import parse_manifest_text

# roots of expressions only a running pipeline can answer: kept as written until then
RUNTIME_ROOTS = frozenset(
    {"pipeline", "stage", "stages", "step", "steps", "execution", "trigger", "strategy"}
)
# also kept: <+targetGroupArn>, which manifest validation allows only where it belongs
KEPT = RUNTIME_ROOTS | {"targetGroupArn"}
_ROOT = re.compile(r"<\+\s*([A-Za-z_][A-Za-z0-9_]*)")
SECRET_STAND_IN = "<secret>"
_E = TypeVar("_E", bound=Entity)  # a service, environment or infrastructure, given its inputs


def _locator(entity: Entity) -> Callable[[str], str]:
    """Where a path of the entity's YAML is (file:line), for input problems."""
    return lambda path: entity.where(split_path(path))


@dataclass
class RenderedManifest:
    """One manifest as the AWS request it becomes, and the file it came from."""

    kind: str
    identifier: str
    source: str
    request: dict[str, Any]

    def request_text(self) -> str:
        """Every string of the request, one a line (to find the secrets it names)."""
        found: list[str] = []
        stack: list[Any] = [self.request]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict):
                stack += [*item.keys(), *item.values()]
            elif isinstance(item, list):
                stack += item
        return "\n".join(found)


@dataclass
class RenderedService:
    service: str
    environment: str
    infrastructure: str
    cluster: str
    region: str
    connector_ref: str
    image: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    artifact: dict[str, Any] = field(default_factory=dict)  # what <+artifacts.primary.*> reads
    task_definition: RenderedManifest | None = None
    task_definition_arn: str | None = None
    service_definition: RenderedManifest | None = None
    scalable_targets: list[RenderedManifest] = field(default_factory=list)
    scaling_policies: list[RenderedManifest] = field(default_factory=list)
    scheduled_actions: list[RenderedManifest] = field(default_factory=list)
    run_task_request: RenderedManifest | None = None
    used_secrets: set[str] = field(default_factory=set, repr=False)
    # unknown manifest fields (not sent to AWS) and the info lines of pasted describe output
    warnings: list[Problem] = field(default_factory=list, repr=False)
    notes: list[Problem] = field(default_factory=list, repr=False)
    # what set each variable, manifest and config file (service or which override), for render
    set_by: dict[str, str] = field(default_factory=dict)

    def notices(self) -> list[str]:
        """The info and warning lines to show beside the rendered requests, info first."""
        return [f"info: {n}" for n in self.notes] + [f"warning: {w}" for w in self.warnings]

    def manifests(self) -> list[RenderedManifest]:
        singles = [self.task_definition, self.service_definition]
        found = [m for m in singles if m is not None] + self.scalable_targets + self.scaling_policies
        found += self.scheduled_actions
        return found + ([self.run_task_request] if self.run_task_request else [])

    def to_dict(self) -> dict[str, Any]:
        """A plain summary for printing: context, then each request with its source."""

        def one(m: RenderedManifest | None) -> dict[str, Any] | None:
            return None if m is None else {"source": m.source, "request": m.request}

        out: dict[str, Any] = {
            "service": self.service,
            "environment": self.environment,
            "infrastructure": self.infrastructure,
            "cluster": self.cluster,
            "region": self.region,
            "image": self.image,
            "taskDefinition": one(self.task_definition),
            "serviceDefinition": one(self.service_definition),
            "scalableTargets": [one(m) for m in self.scalable_targets],
            "scalingPolicies": [one(m) for m in self.scaling_policies],
            "scheduledActions": [one(m) for m in self.scheduled_actions],
            "runTaskRequest": one(self.run_task_request),
        }
        if self.task_definition_arn:
            out["taskDefinitionArn"] = self.task_definition_arn
        return {k: v for k, v in out.items() if v not in (None, [])}

    def to_journal(self) -> dict[str, Any]:
        """Everything the stage's steps read, as plain JSON data for the journal. Rendered for a
        run with `secret_references`, it holds `<+secrets.getValue("id")>` where a secret goes,
        never a secret's value (`with_secrets` fills them in when a step runs)."""
        data = {
            "service": self.service,
            "environment": self.environment,
            "infrastructure": self.infrastructure,
            "cluster": self.cluster,
            "region": self.region,
            "connectorRef": self.connector_ref,
            "image": self.image,
            "variables": self.variables,
            "taskDefinitionArn": self.task_definition_arn,
            "manifests": [asdict(m) for m in self.manifests()],
            # each ECS step logs them, as it did when it rendered the service itself
            "warnings": [asdict(w) for w in self.warnings],
            "notes": [asdict(n) for n in self.notes],
        }
        plain: dict[str, Any] = json.loads(json.dumps(data))  # marked text becomes plain text
        return plain

    @classmethod
    def from_journal(cls, data: Mapping[str, Any]) -> RenderedService:
        rendered = cls(
            service=data["service"],
            environment=data["environment"],
            infrastructure=data["infrastructure"],
            cluster=data["cluster"],
            region=data["region"],
            connector_ref=data["connectorRef"],
            image=data.get("image"),
            variables=dict(data.get("variables") or {}),
            task_definition_arn=data.get("taskDefinitionArn"),
            warnings=[Problem(**w) for w in data.get("warnings") or []],
            notes=[Problem(**n) for n in data.get("notes") or []],
        )
        for manifest in data.get("manifests") or []:
            _place(rendered, RenderedManifest(**manifest))
        return rendered


@dataclass
class RenderOptions:
    """satisfiable: validation mode (validate, plan), where a runtime input without a value is
    fine and secret values are not read (only their existence is checked). Such an input gets
    a stand-in: its default, else its first allowed value, else (in a manifest) plain text or a
    value of the field's type, so everything around it is validated; nothing is reported about
    the field itself, and the rendered request shows `<+input>` there again."""

    satisfiable: bool = False
    offline: bool = False
    secrets: Callable[[str], str] | None = None
    # ask registries (a tagRegex's newest tag, `digest: resolve`, an Ecr account); off, a
    # source that needs a lookup is a problem (validation: LATER stands in)
    registry_lookups: bool = False
    # without registry_lookups: LATER stands for what a lookup would answer, as in validation
    # (a run's check before it starts: the lookup happens once, when the stage starts)
    defer_lookups: bool = False
    # a run's rendering, journaled with its stage: each secret is checked (it exists, the run
    # may read it) but `<+secrets.getValue("id")>` stays in its place, filled in by the step
    secret_references: bool = False
    # fetched manifest files by store, shared by the renders of one validation run (each
    # file, repository or bucket is read once); None: always fetch
    fetched: dict[str, Any] | None = None
    # a run's stage whose environment.provisioner ran: each provisioner's outputs by its
    # identifier, which the infrastructure's <+provisioner.*> fields read. None (validate,
    # plan): those fields stay as written
    provisioners: Mapping[str, Mapping[str, Any]] | None = None


@dataclass
class RenderOutcome:
    rendered: RenderedService | None
    problems: list[Problem]
    remote_skipped: int = 0
    manifests: int = 0
    warnings: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    inputs: list[InputLine] = field(default_factory=list)  # the runtime inputs a run asks for
    pending: list[InputLine] = field(default_factory=list)  # those of them nothing gave a value


def render_service(
    project: Project,
    service_id: str,
    env_id: str,
    infra_id: str,
    *,
    inputs: Mapping[str, Any] | None = None,
    sets: Mapping[str, Any] | None = None,
    secrets: Callable[[str], str] | None = None,
    registry_lookups: bool = False,
) -> RenderedService:
    """The rendered, validated requests of a service on one infrastructure; ConfigError otherwise.
    `registry_lookups`: resolve artifact sources that need a registry (tagRegex, digest: resolve)."""
    outcome = render_outcome(
        project,
        service_id,
        env_id,
        infra_id,
        inputs=inputs,
        sets=sets,
        options=RenderOptions(secrets=secrets, registry_lookups=registry_lookups),
    )
    if outcome.problems or outcome.rendered is None:
        raise ConfigError(outcome.problems or [Problem("", "", "nothing to render")])
    return outcome.rendered


def render_outcome(
    project: Project,
    service_id: str,
    env_id: str,
    infra_id: str,
    *,
    inputs: Mapping[str, Any] | None = None,
    sets: Mapping[str, Any] | None = None,
    options: RenderOptions | None = None,
) -> RenderOutcome:
    """Like render_service, but returns the problems instead of raising."""
    renderer = _Renderer(project, options or RenderOptions(), dict(inputs or {}), dict(sets or {}))
    return renderer.run(service_id, env_id, infra_id)


def _lookup_problems(project: Project, service_id: str, env_id: str, infra_id: str) -> list[Problem]:
    problems = []
    if service_id not in project.services:
        problems.append(Problem("--service", service_id, _not_found("service", service_id, project.services)))
    if env_id not in project.environments:
        problems.append(Problem("--env", env_id, _not_found("environment", env_id, project.environments)))
    elif (env_id, infra_id) not in project.infrastructures:
        known = [i.identifier for i in project.infrastructures_of(env_id)]
        problems.append(
            Problem("--infra", infra_id, _not_found(f"infrastructure of '{env_id}'", infra_id, known))
        )
    return problems


def _not_found(kind: str, ref: str, known: Any) -> str:
    names = ", ".join(sorted(known)) or "none"
    return f"{kind} '{ref}' not found; the project has {names}"


class _Renderer:
    def __init__(
        self, project: Project, options: RenderOptions, inputs: dict[str, Any], sets: dict[str, Any]
    ) -> None:
        self.project = project
        self.options = options
        self.given_inputs = inputs
        self.sets = sets
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.notes: list[Problem] = []
        self.remote_skipped = 0
        self.manifest_count = 0
        self.resolver = SecretResolver(project)
        self.secrets = options.secrets or (self._stand_in_secret if options.satisfiable else self.resolver)
        if options.secret_references:
            self.secrets = _SecretReferences(self.secrets)
        self.mode = Mode.FAIL
        self.service_id = ""
        # validation: (manifest source, path) of typed stand-ins, and the type found per input
        self.stand_ins: set[tuple[str, str]] = set()
        self.input_types: dict[str, str] = {}
        self._restore: list[tuple[RenderedManifest, str, Any]] = []
        self.entity_inputs = InputTable()
        self.manifest_inputs = InputTable()
        self.raws: list[Any] = []
        self.given_paths: set[str] = set()
        self.firstgen_style = False
        self.texts: dict[str, RenderedText] = {}  # manifest text as rendered, by source
        self.secret_file_values: set[str] = set()  # config files' secret texts, masked with the secrets

    # -- the steps, in order ------------------------------------------------------------

    def run(self, service_id: str, env_id: str, infra_id: str) -> RenderOutcome:
        problems = _lookup_problems(self.project, service_id, env_id, infra_id)
        if problems:
            return RenderOutcome(None, problems)
        self.service_id = service_id
        service = self.project.services[service_id]
        env = self.project.environments[env_id]
        infra = self.project.infrastructures[(env_id, infra_id)]
        entity_inputs = InputTable()
        for entity in (service, env, infra):
            entity_inputs.add(entity.raw, prefix="", where=entity.file, locate=_locator(entity))
        entity_inputs.specs = {
            path: spec
            for path, spec in entity_inputs.specs.items()
            if _for_service(path, service_id, env, infra) and not _INLINE_CONTENT.search(path)
        }
        self.entity_inputs = entity_inputs
        self.raws = [service.raw, env.raw, infra.raw]
        leftover = self._assign(entity_inputs, self.given_inputs)
        service = self._with_inputs(service, entity_inputs)
        env = self._with_inputs(env, entity_inputs)
        infra = self._with_inputs(infra, entity_inputs)
        if self.problems:
            return self._outcome(None)
        if self.options.provisioners is not None:  # <+provisioner.*>: provisioned_infrastructure.py
            try:
                infra = provisioned_infrastructure(infra, self.options.provisioners)
            except ConfigError as error:
                self.problems += error.problems
                return self._outcome(None)
        assert isinstance(service, Service) and isinstance(env, Environment)
        assert isinstance(infra, InfrastructureDefinition)
        effective = effective_service(
            service,
            env,
            infra,
            runtime_variables=self._runtime_variables(),
            documents=self.project.overrides_for(service_id, env_id, infra_id),
        )
        ctx = self._context(service, env, infra, effective)
        rendered = RenderedService(
            service=service.identifier,
            environment=env.identifier,
            infrastructure=infra.identifier,
            cluster=infra.spec.cluster,
            region=infra.spec.region,
            connector_ref=infra.spec.connector_ref,
            image=ctx.firstgen.get("DOCKER_IMAGE_NAME"),
            variables=dict(ctx.values.get("serviceVariables", {})),
            artifact=dict(ctx.values.get("artifacts", {}).get("primary") or {}),
            set_by=effective.set_by(),
        )
        documents = self._fetch_and_parse(effective, ctx)
        self.firstgen_style = any(_is_firstgen(file.text) for _, file, _ in documents)
        manifest_inputs = InputTable()
        for placed, file, doc in documents:
            manifest_inputs.add(doc, prefix=placed.item.identifier, where=file.source)
        self.manifest_inputs = manifest_inputs
        unknown = self._assign(manifest_inputs, leftover)
        for key in unknown:
            self.problems.append(Problem("--input", key, _unknown_input(key, entity_inputs, manifest_inputs)))
        for placed, file, doc in documents:
            self._render_one(rendered, placed, file, doc, ctx, manifest_inputs)
        self._task_definition_arn(rendered, service, ctx)
        self._apply_infrastructure(rendered, infra)
        if not self.remote_skipped:  # with manifests missing, the cross-manifest rules cannot be judged
            self._check_ecs_rules(rendered, infra)
            self.problems += scheduled_action_problems(rendered)
        for manifest, path, original in self._restore:  # what is shown says: given at run time
            _set_at(manifest.request, split_path(path), original)
        rendered.used_secrets = set(ctx.used_secrets)
        rendered.warnings, rendered.notes = list(self.warnings), list(self.notes)
        return self._outcome(rendered)

    def _outcome(self, rendered: RenderedService | None) -> RenderOutcome:
        inputs = []
        for table in (self.entity_inputs, self.manifest_inputs):
            inputs += entity_input_lines(table.specs, table.where, self.input_types, self.raws)
        pending = [line for line in inputs if line.path not in self.given_paths]
        return RenderOutcome(
            rendered,
            self.problems,
            self.remote_skipped,
            self.manifest_count,
            self.warnings,
            self.notes,
            inputs=inputs,
            pending=pending,
        )

    # -- runtime inputs ------------------------------------------------------------------

    def _assign(self, table: InputTable, given: Mapping[str, Any]) -> dict[str, Any]:
        """Give table's inputs their values; returns the given keys that named none of them."""
        mine = {k: v for k, v in given.items() if table.match(k) is not None}
        self.given_paths |= {path for k in mine if (path := table.match(k)) is not None}
        table.assign(mine, satisfiable=self.options.satisfiable)
        self.problems += table.problems
        table.problems = []
        return {k: v for k, v in given.items() if k not in mine}

    def _with_inputs(self, entity: _E, table: InputTable) -> _E:
        kind = next(iter(entity.raw))
        if not any(path.startswith(kind + ".") for path in table.specs):
            return entity
        # entity fields are text: a number given for one (tag: <+input>.default(1.25)) is its text
        values = {
            k: str(v) if isinstance(v, int | float) and not isinstance(v, bool) else v
            for k, v in table.values.items()
        }
        ctx = ExpressionContext(inputs=values, keep=frozenset())
        try:
            raw = render(entity.raw, ctx, mode=Mode.KEEP, path="")
        except ExpressionError as error:
            problem = _expression_problem(entity.file, "", error)
            where = entity.where(split_path(problem.path)) if problem.path else entity.file
            self.problems.append(Problem(where, problem.path, problem.message))
            return entity
        try:
            fresh = type(entity).model_validate(raw[kind])
        except ValidationError as error:
            self.problems += problems_from_validation(
                error, raw[kind], root=kind, locate=lambda p: entity.where(p), model=type(entity)
            )
            return entity
        fresh.located(entity.file, entity.line, raw, entity.line_of)
        return fresh

    def _runtime_variables(self) -> dict[str, Any]:
        out = {}
        for key, value in self.sets.items():
            for prefix in ("serviceVariables.", "serviceVariable.", "service.variables."):
                if key.startswith(prefix):
                    out[key[len(prefix) :]] = value
        return out

    # -- what expressions see ------------------------------------------------------------

    def _context(
        self, service: Service, env: Environment, infra: InfrastructureDefinition, effective: EffectiveService
    ) -> ExpressionContext:
        values: dict[str, Any] = {
            **scope_values(self.project.settings),  # <+account.*>, <+org.*>, <+project.*>
            "service": _header(service) | {"type": "ECS", "gitOpsEnabled": False},
            "env": _header(env) | {"type": env.type, "envIdentifier": env.identifier},
            "infra": _header(infra)
            | {
                "infraIdentifier": infra.identifier,
                "environmentRef": infra.environment_ref,
                "connectorRef": infra.spec.connector_ref,
                "connector": {"name": infra.spec.connector_ref},
                "region": infra.spec.region,
                "cluster": infra.spec.cluster,
                "launchType": infra.spec.launch_type,
                "executionRoleArn": infra.spec.execution_role_arn,
            },
        }
        ctx = ExpressionContext(values=values, secrets=self.secrets, keep=KEPT)
        artifact = self._artifact(service, ctx)
        if artifact is not None:
            values["artifacts"] = {"primary": artifact}
        values["env"]["variables"] = self._variables(
            {v.name: v for v in env.variables}, ctx, lambda i: ("environment", "variables", i), env
        )
        service_variables = self._variables(
            {name: placed.item for name, placed in effective.variables.items()},
            ctx,
            None,
            service,
            placed=effective.variables,
        )
        service_variables.update(effective.runtime_variables)
        values["serviceVariables"] = service_variables
        values["configFiles"] = self._config_files(effective)
        self._apply_sets(values)
        firstgen: dict[str, str] = {}
        if artifact is not None and isinstance(artifact.get("image"), str):
            firstgen["DOCKER_IMAGE_NAME"] = artifact["image"]
            firstgen["CONTAINER_NAME"] = container_name(without_registry(artifact["image"]))
        if infra.spec.execution_role_arn:
            firstgen["EXECUTION_ROLE"] = infra.spec.execution_role_arn
        made = ExpressionContext(values=values, secrets=self.secrets, firstgen=firstgen, keep=KEPT)
        made.used_secrets.update(self.secret_file_values)
        return made

    def _config_files(self, effective: EffectiveService) -> dict[str, str]:
        """The text of each config file, for <+configFile.getAsString("id")> (getAsBase64)."""
        from corral.manifests.file_store import FileStore

        texts: dict[str, str] = {}
        for identifier, placed in effective.config_files.items():
            store = placed.item.spec.store.spec
            path = (*placed.path, "spec", "store", "spec", "files")
            try:
                files = FileStore(self.project.files_root).fetch(store.files) if store.files else []
            except ConfigError as error:
                self.problems += [
                    Problem(placed.owner.where(path), format_path(path), p.message) for p in error.problems
                ]
                continue
            secret_path = (*placed.path, "spec", "store", "spec", "secretFiles")
            secret_texts = [
                self._secret_file(ref, placed.owner, (*secret_path, i))
                for i, ref in enumerate(store.secret_files)
            ]
            texts[identifier] = "".join(file.text for file in files) + "".join(secret_texts)
        return texts

    def _secret_file(self, ref: str, owner: Document, path: tuple[str | int, ...]) -> str:
        """A secret file's text: the value of the `secret:` it names (masked like any secret)."""
        try:
            value = self.secrets(ref)
        except LookupError:
            names = sorted(self.project.secrets)
            close = difflib.get_close_matches(ref, names, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else f"the project has {', '.join(names) or 'none'}"
            self.problems.append(
                Problem(owner.where(path), format_path(path), f"secret '{ref}' not found; {hint}")
            )
            return ""
        except ConfigError as error:
            self.problems += [_relocate(p, owner.where(path), format_path(path)) for p in error.problems]
            return ""
        except ExpressionError as error:
            self.problems.append(Problem(owner.where(path), format_path(path), error.detail))
            return ""
        self.secret_file_values.add(value)
        return value

    def _apply_sets(self, values: dict[str, Any]) -> None:
        """`--set a.b=value`: the value `<+a.b>` reads (variables were handled as overrides)."""
        for key, value in self.sets.items():
            if key.startswith(("serviceVariables.", "serviceVariable.", "service.variables.")):
                continue
            if key.startswith("artifact."):
                key = "artifacts.primary." + key[len("artifact.") :]
            parts = key.split(".")
            target = values
            for part in parts[:-1]:
                child = target.get(part)
                if not isinstance(child, dict):
                    child = {}
                    target[part] = child
                target = child
            target[parts[-1]] = value

    def _artifact(self, service: Service, ctx: ExpressionContext) -> dict[str, Any] | None:
        """The primary artifact source, resolved by corral.artifacts. Registry lookups (tagRegex,
        `digest: resolve`, an Ecr account) happen only with `registry_lookups`; validation puts
        LATER where a lookup would answer."""
        from corral.artifacts import ArtifactError, resolve_source
        from corral.artifacts.sources import ECR_ACCOUNT_LATER, ECR_ACCOUNT_STAND_IN

        artifacts = service.service_definition.spec.artifacts
        if artifacts is None or artifacts.primary is None:
            return None
        primary = artifacts.primary
        index = next(
            (i for i, s in enumerate(primary.sources) if s.identifier == primary.selected().identifier), 0
        )
        source = primary.sources[index]
        path = ("service", "serviceDefinition", "spec", "artifacts", "primary", "sources", index, "spec")
        spec = self._render_value(source.spec.model_dump(by_alias=True), ctx, service, path)
        overrides = {k[len("artifact.") :]: v for k, v in self.sets.items() if k.startswith("artifact.")}
        spec.update({k: v for k, v in overrides.items() if k in ("tag", "imagePath", "digest")})
        options = self.options
        # plan asks registries too (satisfiable, with lookups): it shows what a run would deploy now
        lookups = options.registry_lookups and not options.offline
        try:
            resolved = resolve_source(
                self.project,
                source,
                spec=spec,
                secrets=self.resolver,
                offline=not lookups,
                placeholder=LATER if options.satisfiable or options.defer_lookups else None,
                locate=service.where,
                path=path,
            )
        except ConfigError as error:
            # a dangling or mistyped connectorRef is reported by the reference checks already
            self.problems += [p for p in error.problems if not p.path.endswith(".connectorRef")]
            return _artifact_stand_in(source.identifier, source.type, source.spec.connector_ref, spec)
        except ArtifactError as error:
            self.problems.append(Problem(service.where(path), format_path(path), str(error)))
            return _artifact_stand_in(source.identifier, source.type, source.spec.connector_ref, spec)
        if resolved.image.startswith(ECR_ACCOUNT_STAND_IN + "."):
            at = (*path, "imagePath")
            self.notes.append(Problem(service.where(at), format_path(at), ECR_ACCOUNT_LATER))
        return resolved.expression_values()

    def _variables(
        self,
        variables: Mapping[str, Any],
        ctx: ExpressionContext,
        path_of: Callable[[int], tuple[str | int, ...]] | None,
        owner: Document,
        *,
        placed: Mapping[str, Placed] | None = None,
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for index, (name, variable) in enumerate(variables.items()):
            where_entity = placed[name].owner if placed else owner
            path = placed[name].path if placed else (path_of(index) if path_of else ())
            value = variable.typed_value()
            if variable.type == "Secret" and isinstance(value, str) and not is_expression(value):
                out[name] = self._secret(value, where_entity, (*path, "value"), ctx)
            elif is_expression(value):
                out[name] = self._render_value(value, ctx, where_entity, (*path, "value"))
            else:
                out[name] = value
        return out

    def _secret(self, ref: str, owner: Document, path: tuple[str | int, ...], ctx: ExpressionContext) -> Any:
        try:
            value = self.secrets(ref)
        except ConfigError as error:
            self.problems += [_relocate(p, owner.where(path), format_path(path)) for p in error.problems]
            return None
        ctx.used_secrets.add(value)
        return value

    def _stand_in_secret(self, ref: str) -> str:
        """Validation reads no secret value; it only checks the secret exists."""
        if self.project.secret(ref) is None:
            raise LookupError(ref)
        return SECRET_STAND_IN

    def _render_value(
        self, value: Any, ctx: ExpressionContext, owner: Document, path: tuple[str | int, ...]
    ) -> Any:
        try:
            rendered, errors = render_leaves(
                value, ctx, path, self.mode, keep_inputs=self.options.satisfiable
            )
        except ConfigError as error:
            self.problems += [_relocate(p, owner.where(path), format_path(path)) for p in error.problems]
            return value
        for where, failure in errors:
            self.problems.append(_expression_problem(owner.where(split_path(where)), where, failure))
        return rendered

    # -- manifests -----------------------------------------------------------------------

    def _fetch_and_parse(
        self, effective: EffectiveService, ctx: ExpressionContext
    ) -> list[tuple[Placed, ManifestFile, Any]]:
        out = []
        for placed in effective.manifests:
            manifest = placed.item
            try:
                files = self._fetch(placed)
                run_scope = (
                    self.secrets.resolver if isinstance(self.secrets, _SecretReferences) else self.secrets
                )
                if isinstance(run_scope, SecretResolver):  # a run's scope: its manifests too
                    run_scope.allow(set().union(*(referenced_ids(f.text) for f in files)))
            except RemoteSkipped:
                self.remote_skipped += 1
                continue
            except ConfigError as error:
                self.problems += [self._store_problem(placed, p) for p in error.problems]
                continue
            except CorralError as error:
                store_path = format_path((*placed.path, "spec", "store"))
                self.problems.append(Problem(placed.owner.where(placed.path), store_path, str(error)))
                continue
            if manifest.type in SINGLE_MANIFEST_TYPES and len(files) != 1:
                store_path = format_path((*placed.path, "spec", "store"))
                names = ", ".join(f.source for f in files)
                self.problems.append(
                    Problem(
                        placed.owner.where(placed.path),
                        store_path,
                        f"a {manifest.type} is one file; this store gives {len(files)} ({names})",
                    )
                )
                continue
            for file in files:
                self.manifest_count += 1
                doc = self._parse(file, ctx, placed)
                if doc is not None:
                    out.append((placed, file, doc))
        return out

    def _fetch(self, placed: Placed) -> list[ManifestFile]:
        cache = self.options.fetched
        store = placed.item.spec.store
        if cache is None or isinstance(store, InlineStore):  # inline text costs nothing to read
            return fetch_manifest_files(self.project, placed, self.resolver, offline=self.options.offline)
        key = store.model_dump_json()
        if key not in cache:
            try:
                cache[key] = fetch_manifest_files(
                    self.project, placed, self.resolver, offline=self.options.offline
                )
            except (RemoteSkipped, CorralError) as error:
                cache[key] = error
        found = cache[key]
        if isinstance(found, Exception):
            raise found
        return list(found)

    def _store_problem(self, placed: Placed, problem: Problem) -> Problem:
        """A store's problem, said from the service YAML's side when it names a path."""
        root = f"git:{self.project.root}/"
        if problem.file.startswith(root):  # a repository inside the project: show it relative
            return Problem("git:" + problem.file[len(root) :], problem.path, problem.message)
        if problem.file.startswith(("files/", "git:", "s3://")) or " (inline " in problem.file:
            return problem
        store_path = format_path((*placed.path, "spec", "store"))
        return Problem(placed.owner.where(placed.path), store_path, f"{problem.file}: {problem.message}")

    def _parse(self, file: ManifestFile, ctx: ExpressionContext, placed: Placed) -> Any:
        """Parse after rendering into the text: `<+...>` expressions and FirstGen placeholders
        (manifests/text_rendering.py). Expressions without a value yet (runtime inputs, secret
        references kept for the step, errors) are rendered after parsing, with their path."""
        text = file.text
        rendered = render_text(file, self._text_value(ctx))
        self.texts[file.source] = rendered
        if rendered.problems:
            self.problems += rendered.problems
            return None
        try:
            doc = parse_manifest_text(file.source, rendered.text)
        except ConfigError as error:
            try:  # an unresolved placeholder where JSON needs a value: say that, not "invalid JSON"
                substitute_text(text, ctx, mode=self.mode)
            except ExpressionError as placeholder:
                self.problems.append(self._firstgen_problem(file, placeholder, placed))
                return None
            self.problems += explain_parse_error(error, file, rendered, ctx.used_secrets).problems
            return None
        if not isinstance(doc, dict):
            self.problems.append(Problem(file.source, "", "expected a mapping (a JSON object) at the top"))
            return None
        return doc

    def _text_value(self, ctx: ExpressionContext) -> Callable[[str], Any]:
        values = with_aliases(ctx.values)

        def value(source: str) -> Any:
            if source.startswith("${"):  # a FirstGen placeholder
                found = lookup(source[2:-1], ctx.firstgen, values)
                return TEXT_KEEP if found is MISSING else found
            if source.startswith("<+input"):
                return TEXT_KEEP
            result = render(source, ctx, mode=Mode.KEEP, path="")
            return TEXT_KEEP if isinstance(result, str) and result == source else result

        return value

    def _as_written(self, file: ManifestFile, rendered_doc: Any) -> Any:
        """The document with its expressions as written (for coercing what they gave)."""
        text = self.texts.get(file.source)
        if text is None or not text.placed:
            return rendered_doc
        try:
            return parse_manifest_text(file.source, text.as_written)
        except ConfigError:
            return rendered_doc

    def _firstgen_problem(self, file: ManifestFile, error: ExpressionError, placed: Placed) -> Problem:
        line = file.text.count("\n", 0, error.position or 0) + 1
        message = error.detail
        if "${EXECUTION_ROLE}" in message:
            message += ": the infrastructure definition gives none (set spec.executionRoleArn)"
        return Problem(f"{file.source}:{line}", "", message)

    def _render_one(
        self,
        rendered: RenderedService,
        placed: Placed,
        file: ManifestFile,
        doc: dict[str, Any],
        ctx: ExpressionContext,
        inputs: InputTable,
    ) -> None:
        manifest = placed.item
        prefix = manifest.identifier
        local = ExpressionContext(
            values=ctx.values,
            secrets=ctx.secrets,
            inputs={k: v for k, v in inputs.values.items() if k.startswith(prefix + ".")},
            firstgen=ctx.firstgen,
            keep=ctx.keep,
            used_secrets=ctx.used_secrets,
        )
        try:
            document, errors = render_leaves(doc, local, (prefix,), self.mode)
        except ConfigError as error:
            self.problems += [_relocate(p, file.source, p.path) for p in error.problems]
            return
        if errors:
            at = self.texts.get(file.source)
            for where, failure in errors:
                problem = _expression_problem(file.source, where, failure, strip=prefix)
                if at is not None:
                    problem = Problem(
                        problem.file, problem.path, problem.message + at.where(failure.expression or "")
                    )
                self.problems.append(problem)
            return
        # pasted describe output: unwrapped, read-only members left out, said in one line
        pasted = unwrap_pasted(manifest.type, document, source=file.source)
        self.warnings += pasted.warnings
        if pasted.problems:
            self.problems += pasted.problems
            return
        note = pasted.note(file.source)
        if note is not None:
            self.notes.append(note)
        # the document with its expressions as written, for coercing what they gave
        original = unwrap_pasted(manifest.type, self._as_written(file, doc), source=file.source).document
        document = pasted.document
        if manifest.type == ManifestKind.SERVICE_DEFINITION.value and self.firstgen_style:
            _default_service_name(document, self.service_id)
        stand_ins = self._stand_ins(document, prefix, inputs) if self.options.satisfiable else {}
        checked = shape_check(manifest.type, document, source=file.source)
        if checked.problems and _coerce_expression_values(original, document, checked.problems):
            checked = shape_check(manifest.type, document, source=file.source)
        if stand_ins and self._typed_stand_ins(document, checked.problems, prefix, stand_ins):
            checked = shape_check(manifest.type, document, source=file.source)

        def later(path: str) -> bool:
            return path in stand_ins or _deferred(document, path)

        self.warnings += [pasted.located(w) for w in checked.warnings]
        problems = [pasted.located(p) for p in checked.problems if not later(p.path)]
        if problems:
            self.problems += problems
            return
        try:
            request = to_api(manifest.type, document, source=file.source)
        except ConfigError as error:
            self.problems += [pasted.located(p) for p in error.problems if not later(p.path)]
            return
        self.stand_ins |= {(file.source, path) for path in stand_ins}
        placed_manifest = RenderedManifest(manifest.type, manifest.identifier, file.source, request)
        self._restore += [(placed_manifest, path, written) for path, written in stand_ins.items()]
        _place(rendered, placed_manifest)

    def _stand_ins(self, document: dict[str, Any], prefix: str, inputs: InputTable) -> dict[str, Any]:
        """Validation: each of this manifest's runtime inputs that has no value yet gets plain
        text in place of `<+input>`, so the manifest is validated around it. Returns {path in
        the manifest: the expression as written}."""
        found = {}
        for path in inputs.specs:
            if not path.startswith(prefix + "."):
                continue
            inner = path[len(prefix) + 1 :]
            value = _value_at(document, split_path(inner))
            if (
                isinstance(value, str)
                and value.startswith(LATER)
                and _set_at(document, split_path(inner), _TEXT)
            ):
                found[inner] = value
                self.input_types.setdefault(path, "String")
        return found

    def _typed_stand_ins(
        self, document: dict[str, Any], problems: list[Problem], prefix: str, stand_ins: Mapping[str, Any]
    ) -> bool:
        """A stand-in must be of its field's type (an integer, a number, a boolean) for the ECS
        rules across manifests to be checked: text becomes a value of that type."""
        changed = False
        for problem in problems:
            if problem.path not in stand_ins:
                continue
            for expected, (kind, stand_in) in _TYPED_STAND_INS.items():
                if problem.message.startswith(expected) and _set_at(
                    document, split_path(problem.path), stand_in
                ):
                    self.input_types[f"{prefix}.{problem.path}"] = kind
                    changed = True
        return changed

    def _task_definition_arn(
        self, rendered: RenderedService, service: Service, ctx: ExpressionContext
    ) -> None:
        arn = service.service_definition.spec.ecs_task_definition_arn
        if arn:
            path = ("service", "serviceDefinition", "spec", "ecsTaskDefinitionArn")
            rendered.task_definition_arn = self._render_value(arn, ctx, service, path)

    # -- what the infrastructure decides -------------------------------------------------

    def _apply_infrastructure(self, rendered: RenderedService, infra: InfrastructureDefinition) -> None:
        spec = infra.spec
        if rendered.task_definition and spec.execution_role_arn:
            rendered.task_definition.request.setdefault("executionRoleArn", spec.execution_role_arn)
        for manifest in (rendered.service_definition, rendered.run_task_request):
            if manifest is None:
                continue
            request = manifest.request
            request["cluster"] = spec.cluster
            if spec.launch_type and "capacityProviderStrategy" not in request:
                request["launchType"] = spec.launch_type
            if spec.network_configuration is not None:
                network = dict(request.get("networkConfiguration") or {})
                awsvpc = dict(network.get("awsvpcConfiguration") or {})
                awsvpc.update(spec.network_configuration.awsvpc())
                network["awsvpcConfiguration"] = awsvpc
                request["networkConfiguration"] = network

    def _check_ecs_rules(self, rendered: RenderedService, infra: InfrastructureDefinition) -> None:
        task = rendered.task_definition
        if rendered.service_definition and task is None and not rendered.task_definition_arn:
            if not self.problems:
                self.problems.append(
                    Problem(
                        rendered.service_definition.source,
                        "",
                        "a service definition needs a task definition: add an EcsTaskDefinition manifest "
                        "or ecsTaskDefinitionArn to the service",
                    )
                )
            return
        for other in (rendered.service_definition, rendered.run_task_request):
            if other is None and (rendered.service_definition or rendered.run_task_request):
                continue
            found = check_ecs_rules(
                task.request if task else None,
                other.request if other else None,
                source_task=task.source if task else "ecsTaskDefinitionArn",
                source_service=other.source if other else "",
                launch_type=infra.spec.launch_type,
                network_configuration=(other.request.get("networkConfiguration") if other else None),
                execution_role_arn=infra.spec.execution_role_arn,
            )
            problems = [p for p in found if (p.file, p.path) not in self.stand_ins]
            self.problems += [p for p in problems if p not in self.problems]


def scheduled_action_problems(rendered: RenderedService) -> list[Problem]:
    """A scheduled action needs its scalable target: AWS refuses PutScheduledAction for a target
    not registered, and Corral replaces a service's autoscaling with what the manifests say."""
    dimensions = {m.request.get("ScalableDimension") for m in rendered.scalable_targets}
    return [
        Problem(
            action.source,
            "scalableDimension",
            f"scheduled action {action.request.get('ScheduledActionName')} needs an "
            f"EcsScalableTargetDefinition manifest for {action.request.get('ScalableDimension')} in the service",
        )
        for action in rendered.scheduled_actions
        if action.request.get("ScalableDimension") not in dimensions
    ]


def _place(rendered: RenderedService, manifest: RenderedManifest) -> None:
    kind = ManifestKind(manifest.kind)
    if kind is ManifestKind.TASK_DEFINITION:
        rendered.task_definition = manifest
    elif kind is ManifestKind.SERVICE_DEFINITION:
        rendered.service_definition = manifest
    elif kind is ManifestKind.RUN_TASK_REQUEST:
        rendered.run_task_request = manifest
    elif kind is ManifestKind.SCALABLE_TARGET:
        rendered.scalable_targets.append(manifest)
    elif kind is ManifestKind.SCHEDULED_ACTION:
        rendered.scheduled_actions.append(manifest)
    else:
        rendered.scaling_policies.append(manifest)


class _SecretReferences:
    """A run's secrets while its stage renders: each is read (so a missing secret, or one out
    of the run's scope, is a problem now) and answered with its reference, which the journal
    may hold; the step fills the value in (`with_secrets`)."""

    def __init__(self, resolver: Callable[[str], str]) -> None:
        self.resolver = resolver

    def __call__(self, ref: str) -> str:
        self.resolver(ref)
        return secret_reference(ref)


def secret_reference(ref: str) -> str:
    return f"<+secrets.getValue({json.dumps(ref)})>"


def with_run_values(rendered: RenderedService, values: Mapping[str, Any]) -> RenderedService:
    """The journaled rendering with the expressions the stage kept for a running pipeline
    (`<+pipeline.variables.x>`, `<+stage.*>`, `<+steps.*>`, ...; RUNTIME_ROOTS) replaced by what
    the step's expressions see. One that still has no value is an ExpressionError, so the step
    fails before it calls AWS; `<+targetGroupArn>` stays for the Blue Green step to fill."""
    ctx = ExpressionContext(values=values, keep=frozenset({"targetGroupArn"}))
    for manifest in rendered.manifests():
        if any(root in RUNTIME_ROOTS for root in _ROOT.findall(json.dumps(manifest.request))):
            manifest.request = render(manifest.request, ctx, mode=Mode.FAIL, path=manifest.identifier)
    return rendered


def with_secrets(rendered: RenderedService, secrets: Callable[[str], str]) -> RenderedService:
    """The journaled rendering with each `<+secrets.getValue("id")>` replaced by the secret's
    value (read through the run's resolver, which remembers it for masking). Nothing else is
    rendered again: other expressions kept for later stay as they are."""
    ctx = ExpressionContext(values={}, secrets=secrets, keep=KEPT)
    for manifest in rendered.manifests():
        if _SECRET_REFERENCE in json.dumps(manifest.request):
            manifest.request = render(manifest.request, ctx, mode=Mode.FAIL, path="")
    return rendered


_SECRET_REFERENCE = "<+secrets.getValue("


def _artifact_stand_in(
    identifier: str, type: str, connector_ref: str, spec: dict[str, Any]
) -> dict[str, Any]:
    """What expressions read about an artifact that could not be resolved (its problem is
    reported): LATER, so manifests using it are not reported a second time."""
    return {
        "identifier": identifier,
        "type": type,
        "connectorRef": connector_ref,
        "imagePath": spec.get("imagePath"),
        "tag": spec.get("tag") or LATER,
        "digest": LATER if spec.get("digest") == "resolve" else spec.get("digest"),
        "image": LATER,
        "metadata": {"image": LATER, "tag": spec.get("tag") or LATER},
    }


def render_leaves(
    value: Any,
    ctx: ExpressionContext,
    parts: tuple[str | int, ...],
    mode: Mode = Mode.FAIL,
    *,
    keep_inputs: bool = False,
) -> tuple[Any, list[tuple[str, ExpressionError]]]:
    """value with each string rendered on its own, so one bad expression does not hide the
    others: (rendered value, [(path, error), ...]). Paths are `parts` plus the place inside.
    keep_inputs: a field that is still a runtime input (validation's stand-in) stays as written."""
    errors: list[tuple[str, ExpressionError]] = []

    def one(text: str, at: tuple[str | int, ...]) -> Any:
        if "<+" not in text and "${" not in text:
            return text
        if keep_inputs and is_runtime_input(text):
            return text
        where = format_path(at)
        try:
            return render(text, ctx, mode=mode, path=where)
        except ExpressionError as error:
            errors.append((where, error))
            return text

    def walk(item: Any, at: tuple[str | int, ...]) -> Any:
        if isinstance(item, str):
            return one(item, at)
        if isinstance(item, dict):
            out = {}
            for key, child in item.items():
                entry = (*at, key if isinstance(key, str) else str(key))
                new_key = one(key, entry) if isinstance(key, str) else key
                out[new_key if isinstance(new_key, str | int | float | bool) else key] = walk(child, entry)
            return out
        if isinstance(item, list):
            return [walk(child, (*at, index)) for index, child in enumerate(item)]
        return item

    return walk(value, parts), errors


def _is_firstgen(text: str) -> bool:
    return "${DOCKER_IMAGE_NAME}" in text or "${CONTAINER_NAME}" in text


# an inline manifest's inputs are the manifest's (`task_def.cpu`), given as its field's type
_INLINE_CONTENT = re.compile(r"\.manifest\.spec\.store\.spec\.content[.\[]")


def _for_service(path: str, service_id: str, *owners: Environment | InfrastructureDefinition) -> bool:
    """False for an input inside another service's serviceOverrides: not asked for here."""
    parts = split_path(path)
    if len(parts) < 3 or parts[1] != "serviceOverrides" or not isinstance(parts[2], int):
        return True
    owner = next((o for o in owners if next(iter(o.raw)) == parts[0]), None)
    if owner is None or parts[2] >= len(owner.service_overrides):
        return True
    return owner.service_overrides[parts[2]].service_ref in (service_id, "")


def _default_service_name(document: dict[str, Any], service_id: str) -> None:
    """FirstGen service definitions have no serviceName (FirstGen named the ECS service
    itself): a service whose manifests use FirstGen placeholders gets the Corral service's
    identifier, a valid ECS service name. NextGen manifests must name the service."""
    if not any(isinstance(k, str) and k.lower() == "servicename" for k in document):
        document["serviceName"] = service_id


def _header(entity: Entity) -> dict[str, Any]:
    return {
        "identifier": entity.identifier,
        "name": entity.name,
        "description": entity.description or "",
        "tags": dict(entity.tags),
    }


# a field's expected type (as manifest validation says it) -> (type shown, stand-in value)
_TEXT = "run-time-input"  # a stand-in for a text field: plain text, not an expression
_TYPED_STAND_INS: dict[str, tuple[str, Any]] = {
    "expected an integer": ("Integer", 1),
    "expected a number": ("Number", 1),
    "expected true or false": ("Boolean", True),
}
_NOT_COERCED = object()
_INTEGER = re.compile(r"-?[0-9]+")
_NUMBER = re.compile(r"-?[0-9]+([.][0-9]+)?([eE][-+]?[0-9]+)?")


def _coerce_expression_values(original: Any, rendered: Any, problems: list[Problem]) -> bool:
    """Give a value an expression produced the type its field needs, as text substitution
    would have: `value: <+pipeline.sequenceId>` is the text "7" in a string field, and
    `desiredCount: <+serviceVariables.replicas>` the number 3 even when the variable holds "3".
    Values written literally are left alone (their problems stand)."""
    changed = False
    for problem in problems:
        parts = split_path(problem.path)
        before = _value_at(original, parts)
        if not (isinstance(before, str) and ("<+" in before or "${" in before)):
            continue
        value = _coerced(problem.message, _value_at(rendered, parts))
        if value is not _NOT_COERCED and _set_at(rendered, parts, value):
            changed = True
    return changed


def _coerced(message: str, value: Any) -> Any:
    if message.startswith("expected a string") and isinstance(value, int | float | bool):
        return ("true" if value else "false") if isinstance(value, bool) else str(value)
    if isinstance(value, str):
        text = value.strip()
        if message.startswith("expected an integer") and _INTEGER.fullmatch(text):
            return int(text)
        if message.startswith("expected a number") and _NUMBER.fullmatch(text):
            number = float(text)
            return int(number) if number.is_integer() and "." not in text else number
        if message.startswith("expected true or false") and text in ("true", "false"):
            return text == "true"
    return _NOT_COERCED


def _set_at(document: Any, parts: tuple[str | int, ...], value: Any) -> bool:
    parent = _value_at(document, parts[:-1]) if parts else None
    last = parts[-1] if parts else None
    if isinstance(parent, dict) and isinstance(last, str):
        key = next((k for k in parent if isinstance(k, str) and k.lower() == last.lower()), None)
        if key is not None:
            parent[key] = value
            return True
    if isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent[last] = value
        return True
    return False


def _deferred(document: Any, path: str) -> bool:
    """True when the value a problem is about is still a runtime input or a run-time expression."""
    value = _value_at(document, split_path(path)) if path else None
    return _holds_later(value)


def _holds_later(value: Any) -> bool:
    if isinstance(value, str):
        return LATER in value or any(root in RUNTIME_ROOTS for root in _ROOT.findall(value))
    if isinstance(value, dict):
        return any(_holds_later(v) for v in value.values())
    if isinstance(value, list):
        return any(_holds_later(v) for v in value)
    return False


def _value_at(document: Any, parts: tuple[str | int, ...]) -> Any:
    current = document
    for part in parts:
        if isinstance(current, dict) and isinstance(part, str):
            match = next((k for k in current if isinstance(k, str) and k.lower() == part.lower()), None)
            if match is None:
                return None
            current = current[match]
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        else:
            return None
    return current


def _expression_problem(file: str, path: str, error: ExpressionError, *, strip: str = "") -> Problem:
    """An ExpressionError as a Problem: its located path split from the message."""
    missing = missing_value_cause(error)
    if missing is not None:  # a secret without a value: said once, at the secret
        return missing
    detail = error.detail
    found_path = path
    if path and detail.startswith(path + ": "):
        detail = detail[len(path) + 2 :]
    elif not path:
        head, sep, rest = detail.partition(": ")
        if sep and _looks_like_path(head):
            found_path, detail = head, rest
    if strip and (found_path == strip or found_path.startswith(strip + ".")):
        found_path = found_path[len(strip) + 1 :]
    if error.expression and error.expression not in detail:
        detail += f" in '{error.expression}'"
    return Problem(file, found_path, detail)


def _looks_like_path(text: str) -> bool:
    return bool(text) and " " not in text and re.fullmatch(r"[A-Za-z0-9_.$\[\]-]+", text) is not None


def _relocate(problem: Problem, file: str, path: str) -> Problem:
    if isinstance(problem, SecretProblem):  # about the secret itself: once, where it is defined
        return problem
    return Problem(file, path, f"{problem.path}: {problem.message}" if problem.path else problem.message)


def _unknown_input(key: str, *tables: InputTable) -> str:
    paths = [path for table in tables for path in table.specs]
    if not paths:
        return "no runtime input at this path: nothing in this service, its manifests, environment or infrastructure is <+input>"
    return f"no runtime input at this path; runtime inputs: {', '.join(paths)}"
