"""A project: the folder of YAML entities, `files/` (the built-in file store) and corral.yaml.

`load_project` reads every YAML file below the root (any names, any sub-folders, several
documents per file), skipping `.corral/`, `files/` and hidden folders, builds the typed
entities and checks identifiers and references. Every problem is collected and raised
together as one ConfigError.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, TypeAdapter, ValidationError

from corral.errors import ConfigError, Problem, format_path

from .entities.common import Entity, strip_scope
from .entities.connector import AnyConnector, Connector
from .entities.environment import Environment
from .entities.infrastructure import InfrastructureDefinition
from .entities.overrides import OVERRIDE_TYPES, OverrideDocument, OverridesV2, ServiceOverridesDocument
from .entities.pipeline import InputSet, Pipeline
from .entities.secret import Secret
from .entities.service import Service
from .entities.template import Template
from .entities.trigger import Trigger
from .problems import pick_model, problems_from_validation
from .settings import FILES_DIR, SETTINGS_FILE, STATE_DIR, ProjectSettings
from .templates import resolve_pipeline, uses_templates
from .yaml_source import Document, read_yaml

KINDS: dict[str, Any] = {
    "service": Service,
    "environment": Environment,
    "infrastructureDefinition": InfrastructureDefinition,
    "connector": Connector,
    "secret": Secret,
    "pipeline": Pipeline,
    "inputSet": InputSet,
    "trigger": Trigger,
    "overrides": OverridesV2,
    "serviceOverrides": ServiceOverridesDocument,
    "template": Template,
}
# Harness YAML kinds a Harness export holds that Corral has no use for: named, so a document
# of one is refused with what it is rather than as a typo
HARNESS_KINDS_NOT_SUPPORTED = {
    "monitoredService": "monitored services (Service Reliability Management) are not part of Corral",
    "userGroup": "user groups are not part of Corral (approvals name their approvers directly)",
    "variable": "account/org/project variables are not supported; use environment or service variables",
    "featureFlags": "feature flags are not part of Corral",
    "policy": "governance policies are not part of Corral",
    "policySet": "governance policies are not part of Corral",
    "serviceAccount": "service accounts are not part of Corral",
    "role": "roles are not part of Corral",
    "resourceGroup": "resource groups are not part of Corral",
    "gitOpsCluster": "GitOps clusters are not part of Corral",
    "environmentGroup": "environment groups are not supported; list the environments in the stage",
    "overlayInputSet": "overlay input sets are not supported; merge their input sets into one inputSet",
    "freeze": "deployment freeze windows are not supported",
}
_ADAPTERS: dict[str, TypeAdapter[Any]] = {}  # made on first use: building one costs start-up time
_SKIP_DIRS = {STATE_DIR, FILES_DIR}


@dataclass
class Project:
    """Every entity of a project, by kind and identifier."""

    root: Path
    settings: ProjectSettings
    services: dict[str, Service] = field(default_factory=dict)
    environments: dict[str, Environment] = field(default_factory=dict)
    # infrastructure identifiers are unique per environment: (environmentRef, identifier)
    infrastructures: dict[tuple[str, str], InfrastructureDefinition] = field(default_factory=dict)
    connectors: dict[str, AnyConnector] = field(default_factory=dict)
    secrets: dict[str, Secret] = field(default_factory=dict)
    pipelines: dict[str, Pipeline] = field(default_factory=dict)
    # input set identifiers are unique per pipeline: (pipeline identifier, identifier)
    input_sets: dict[tuple[str, str], InputSet] = field(default_factory=dict)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    # template versions: (identifier, versionLabel); uses are resolved as pipelines load (templates.py)
    templates: dict[tuple[str, str], Template] = field(default_factory=dict)
    # `overrides:` and `serviceOverrides:` documents, in file order
    override_documents: list[OverrideDocument] = field(default_factory=list)
    files_scanned: int = 0
    # identifiers of entities that did not load: references to them are not reported again
    broken: set[str] = field(default_factory=set)
    # problems of one pipeline (its document, input sets, triggers): the pipeline's identifier
    pipeline_owned: dict[Problem, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.settings.name

    @property
    def files_root(self) -> Path:
        """The built-in file store (`Harness` manifest store)."""
        return self.root / FILES_DIR

    def infrastructures_of(self, environment_ref: str) -> list[InfrastructureDefinition]:
        return [infra for (env, _), infra in self.infrastructures.items() if env == environment_ref]

    def connector(self, ref: str) -> AnyConnector | None:
        return self.connectors.get(strip_scope(ref))

    def secret(self, ref: str) -> Secret | None:
        return self.secrets.get(strip_scope(ref))

    def entities(self) -> Iterator[tuple[str, Entity | OverrideDocument]]:
        """(kind, entity) for every entity, kind by kind in KINDS order."""
        tables: dict[str, dict[Any, Any]] = {
            "service": self.services,
            "environment": self.environments,
            "infrastructureDefinition": self.infrastructures,
            "connector": self.connectors,
            "secret": self.secrets,
            "pipeline": self.pipelines,
            "inputSet": self.input_sets,
            "trigger": self.triggers,
            "template": self.templates,
        }
        for kind, table in tables.items():
            for entity in table.values():
                yield kind, entity
        for document in self.override_documents:
            yield document.kind, document

    def overrides_for(self, service_id: str, env_id: str, infra_id: str) -> list[OverrideDocument]:
        """The override documents that apply to a service on an infrastructure, lowest
        precedence first (see corral.config.overrides)."""
        found = []
        for document in self.override_documents:
            env, service, infra = document.target()
            if env == env_id and service in (None, service_id) and infra in (None, infra_id):
                found.append(document)
        return sorted(found, key=lambda d: (OVERRIDE_TYPES.index(d.override_type), d.scope_rank))


def project_files(root: Path, ignore: list[str] | None = None) -> list[Path]:
    """Every entity YAML file below root, sorted; skips .corral/, files/, hidden folders and
    the paths matching corral.yaml's `ignore` patterns (`vendor/*`, `charts/**`)."""
    found: list[Path] = []
    patterns = ignore or []
    for folder, dirs, files in os.walk(root):
        top = Path(folder) == root
        rel = Path(folder).relative_to(root).as_posix()
        dirs[:] = sorted(
            d
            for d in dirs
            if not d.startswith(".")
            and not (top and d in _SKIP_DIRS)
            and not _ignored(f"{rel}/{d}" if rel != "." else d, patterns)
        )
        for name in sorted(files):
            path = f"{rel}/{name}" if rel != "." else name
            if (
                name.endswith((".yaml", ".yml"))
                and not (top and name == SETTINGS_FILE)
                and not _ignored(path, patterns)
            ):
                found.append(Path(folder) / name)
    return found


