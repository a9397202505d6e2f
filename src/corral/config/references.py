"""Dangling and mistyped references between entities: every `...Ref` must name something.

References that are runtime inputs (`<+input>`) or expressions are checked when they get a
value (at render or run time), not here.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from corral.errors import Problem, format_path

from .entities.common import Document, Variable, is_expression, strip_scope
from .entities.connector import AwsConnector, DockerRegistryConnector, GitConnector, GithubConnector
from .entities.connector import connector_secret_refs as _connector_secret_refs
from .entities.overrides import OverrideDocument, Overrides, ServiceOverrides
from .entities.pipeline import DeploymentStage, EnvironmentConfig, Pipeline, StepElement
from .entities.service import ArtifactSource, ManifestEntry
from .entities.stores import GitStore, S3Store
from .problems import split_path
from .provisioner_checks import check_provisioners

if TYPE_CHECKING:
    from .project import Project

Path = tuple[str | int, ...]

_STORE_CONNECTORS: dict[type, tuple[type, ...]] = {
    GitStore: (GitConnector, GithubConnector),
    S3Store: (AwsConnector,),
}
_ARTIFACT_CONNECTORS = {"DockerRegistry": (DockerRegistryConnector,), "Ecr": (AwsConnector,)}
_CONNECTOR_TYPE_NAMES: dict[type, str] = {
    AwsConnector: "Aws",
    DockerRegistryConnector: "DockerRegistry",
    GitConnector: "Git",
    GithubConnector: "Github",
}


class ReferenceChecker:
    def __init__(self, project: Project) -> None:
        self.project = project
        self.problems: list[Problem] = []

    def report(self, entity: Document, path: Path, message: str) -> None:
        self.problems.append(Problem(entity.where(path), format_path(path), message))

    def missing(self, entity: Document, path: Path, kind: str, ref: str, known: Iterable[str]) -> None:
        if ref in self.project.broken:
            return  # that entity's own problems are reported
        names = sorted(set(known))
        close = difflib.get_close_matches(ref, names, n=1, cutoff=0.6)
        if close:
            hint = f"; did you mean '{close[0]}'?"
        elif names:
            hint = f"; the project has {', '.join(names)}"
        else:
            hint = "; the project has none"
        self.report(entity, path, f"{kind} '{ref}' not found{hint}")

    def connector(self, entity: Document, path: Path, ref: str, allowed: tuple[type, ...]) -> None:
        if is_expression(ref):
            return
        connector = self.project.connector(ref)
        if connector is None:
            self.missing(entity, path, "connector", ref, self.project.connectors)
        elif not isinstance(connector, allowed):
            wanted = " or ".join(_CONNECTOR_TYPE_NAMES[t] for t in allowed)
            actual = _CONNECTOR_TYPE_NAMES[type(connector)]
            self.report(entity, path, f"expected a connector of type {wanted}; '{ref}' is of type {actual}")

    def secret(self, entity: Document, path: Path, ref: str) -> None:
        if not is_expression(ref) and self.project.secret(ref) is None:
            self.missing(entity, path, "secret", ref, self.project.secrets)

    def variables(self, entity: Document, path: Path, variables: list[Variable]) -> None:
        for index, variable in enumerate(variables):
            if variable.type == "Secret" and isinstance(variable.value, str):
                self.secret(entity, (*path, index, "value"), variable.value)

    def manifests(self, entity: Document, path: Path, entries: list[ManifestEntry]) -> None:
        for index, entry in enumerate(entries):
            store = entry.manifest.spec.store
            allowed = _STORE_CONNECTORS.get(type(store))
            if allowed and isinstance(store, GitStore | S3Store):
                where = (*path, index, "manifest", "spec", "store", "spec", "connectorRef")
                self.connector(entity, where, store.spec.connector_ref, allowed)

    def artifacts(self, entity: Document, path: Path, sources: list[ArtifactSource]) -> None:
        for index, source in enumerate(sources):
            self.connector(
                entity,
                (*path, index, "spec", "connectorRef"),
                source.spec.connector_ref,
                _ARTIFACT_CONNECTORS[source.type],
            )

    def overrides(self, entity: Document, path: Path, overrides: Overrides | None) -> None:
        if overrides is None:
            return
        self.variables(entity, (*path, "variables"), overrides.variables)
        self.manifests(entity, (*path, "manifests"), overrides.manifests)

    def service_overrides(self, entity: Document, path: Path, items: list[ServiceOverrides]) -> None:
        for index, item in enumerate(items):
            if not is_expression(item.service_ref) and item.service_ref not in self.project.services:
                self.missing(
                    entity, (*path, index, "serviceRef"), "service", item.service_ref, self.project.services
                )
            self.overrides(entity, (*path, index), item)


def override_references(check: ReferenceChecker, document: OverrideDocument) -> None:
    """An override document must apply to something: a dangling environmentRef, serviceRef or
    infraIdentifier would otherwise change nothing, without a word."""
    project = check.project
    root: Path = (document.kind,)
    env, service, infra = document.target()
    env_known = is_expression(document.environment_ref) or env in project.environments
    if not env_known:
        check.missing(document, (*root, "environmentRef"), "environment", env, project.environments)
    if service and not is_expression(service) and service not in project.services:
        check.missing(document, (*root, "serviceRef"), "service", service, project.services)
    if infra and env_known and not is_expression(infra) and (env, infra) not in project.infrastructures:
        known = [i.identifier for i in project.infrastructures_of(env)]
        check.missing(document, (*root, "infraIdentifier"), f"infrastructure of '{env}'", infra, known)
    check.overrides(document, document.spec_path, document.overrides)
    for path in _runtime_inputs(document.raw, ()):
        check.report(
            document,
            path,
            "runtime inputs (<+input>) are not supported in override documents (Harness refuses them in "
            "Infrastructure Specific ones): give the value, or make the service's own variable <+input>",
        )


def _runtime_inputs(value: object, path: Path) -> list[Path]:
    if isinstance(value, str):
        return [path] if value.strip().startswith("<+input>") else []
    if isinstance(value, dict):
        return [p for key, item in value.items() for p in _runtime_inputs(item, (*path, str(key)))]
    if isinstance(value, list):
        return [p for index, item in enumerate(value) for p in _runtime_inputs(item, (*path, index))]
    return []


def reference_problems(project: Project, *, owners: dict[Problem, str] | None = None) -> list[Problem]:
    """Every reference that names nothing, or names the wrong kind of connector. owners: the
    problems of a pipeline, its input sets and triggers are marked there with its identifier."""
    check = ReferenceChecker(project)
    owners = {} if owners is None else owners

    def owned_by(pipeline_id: str, since: int) -> None:
        owners.update(dict.fromkeys(check.problems[since:], pipeline_id))

    for service in project.services.values():
        spec = service.service_definition.spec
        base: Path = ("service", "serviceDefinition", "spec")
        check.manifests(service, (*base, "manifests"), [e for e in spec.manifests])
        check.variables(service, (*base, "variables"), spec.variables)
        if spec.artifacts and spec.artifacts.primary:
            check.artifacts(
                service, (*base, "artifacts", "primary", "sources"), spec.artifacts.primary.sources
            )
    for env in project.environments.values():
        check.variables(env, ("environment", "variables"), env.variables)
        check.overrides(env, ("environment", "overrides"), env.overrides)
        check.service_overrides(env, ("environment", "serviceOverrides"), env.service_overrides)
    for infra in project.infrastructures.values():
        root: Path = ("infrastructureDefinition",)
        if infra.environment_ref not in project.environments:
            check.missing(
                infra, (*root, "environmentRef"), "environment", infra.environment_ref, project.environments
            )
        check.connector(infra, (*root, "spec", "connectorRef"), infra.spec.connector_ref, (AwsConnector,))
        check.overrides(infra, (*root, "overrides"), infra.overrides)
        check.service_overrides(infra, (*root, "serviceOverrides"), infra.service_overrides)
    for document in project.override_documents:
        override_references(check, document)
    for connector in project.connectors.values():
        for where, ref in _connector_secret_refs(connector):
            check.secret(connector, ("connector", "spec", *split_path(where)), ref)
    for pipeline in project.pipelines.values():
        since = len(check.problems)
        pipeline_references(check, pipeline)
        owned_by(pipeline.identifier, since)
    for input_set in project.input_sets.values():
        ref = input_set.pipeline.identifier
        if ref not in project.pipelines:
            since = len(check.problems)
            check.missing(
                input_set, ("inputSet", "pipeline", "identifier"), "pipeline", ref, project.pipelines
            )
            owned_by(ref, since)
    for trigger in project.triggers.values():
        since = len(check.problems)
        if trigger.pipeline_identifier not in project.pipelines:
            path: Path = ("trigger", "pipelineIdentifier")
            check.missing(trigger, path, "pipeline", trigger.pipeline_identifier, project.pipelines)
        if trigger.service_ref is not None and strip_scope(trigger.service_ref) not in project.services:
            path = ("trigger", "serviceRef")
            check.missing(trigger, path, "service", trigger.service_ref, project.services)
        if trigger.source is not None and project.connector(trigger.source.spec.spec.connector_ref) is None:
            path = ("trigger", "source", "spec", "spec", "connectorRef")
            ref = trigger.source.spec.spec.connector_ref
            check.missing(trigger, path, "connector", ref, project.connectors)
        owned_by(trigger.pipeline_identifier, since)
    return check.problems


def pipeline_references(check: ReferenceChecker, pipeline: Pipeline) -> None:
    project = check.project
    stage_ids: dict[str, str] = {}
    for where, stage in pipeline.all_stages():
        path = split_path(where)
        if stage.identifier in stage_ids:
            check.report(
                pipeline,
                (*path, "identifier"),
                f"duplicate stage identifier '{stage.identifier}': already used by {stage_ids[stage.identifier]}",
            )
        stage_ids.setdefault(stage.identifier, where)
        if not isinstance(stage, DeploymentStage):
            continue
        spec = stage.spec
        if spec.service and spec.service.service_ref and not is_expression(spec.service.service_ref):
            ref = spec.service.service_ref
            if ref not in project.services:
                check.missing(
                    pipeline, (*path, "spec", "service", "serviceRef"), "service", ref, project.services
                )
        if spec.service and spec.service.use_from_stage:
            ref = spec.service.use_from_stage.get("stage", "")
            if ref not in stage_ids:
                check.report(
                    pipeline,
                    (*path, "spec", "service", "useFromStage", "stage"),
                    f"stage '{ref}' not found before this stage",
                )
        if spec.environment:
            _environment_references(check, pipeline, (*path, "spec", "environment"), spec.environment)
            check_provisioners(check, pipeline, (*path, "spec", "environment"), spec.environment)
        step_ids: dict[str, Path] = {}
        if spec.environment and spec.environment.provisioner:  # one namespace with the execution's
            provisioner = spec.environment.provisioner
            at = (*path, "spec", "environment", "provisioner")
            _step_identifiers(check, pipeline, (*at, "steps"), provisioner.steps, step_ids)
            _step_identifiers(check, pipeline, (*at, "rollbackSteps"), provisioner.rollback_steps, step_ids)
        _step_identifiers(
            check, pipeline, (*path, "spec", "execution", "steps"), spec.execution.steps, step_ids
        )
        _step_identifiers(
            check,
            pipeline,
            (*path, "spec", "execution", "rollbackSteps"),
            spec.execution.rollback_steps,
            step_ids,
        )


def _environment_references(
    check: ReferenceChecker, pipeline: Pipeline, path: Path, environment: EnvironmentConfig
) -> None:
    project = check.project
    env_ref = environment.environment_ref
    if is_expression(env_ref):
        return
    if env_ref not in project.environments:
        check.missing(pipeline, (*path, "environmentRef"), "environment", env_ref, project.environments)
        return
    infras = environment.infrastructure_definitions
    if not isinstance(infras, list):
        return
    known = [infra.identifier for infra in project.infrastructures_of(env_ref)]
    for index, item in enumerate(infras):
        if not is_expression(item.identifier) and item.identifier not in known:
            check.missing(
                pipeline,
                (*path, "infrastructureDefinitions", index, "identifier"),
                f"infrastructure definition (of environment '{env_ref}')",
                item.identifier,
                known,
            )


def _step_identifiers(
    check: ReferenceChecker,
    pipeline: Pipeline,
    path: Path,
    elements: list[StepElement],
    seen: dict[str, Path],
) -> None:
    for index, element in enumerate(elements):
        here: Path = (*path, index)
        if element.step is not None:
            _unique_step(check, pipeline, (*here, "step"), element.step.identifier, seen)
        elif element.step_group is not None:
            group = element.step_group
            _unique_step(check, pipeline, (*here, "stepGroup"), group.identifier, seen)
            _step_identifiers(check, pipeline, (*here, "stepGroup", "steps"), group.steps, seen)
            _step_identifiers(
                check, pipeline, (*here, "stepGroup", "rollbackSteps"), group.rollback_steps, seen
            )
        elif element.parallel is not None:
            _step_identifiers(check, pipeline, (*here, "parallel"), element.parallel, seen)


def _unique_step(
    check: ReferenceChecker, pipeline: Pipeline, path: Path, identifier: str, seen: dict[str, Path]
) -> None:
    if identifier in seen:
        check.report(
            pipeline,
            (*path, "identifier"),
            f"duplicate step identifier '{identifier}' in this stage: already used by {format_path(seen[identifier])}",
        )
    else:
        seen[identifier] = path
