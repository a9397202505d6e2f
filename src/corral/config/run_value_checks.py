"""Manifest expressions a running pipeline answers, checked against the pipelines that deploy
the service: `<+pipeline.variables.x>` needs `x` among the pipeline's `variables`, and
`<+stage.variables.x>` among those of each stage that deploys it.

Rendering keeps such expressions as written (manifests/service_rendering.py RUNTIME_ROOTS); the
stage's ECS steps fill them in from the run's values, and one without a value fails the step
before anything changes in AWS (tests/e2e/test_manifest_run_values.py). So a pipeline that
deploys the service and does not declare the variable fails every run at that step: a problem,
named at the manifest, listing those pipelines. A pipeline whose stage picks its service through
an open input (`serviceRef: <+input>` without allowed values) may never deploy this one: only a
warning then. The start of a run checks the stages it runs the same way (undeclared_reads,
called from engine/pipeline_checks.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from corral.errors import ExpressionError, Problem, format_path
from corral.expressions import nodes as n
from corral.expressions.parser import parse
from corral.expressions.scan import string_leaves
from corral.manifests.service_rendering import RenderedService

from .entities.pipeline import DeploymentStage, Pipeline
from .project import Project
from .targets import picks_any_service, stage_targets

Triple = tuple[str, str, str]  # (service, environment, infrastructure)


@dataclass(frozen=True)
class _Read:
    """One `<+pipeline.variables.NAME>` or `<+stage.variables.NAME>` in a rendered manifest."""

    service: str
    source: str  # the manifest file, as rendering names it
    path: str  # inside the request
    scope: str  # "pipeline" or "stage"
    name: str


@dataclass(frozen=True)
class _User:
    """A Deployment stage that deploys the service, and whether it takes any service."""

    pipeline_id: str
    pipeline: Pipeline
    stage: DeploymentStage
    any_service: bool

    def declares(self, read: _Read) -> bool:
        if read.scope == "pipeline":
            return read.name in _names(self.pipeline.variables)
        return read.name in _names(self.stage.variables or self.stage.spec.variables)

    def label(self, read: _Read) -> str:
        where = f"'{self.pipeline_id}' ({self.pipeline.file})"
        return where if read.scope == "pipeline" else f"'{self.stage.identifier}' of pipeline {where}"


def pipeline_variable_findings(
    project: Project, rendered: Mapping[Triple, RenderedService]
) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings): each pipeline or stage variable a manifest reads that a pipeline
    (or stage) deploying the service does not declare."""
    reads = {read: None for triple, service in rendered.items() for read in _reads(triple[0], service)}
    users = _users(project, set(rendered))
    problems, warnings = [], []
    for read in reads:
        lacking = [u for u in users.get(read.service, []) if not u.declares(read)]
        named = sorted({u.label(read) for u in lacking if not u.any_service})
        open_only = sorted({u.label(read) for u in lacking if u.any_service} - set(named))
        if named:
            problems.append(_finding(read, named))
        elif open_only:
            warnings.append(_finding(read, open_only, maybe=True))
    return problems, warnings


def undeclared_reads(
    rendered: RenderedService, pipeline_variables: set[str], stage_variables: set[str]
) -> list[Problem]:
    """The start of a run: each variable the stage's rendered manifests read that its pipeline
    (or the stage) does not declare."""
    problems = []
    for read in dict.fromkeys(_reads(rendered.service, rendered)):
        declared = pipeline_variables if read.scope == "pipeline" else stage_variables
        if read.name not in declared:
            listed = ", ".join(sorted(declared)) or "none"
            problems.append(
                Problem(
                    read.source,
                    read.path,
                    f"reads {read.scope} variable '{read.name}', which the {read.scope} does not declare "
                    f"(it has: {listed}); the stage's ECS steps would fail before they change anything",
                )
            )
    return problems


def _reads(service: str, rendered: RenderedService) -> Iterator[_Read]:
    for manifest in rendered.manifests():
        for parts, text in string_leaves(manifest.request):
            if "variables" not in text or "<+" not in text:
                continue
            try:
                template = parse(text)
            except ExpressionError:
                continue  # reported where the manifest is rendered
            for scope, name in dict.fromkeys(_variable_names(template)):
                yield _Read(service, manifest.source, format_path(parts), scope, name)


def _variable_names(node: object) -> Iterator[tuple[str, str]]:
    """(scope, NAME) of every `pipeline.variables.NAME` and `stage.variables.NAME` (or
    `...variables["NAME"]`) in a parsed template."""
    if isinstance(node, n.Attr | n.Index) and (scope := _variables_scope(node.target)) is not None:
        key = node.name if isinstance(node, n.Attr) else node.key
        if isinstance(key, str):
            yield scope, key
        elif isinstance(key, n.Literal) and isinstance(key.value, str):
            yield scope, key.value
    if isinstance(node, n.Template):
        children: tuple[object, ...] = node.parts
    elif hasattr(node, "__dataclass_fields__"):
        children = tuple(getattr(node, f) for f in node.__dataclass_fields__)
    else:
        children = ()
    for child in children:
        for item in child if isinstance(child, tuple) else (child,):
            yield from _variable_names(item)


def _variables_scope(node: object) -> str | None:
    """ "pipeline" for `pipeline.variables`, "stage" for `stage.variables`, else None."""
    if isinstance(node, n.Attr) and node.name == "variables" and isinstance(node.target, n.Var):
        return node.target.name if node.target.name in ("pipeline", "stage") else None
    return None


def _users(project: Project, triples: set[Triple]) -> dict[str, list[_User]]:
    users: dict[str, list[_User]] = {}
    for identifier, pipeline in project.pipelines.items():
        stages = pipeline.all_stages()
        by_id = {stage.identifier: stage for _, stage in stages}
        for _, stage in stages:
            if not isinstance(stage, DeploymentStage):
                continue
            any_service = picks_any_service(stage, by_id)
            for service in {t[0] for t in stage_targets(project, stage, by_id) & triples}:
                users.setdefault(service, []).append(_User(identifier, pipeline, stage, any_service))
    return users


def _names(variables: list[dict[str, Any]] | None) -> set[str]:
    return {str(v.get("name")) for v in variables or [] if isinstance(v, dict)}


def _finding(read: _Read, labels: list[str], *, maybe: bool = False) -> Problem:
    several = len(labels) > 1
    kind = f"{read.scope}{'s' if several else ''}"
    text = (
        f"reads {read.scope} variable '{read.name}', which {kind} {', '.join(labels)} "
        f"{'do' if several else 'does'} not declare"
    )
    declare = "pipeline.variables" if read.scope == "pipeline" else "the stage's variables"
    if maybe:
        return Problem(
            read.source,
            read.path,
            f"{text}; {'they deploy' if several else 'it deploys'} whichever service the serviceRef input "
            f"names, and a run that deploys service '{read.service}' fails its ECS steps there "
            f"(declare '{read.name}' under {declare})",
        )
    return Problem(
        read.source,
        read.path,
        f"{text}: a run fails the stage's ECS steps before they change anything "
        f"(declare '{read.name}' under {declare})",
    )