def _ignored(path: str, patterns: list[str]) -> bool:
    return any(fnmatch.fnmatch(path, p) or fnmatch.fnmatch(path, p.rstrip("/") + "/*") for p in patterns)


def load_project(root: Path | str, *, pipeline: str | None = None, entities_only: bool = False) -> Project:
    """The project at root; raises ConfigError listing every problem found. pipeline: only
    that pipeline's problems count among the pipelines' (plan and run of one pipeline);
    entities_only: none of the pipelines' do (render of a service)."""
    project, problems = read_project(root)
    if pipeline is not None or entities_only:
        problems = blocking_problems(project, problems, pipeline=pipeline)
    if problems:
        raise ConfigError(problems)
    return project


def blocking_problems(project: Project, problems: list[Problem], *, pipeline: str | None) -> list[Problem]:
    """problems without those of pipelines other than `pipeline` (all pipelines' when None):
    one broken pipeline does not stop the render or run of another."""
    return [p for p in problems if project.pipeline_owned.get(p, pipeline) == pipeline]


def read_project(root: Path | str) -> tuple[Project, list[Problem]]:
    """The project with every entity that loaded, and the problems found on the way."""
    from .references import reference_problems

    root = Path(root).resolve()
    if not root.is_dir():
        raise ConfigError([Problem(str(root), "", "project folder not found")])
    settings, problems = read_settings(root)
    project = Project(root=root, settings=settings)
    documents: list[Document] = []
    for path in project_files(root, settings.project.ignore):
        problems += _read_file(root, path, documents)
        project.files_scanned += 1
    # templates first: a pipeline in any file may use a template from any other
    for document in sorted(documents, key=lambda d: not _is_template(d.data)):
        problems += _read_document(project, document)
    problems += reference_problems(project, owners=project.pipeline_owned)
    return project, problems


