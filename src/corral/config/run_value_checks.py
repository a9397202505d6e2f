"""Manifest expressions a running pipeline answers, checked against the pipelines that deploy
the service: `<+pipeline.variables.x>` needs `x` among the pipeline's `variables`.

Rendering keeps such expressions as written (manifests/service_rendering.py RUNTIME_ROOTS); the
stage's ECS steps fill them in from the run's values, and one without a value fails the step
before anything changes in AWS (tests/e2e/test_manifest_run_values.py). So a pipeline that
deploys the service and does not declare the variable fails every run at that step: a problem,
named at the manifest, listing those pipelines. A pipeline whose stage picks its service through
an open input (`serviceRef: <+input>` without allowed values) may never deploy this one: only a
warning then.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

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
    """One `<+pipeline.variables.NAME>` in a rendered manifest."""

    service: str
    source: str  # the manifest file, as rendering names it
    path: str  # inside the request
    name: str


@dataclass
class _Users:
    """The pipelines that deploy a service, and whether each names it or takes any service."""

    named: dict[str, Pipeline] = field(default_factory=dict)
    any_service: dict[str, Pipeline] = field(default_factory=dict)


def pipeline_variable_findings(
    project: Project, rendered: Mapping[Triple, RenderedService]
) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings): each pipeline variable a manifest reads that a pipeline deploying
    the service does not declare."""
    reads = {read: None for triple, service in rendered.items() for read in _reads(triple[0], service)}
    users = _users(project, set(rendered))
    problems, warnings = [], []
    for read in reads:
        lacking = users.get(read.service, _Users())
        named = sorted(i for i, p in lacking.named.items() if read.name not in _declared(p))
        open_only = sorted(
            i
            for i, p in lacking.any_service.items()
            if read.name not in _declared(p) and i not in lacking.named
        )
        if named:
            problems.append(_finding(read, named, project))
        elif open_only:
            warnings.append(_finding(read, open_only, project, maybe=True))
    return problems, warnings


def _reads(service: str, rendered: RenderedService) -> Iterator[_Read]:
    for manifest in rendered.manifests():
        for parts, text in string_leaves(manifest.request):
            if "pipeline" not in text or "<+" not in text:
                continue
            try:
                template = parse(text)
            except ExpressionError:
                continue  # reported where the manifest is rendered
            for name in dict.fromkeys(_variable_names(template)):
                yield _Read(service, manifest.source, format_path(parts), name)


def _variable_names(node: object) -> Iterator[str]:
    """Every NAME of `pipeline.variables.NAME` (or `pipeline.variables["NAME"]`) in a parsed template."""
    if isinstance(node, n.Attr | n.Index) and _is_pipeline_variables(node.target):
        key = node.name if isinstance(node, n.Attr) else node.key
        if isinstance(key, str):
            yield key
        elif isinstance(key, n.Literal) and isinstance(key.value, str):
            yield key.value
    if isinstance(node, n.Template):
        children: tuple[object, ...] = node.parts
    elif hasattr(node, "__dataclass_fields__"):
        children = tuple(getattr(node, f) for f in node.__dataclass_fields__)
    else:
        children = ()
    for child in children:
        if isinstance(child, tuple):
            for item in child:
                yield from _variable_names(item)
        else:
            yield from _variable_names(child)


def _is_pipeline_variables(node: object) -> bool:
    return (
        isinstance(node, n.Attr)
        and node.name == "variables"
        and isinstance(node.target, n.Var)
        and node.target.name == "pipeline"
    )


def _users(project: Project, triples: set[Triple]) -> dict[str, _Users]:
    users: dict[str, _Users] = {}
    for identifier, pipeline in project.pipelines.items():
        stages = pipeline.all_stages()
        by_id = {stage.identifier: stage for _, stage in stages}
        for _, stage in stages:
            if not isinstance(stage, DeploymentStage):
                continue
            for service, _, _ in stage_targets(project, stage, by_id) & triples:
                entry = users.setdefault(service, _Users())
                table = entry.any_service if picks_any_service(stage, by_id) else entry.named
                table[identifier] = pipeline
    return users


def _declared(pipeline: Pipeline) -> set[str]:
    return {str(v.get("name")) for v in pipeline.variables or [] if isinstance(v, dict)}


def _finding(read: _Read, pipelines: list[str], project: Project, *, maybe: bool = False) -> Problem:
    named = ", ".join(f"'{i}' ({project.pipelines[i].file})" for i in pipelines)
    several = len(pipelines) > 1
    text = (
        f"reads pipeline variable '{read.name}', which pipeline{'s' if several else ''} {named} "
        f"{'do' if several else 'does'} not declare"
    )
    if maybe:
        return Problem(
            read.source,
            read.path,
            f"{text}; {'they deploy' if several else 'it deploys'} whichever service the serviceRef input "
            f"names, and a run that deploys service '{read.service}' fails its ECS steps there "
            f"(declare '{read.name}' under pipeline.variables)",
        )
    return Problem(
        read.source,
        read.path,
        f"{text}: a run fails the stage's ECS steps before they change anything "
        f"(declare '{read.name}' under pipeline.variables)",
    )
