"""Everything about a pipeline that can be checked before anything runs, without AWS.

    problems = pipeline_problems(project, "deploy")        # corral validate (inputs: stand-ins)
    problems = step_problems(plan, pipeline)               # corral plan, the start of corral run

Its plan (durations, failure strategies, `when`), and every step against its type's spec model
(engine/step_specs.py) and implementation (engine/steps.py's registry).
"""

from __future__ import annotations

from corral.config.entities.pipeline import Pipeline
from corral.config.native_stage_steps import OWN_SERVICE_STEPS, NativeService, own_service_steps_message
from corral.config.problems import split_path
from corral.config.project import Project
from corral.config.run_value_checks import undeclared_reads
from corral.config.stage_inputs import fixed_inputs
from corral.errors import ConfigError, Problem
from corral.manifests.native_rules import native_strategy
from corral.manifests.service_rendering import RenderedService

from .inputs import pipeline_inputs
from .plan import PipelinePlan, StageNode, plan_with_problems, walk_steps
from .step_specs import check_steps
from .steps import registered_types, spec_models


def step_problems(plan: PipelinePlan, pipeline: Pipeline) -> list[Problem]:
    """Every step of plan against its type's spec model; a type without an implementation."""
    return check_steps(
        plan,
        locate=pipeline.where,
        specs=spec_models(),
        implemented=frozenset(registered_types()),
    )


def pipeline_problems(project: Project, pipeline_id: str) -> list[Problem]:
    """The problems of one pipeline, its run-time inputs given stand-ins (as `corral plan` does)."""
    try:
        filled = pipeline_inputs(project, pipeline_id, satisfiable=True)
    except ConfigError as error:
        return error.problems
    plan, problems = plan_with_problems(filled.raw, file=filled.pipeline.file)
    problems += stage_input_problems(project, plan, filled.pipeline)
    return [_located(problem, filled.pipeline) for problem in problems] + step_problems(plan, filled.pipeline)


def stage_input_problems(project: Project, plan: PipelinePlan, pipeline: Pipeline) -> list[Problem]:
    """The fixed serviceInputs, environmentInputs, ... of every stage name inputs its entities have."""
    problems = []
    for stage in plan.all_stages:
        target = stage.target
        if target is None or target.service is None or not target.inputs:
            continue
        _, found = fixed_inputs(
            project,
            target.inputs,
            target.service,
            target.environment,
            target.infrastructure or "",
            file=pipeline.file,
        )
        problems += found
    return problems


def native_stage_problems(
    stage: StageNode, rendered: RenderedService | None, pipeline: Pipeline
) -> list[Problem]:
    """The start of a run: a stage whose service, as rendered, ECS deploys with its own strategy,
    and whose steps make services of their own (config/native_stage_steps.py; validate says the
    same of every pipeline)."""
    definition = rendered.service_definition if rendered else None
    strategy = native_strategy(definition.request) if definition else None
    steps = [
        step
        for elements in stage.element_lists()
        for step in walk_steps(elements)
        if step.type in OWN_SERVICE_STEPS
    ]
    if rendered is None or definition is None or strategy is None or not steps:
        return []
    path = f"{steps[0].path}.type"
    on = f"infrastructure {rendered.environment}/{rendered.infrastructure}"
    native = NativeService(strategy, definition.source)
    message = own_service_steps_message(
        stage.identifier, rendered.service, native, on, [s.type for s in steps]
    )
    return [Problem(pipeline.where(split_path(path)), path, message)]


def run_value_problems(
    plan: PipelinePlan, stage: StageNode, rendered: RenderedService | None
) -> list[Problem]:
    """The start of a run: the pipeline and stage variables the stage's manifests read exist
    (config/run_value_checks.py; validate says the same for every pipeline deploying the service)."""
    if rendered is None:
        return []
    pipeline_variables = {str(v.get("name")) for v in plan.variables}
    stage_variables = {str(v.get("name")) for v in stage.variables}
    return [
        Problem(p.file, p.path, f"{p.message} (stage {stage.identifier})")
        for p in undeclared_reads(rendered, pipeline_variables, stage_variables)
    ]


def project_pipeline_problems(project: Project) -> list[Problem]:
    """pipeline_problems of every pipeline of the project that loaded."""
    return [
        problem
        for pipeline_id in sorted(project.pipelines)
        for problem in pipeline_problems(project, pipeline_id)
    ]


def _located(problem: Problem, pipeline: Pipeline) -> Problem:
    """build_plan names the file only: add the line of the path."""
    if problem.file == pipeline.file and problem.path.startswith("pipeline"):
        return Problem(pipeline.where(split_path(problem.path)), problem.path, problem.message)
    return problem