def read_settings(root: Path) -> tuple[ProjectSettings, list[Problem]]:
    path = root / SETTINGS_FILE
    if not path.is_file():
        return ProjectSettings(), []
    parsed = read_yaml(SETTINGS_FILE, path.read_text(encoding="utf-8"))
    if parsed.problems:
        return ProjectSettings(), parsed.problems
    data = parsed.documents[0].data if parsed.documents else {}
    try:
        return ProjectSettings.model_validate(data or {}), []
    except ValidationError as error:
        document = parsed.documents[0]
        return ProjectSettings(), problems_from_validation(
            error, data, root="", locate=_locator(document), model=ProjectSettings
        )


def _locator(document: Document, strip: int = 0) -> Any:
    def locate(parts: tuple[str | int, ...]) -> str:
        return f"{document.file}:{document.line_of(tuple(p for p in parts[strip:] if p != ''))}"

    return locate


def _is_template(data: object) -> bool:
    return isinstance(data, dict) and "template" in data


def _read_file(root: Path, path: Path, documents: list[Document]) -> list[Problem]:
    rel = path.relative_to(root).as_posix()
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return [Problem(rel, "", f"cannot read the file: {error}")]
    parsed = read_yaml(rel, text)
    documents += parsed.documents
    return list(parsed.problems)


def _adapter(kind: str) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(kind)
    if adapter is None:
        adapter = _ADAPTERS[kind] = TypeAdapter(KINDS[kind])
    return adapter


def _read_document(project: Project, document: Document) -> list[Problem]:
    data = document.data
    if data is None:
        return []  # an empty document (a trailing ---) is fine
    if not _entity_shaped(data):
        return []  # a manifest or another tool's YAML (several top-level keys): not an entity
    problems = [_unknown_kind(document, key) for key in data if key not in KINDS]
    known = [key for key in data if key in KINDS]
    if len(known) > 1:
        line = document.line_of((known[1],))
        problems.append(
            Problem(
                f"{document.file}:{line}",
                known[1],
                f"one entity per YAML document; this document already holds a {known[0]} (split with ---)",
            )
        )
    if not known:
        return problems
    kind = known[0]
    body = data[kind]
    origins = None
    if kind == "pipeline" and uses_templates(body):
        body, origins, template_problems = resolve_pipeline(project, document, body)
        if template_problems:
            _broken(project, body)
            return problems + _owned(project, kind, body, template_problems)
    try:
        entity = _adapter(kind).validate_python(body)
    except ValidationError as error:
        _broken(project, body)
        model = _model_for(kind, body)
        found = problems_from_validation(error, body, root=kind, locate=_locator(document), model=model)
        found = origins.translate(found) if origins else found
        return problems + _owned(project, kind, body, found)
    entity.located(document.file, document.line_of((kind,)), {kind: body}, document.line_of)
    if origins is not None:
        entity.written_at(origins.where, {kind: data[kind]})
    return problems + _owned(project, kind, body, _register(project, kind, entity))


def _owned(project: Project, kind: str, body: Any, problems: list[Problem]) -> list[Problem]:
    """Mark the problems of a pipeline's own documents with its identifier."""
    owner = _pipeline_of(kind, body)
    if owner is not None:
        project.pipeline_owned.update(dict.fromkeys(problems, owner))
    return problems


def _pipeline_of(kind: str, body: Any) -> str | None:
    if not isinstance(body, dict):
        return None
    if kind == "pipeline":
        value = body.get("identifier")
    elif kind == "inputSet":
        pipeline = body.get("pipeline")
        value = pipeline.get("identifier") if isinstance(pipeline, dict) else None
    elif kind == "trigger":
        value = body.get("pipelineIdentifier")
    else:
        return None
    return str(value) if value is not None else ""


def _broken(project: Project, body: object) -> None:
    if isinstance(body, dict) and isinstance(body.get("identifier"), str):
        project.broken.add(body["identifier"])


