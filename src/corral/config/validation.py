"""Validate a whole project: load it, then render every service on every infrastructure.

Each service is rendered on every infrastructure it can be deployed to (targets.py),
with runtime inputs treated as satisfiable (a default or an allowed value when there is
one; otherwise a stand-in of the field's type, so the manifest around it is still checked,
and nothing is reported about the field itself) and secret values not read (only their
existence is checked). The report lists every runtime input a run will ask for. Pipelines and input sets are
checked against the entities they name, a stage's steps against the strategy of the services
it deploys as rendered (native_stage_steps.py), and the pipeline variables a manifest reads
against the pipelines that deploy it (run_value_checks.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from corral.errors import ConfigError, ExpressionError, Problem, format_path
from corral.expressions import parse
from corral.expressions.scan import string_leaves
from corral.manifests.native_rules import native_strategy
from corral.manifests.service_rendering import RenderedService, RenderOptions, render_outcome

from .input_listing import InputLine, pipeline_input_lines, unique_lines
from .input_sets import input_set_problems
from .native_stage_steps import NativeService, Triple, native_stage_step_problems
from .project import Project, read_project
from .run_value_checks import pipeline_variable_findings
from .script_checks import script_problems
from .targets import deployment_targets
from .templates import template_problems


@dataclass
class ValidationReport:
    project: Project
    problems: list[Problem] = field(default_factory=list)
    # unknown manifest fields (not sent to AWS; errors with --strict) and the info lines of
    # manifests pasted from describe output
    warnings: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    renders: int = 0
    manifests: int = 0
    remote_skipped: int = 0
    seconds: float = 0.0
    inputs: list[InputLine] = field(default_factory=list)  # what a run will ask for

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        project = self.project
        entities = sum(1 for _ in project.entities())
        text = (
            f"{project.name}: {entities} entities in {project.files_scanned} files; "
            f"{len(project.services)} services rendered for {self.renders} service/infrastructure pairs "
            f"({self.manifests} manifests)"
        )
        if self.remote_skipped:
            text += f"; {self.remote_skipped} Git/S3 manifests not fetched (--offline)"
        if self.warnings:
            text += f"; {len(self.warnings)} warning(s)"
        return text


def validate_project(
    root: Path | str,
    *,
    offline: bool = False,
    pipeline_checks: Callable[[Project], list[Problem]] | None = None,
) -> ValidationReport:
    """Every problem in the project; never raises ConfigError for project content.
    pipeline_checks: what the engine checks in every pipeline (its plan, every step's spec;
    engine/pipeline_checks.py), given by the caller so that config/ needs no engine."""
    started = time.perf_counter()
    project, problems = read_project(root)
    report = ValidationReport(project)
    if pipeline_checks is not None:
        problems += pipeline_checks(project)
    problems += expression_syntax_problems(project)
    problems += input_set_problems(project)
    problems += script_problems(project)
    problems += template_problems(project)  # each template alone, and the stable versions named
    pipeline_inputs, default_problems = pipeline_input_lines(project)
    problems += default_problems
    inputs = list(pipeline_inputs)
    warnings: list[Problem] = []
    notes: list[Problem] = []
    options = RenderOptions(satisfiable=True, offline=offline, fetched={})
    rendered: dict[Triple, RenderedService] = {}
    for service_id, targets in deployment_targets(project).items():
        for env_id, infra_id in targets:
            outcome = render_outcome(project, service_id, env_id, infra_id, options=options)
            report.renders += 1
            report.manifests += outcome.manifests
            report.remote_skipped += outcome.remote_skipped
            problems += outcome.problems
            inputs += outcome.inputs
            warnings += outcome.warnings
            notes += outcome.notes
            if outcome.rendered is not None:
                rendered[(service_id, env_id, infra_id)] = outcome.rendered
    problems += native_stage_step_problems(project, _native_services(rendered))
    variable_problems, variable_warnings = pipeline_variable_findings(project, rendered)
    problems += variable_problems
    warnings += variable_warnings
    report.inputs = unique_lines(inputs)
    report.problems = _unique(problems)
    report.warnings = _unique(warnings)
    report.notes = _unique(notes)
    report.seconds = time.perf_counter() - started
    return report


def expression_syntax_problems(project: Project) -> list[Problem]:
    """Every expression in the entities' YAML must parse, even where nothing renders it yet
    (pipelines are interpreted later, at run time)."""
    problems: list[Problem] = []
    for _kind, entity in project.entities():
        for parts, text in string_leaves(entity.raw, ()):
            if "<+" not in text and "${" not in text:
                continue
            if not entity.where(parts).startswith(f"{entity.file}:"):
                continue  # written in a template the pipeline uses: checked there, once
            try:
                parse(text)
            except ExpressionError as error:
                where = format_path(parts)
                message = error.detail if error.expression else f"{error.detail} in '{text}'"
                if error.expression and error.expression not in message:
                    message += f" in '{error.expression}'"
                problems.append(Problem(entity.where(parts), where, message))
    return problems


def check_project(root: Path | str, *, offline: bool = False) -> ValidationReport:
    """validate_project, raising ConfigError when there is any problem."""
    report = validate_project(root, offline=offline)
    if report.problems:
        raise ConfigError(report.problems)
    return report


def _native_services(rendered: dict[Triple, RenderedService]) -> dict[Triple, NativeService]:
    """The rendered service definitions ECS deploys with its own strategy, by target."""
    found = {}
    for triple, service in rendered.items():
        definition = service.service_definition
        strategy = native_strategy(definition.request) if definition else None
        if definition and strategy:
            found[triple] = NativeService(strategy, definition.source)
    return found


def _unique(problems: list[Problem]) -> list[Problem]:
    """The same problem found on several infrastructures is reported once."""
    seen: set[Problem] = set()
    out = []
    for problem in problems:
        if problem not in seen:
            seen.add(problem)
            out.append(problem)
    return out