def _unknown_kind(document: Document, key: object) -> Problem:
    """An entity-shaped document of a kind Corral does not know is an error, never skipped: a
    misspelt or unsupported document would otherwise change nothing without a word."""
    where = f"{document.file}:{document.line_of((str(key),))}"
    guess = _near_kind(key)
    if isinstance(key, str) and key in HARNESS_KINDS_NOT_SUPPORTED:
        return Problem(where, key, f"unsupported kind '{key}': {HARNESS_KINDS_NOT_SUPPORTED[key]}")
    if guess:
        return Problem(where, str(key), f"unknown kind; did you mean '{guess}'?")
    return Problem(
        where,
        str(key),
        f"unknown kind '{key}': Corral knows {', '.join(KINDS)} "
        "(YAML that is not Corral's belongs under files/ or in corral.yaml's `ignore`)",
    )


def _entity_shaped(data: object) -> bool:
    """True for a document shaped like an entity, whatever its kind: one top-level key holding
    a mapping (`overrides: {...}`, `template: {...}`), or any known kind or near miss of one
    among its keys. Other YAML (a task definition, a Helm chart, a compose file) is not judged."""
    if not isinstance(data, dict) or not data:
        return False
    if any(key in KINDS or _near_kind(key) for key in data):
        return True
    return len(data) == 1 and isinstance(next(iter(data.values())), dict)


def _near_kind(key: object) -> str | None:
    """The entity kind a top-level key was probably meant to be (`Service`, `servce`)."""
    if not isinstance(key, str):
        return None
    for kind in KINDS:
        if key.lower() == kind.lower():
            return kind
    close = difflib.get_close_matches(key, list(KINDS), n=1, cutoff=0.75)
    return close[0] if close else None


def _model_for(kind: str, body: Any) -> type[BaseModel] | None:
    model = pick_model(KINDS[kind], body)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _register(project: Project, kind: str, entity: Any) -> list[Problem]:
    table: dict[Any, Any]
    key: Any = entity.identifier
    if kind == "service":
        table = project.services
    elif kind == "environment":
        table = project.environments
    elif kind == "infrastructureDefinition":
        table, key = project.infrastructures, (entity.environment_ref, entity.identifier)
    elif kind == "connector":
        table = project.connectors
    elif kind == "secret":
        table = project.secrets
    elif kind == "pipeline":
        table = project.pipelines
    elif kind == "trigger":
        table = project.triggers
    elif kind in ("overrides", "serviceOverrides"):
        return _register_overrides(project, entity)
    elif kind == "template":
        table, key = project.templates, (entity.identifier, entity.version_label)
    else:
        table, key = project.input_sets, (entity.pipeline.identifier, entity.identifier)
    if key in table:
        first = table[key]
        scope = f" in environment '{key[0]}'" if kind == "infrastructureDefinition" else ""
        scope = f" for pipeline '{key[0]}'" if kind == "inputSet" else scope
        scope = f" with versionLabel '{key[1]}'" if kind == "template" else scope
        return [
            Problem(
                entity.where((kind, "identifier")),
                format_path((kind, "identifier")),
                f"duplicate {kind} identifier '{entity.identifier}'{scope}: "
                f"already defined in {first.file}:{first.line}",
            )
        ]
    table[key] = entity
    return []


def _register_overrides(project: Project, document: OverrideDocument) -> list[Problem]:
    """One override document per type, target and scope, as Harness keeps one per identifier."""
    for first in project.override_documents:
        if (first.override_type, first.target(), first.scope_rank) == (
            document.override_type,
            document.target(),
            document.scope_rank,
        ):
            return [
                Problem(
                    document.where((document.kind,)),
                    document.kind,
                    f"a second {document.override_type} for the same "
                    f"{_target_text(document)}: already defined in {first.where()}; merge them",
                )
            ]
    project.override_documents.append(document)
    return []


def _target_text(document: OverrideDocument) -> str:
    env, service, infra = document.target()
    parts = [f"environment '{env}'"]
    if service:
        parts.append(f"service '{service}'")
    if infra:
        parts.append(f"infrastructure '{infra}'")
    return ", ".join(parts)
