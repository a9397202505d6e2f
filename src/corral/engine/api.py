"""The Python API of the engine: run, resume, abort, approve.

    execution = run_pipeline("examples/ecs-tutorial", "ecs_tutorial_rolling", inputs={"tag": "1.27"})
    execution.status                      # Success | Failed | Aborted
    resume(execution_id)                  # after a crash: replays the journal, continues
    abort(execution_id)                   # from any process: the running stage rolls back
    approve(execution_id, approve=False, comment="not today")

Everything a run needs is checked before the execution is created: the pipeline's runtime
inputs, every step's spec against its type's model (engine/step_specs.py), and that each
Deployment stage's service renders (manifests fetched and validated, with stand-ins for secrets and for what a registry lookup would answer). A problem
there is a ConfigError naming the file and path. The rendering a stage deploys is made once,
when the stage starts (wiring/stage_targets.py), and journaled with it.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corral.config.project import Project, load_project
from corral.config.scope import scope_values
from corral.config.settings import find_project_root
from corral.config.stage_inputs import fixed_inputs
from corral.errors import ConfigError, CorralError, ExpressionError, Problem
from corral.manifests.service_rendering import RenderOptions, render_outcome
from corral.store import ExecutionRecord, StageRecord, StepRecord, Store

from .approvals import VoteOutcome, cast_vote
from .embedded import EmbeddedExecutor, ExecutorOptions
from .inputs import PipelineInputs, pipeline_inputs
from .pipeline_checks import native_stage_problems, run_value_problems, step_problems
from .plan import PipelinePlan, build_plan
from .secret_scope import run_secret_scope
from .steps import NO_WAIT


@dataclass(frozen=True)
class Execution:
    """An execution as the store has it: its status, stages and steps."""

    id: str
    pipeline_id: str
    pipeline_name: str
    sequence_id: int
    status: str
    error: str | None
    created_at: float
    started_at: float | None
    ended_at: float | None
    stages: tuple[StageRecord, ...]
    steps: tuple[StepRecord, ...]

    def step(self, name: str) -> StepRecord:
        """A step by key (`stage/group/step`) or identifier (the first with it)."""
        for step in self.steps:
            if step.key == name:
                return step
        for step in self.steps:
            if step.identifier == name:
                return step
        raise KeyError(name)

    def stage(self, identifier: str) -> StageRecord:
        for stage in self.stages:
            if stage.identifier == identifier:
                return stage
        raise KeyError(identifier)


def get_execution(execution_id: str, *, store: Store) -> Execution:
    record = store.execution(execution_id)
    if record is None:
        raise CorralError(f"no execution {execution_id} in {store.url}")
    return _execution(record, store)


def create_execution(
    project: Project | Path | str,
    pipeline_id: str,
    *,
    store: Store,
    inputs: Mapping[str, Any] | None = None,
    inputs_file: Path | str | None = None,
    input_sets: Sequence[str] = (),
    sets: Mapping[str, Any] | None = None,
    triggered_by: str | None = None,
    project_inputs: Mapping[str, Any] | None = None,
    no_wait: bool = False,
) -> ExecutionRecord:
    """Check everything and record a new execution (status Queued) without running it.
    inputs are given at run time (data, never expressions); project_inputs come from project
    files such as a trigger, and their expressions are evaluated. `no_wait` is recorded with it:
    wherever it runs (and when resumed) a stage whose ECS service another execution or another
    tool is deploying fails at once instead of waiting."""
    project = _project(project)
    filled = pipeline_inputs(
        project,
        pipeline_id,
        inputs=inputs,
        inputs_file=inputs_file,
        input_sets=input_sets,
        project_inputs=project_inputs,
    )
    raw = _with_strategy_lists(project, filled)
    plan = build_plan(raw, file=filled.pipeline.file)
    problems = step_problems(plan, filled.pipeline)
    if problems:
        raise ConfigError(problems)
    _check_secret_managers(project, filled)
    _check_services(project, plan, filled, sets or {})
    return store.create_execution(
        project=project.name,
        project_root=str(project.root),
        pipeline_id=pipeline_id,
        pipeline_name=plan.name,
        snapshot={
            "pipeline": raw,
            "file": filled.pipeline.file,
            "startTs": int(time.time() * 1000),
            "triggeredBy": triggered_by,
            "runtimeInputs": filled.runtime_paths,  # marked again when the run starts
            "scope": scope_values(project.settings),  # <+account.*>, <+org.*>, <+project.*>
        },
        inputs={
            "pipeline": filled.values,
            "service": filled.service_inputs,
            "sets": dict(sets or {}),
            **({NO_WAIT: True} if no_wait else {}),
        },
    )


def _with_strategy_lists(project: Project, filled: PipelineInputs) -> dict[str, Any]:
    """The pipeline with its looping strategies' expressions replaced by their values, from what
    the start knows (pipeline variables, scope, run-time inputs): the snapshot keeps plain lists."""
    from .looping import LoopError, resolve_lists
    from .runtime_values import render_for_step, variable_values

    raw = filled.raw
    base = {
        **scope_values(project.settings),
        "pipeline": {"identifier": raw.get("identifier", ""), "name": raw.get("name", "")},
    }

    values: dict[str, Any] = {}  # made once, at the first expression (most pipelines have none)

    def evaluate(text: str, where: str) -> Any:
        try:
            if not values:
                variables = variable_values(raw.get("variables") or [], base, "pipeline.variables")
                values.update(base, pipeline={**base["pipeline"], "variables": variables})
            return render_for_step(text, values, path=where)
        except ExpressionError as error:
            raise LoopError(
                where, f"{error}; a looping strategy may read only what the start knows"
            ) from None

    try:
        return resolve_lists(raw, evaluate)
    except LoopError as error:
        raise ConfigError([Problem(filled.pipeline.file, error.path, error.message)]) from None


def _check_secret_managers(project: Project, filled: PipelineInputs) -> None:
    """Secrets the run would read from a manager this server refuses (file, env), or that were
    exported from Harness without a value (once each): before it starts."""
    from corral.config.secrets import MANAGER_PATH, missing_value_problem, refused_manager

    problems = []
    for identifier in sorted(run_secret_scope(project, filled.raw, file=filled.pipeline.file)):
        secret = project.secret(identifier)
        if secret is not None and secret.spec.exported_without_value:
            problems.append(missing_value_problem(project, secret))
            continue
        refused = refused_manager(project, secret) if secret is not None else None
        if secret is not None and refused is not None:
            where = secret.where(("secret", "spec", "secretManagerIdentifier"))
            problems.append(Problem(where, MANAGER_PATH, refused))
    if problems:
        raise ConfigError(problems)


def run_pipeline(
    project: Project | Path | str,
    pipeline_id: str,
    *,
    inputs: Mapping[str, Any] | None = None,
    inputs_file: Path | str | None = None,
    input_sets: Sequence[str] = (),
    sets: Mapping[str, Any] | None = None,
    store: Store | None = None,
    no_wait: bool = False,
    options: ExecutorOptions | None = None,
    triggered_by: str | None = None,
) -> Execution:
    """Run a pipeline of the project to its end, in this process."""
    project = _project(project)
    store = store or Store.for_project(project)
    record = create_execution(
        project,
        pipeline_id,
        store=store,
        inputs=inputs,
        inputs_file=inputs_file,
        input_sets=input_sets,
        sets=sets,
        triggered_by=triggered_by,
        no_wait=no_wait,
    )
    options = options or ExecutorOptions()
    if no_wait:
        options.no_wait = True
    EmbeddedExecutor(store, project, options).run(record.id)
    return get_execution(record.id, store=store)


def resume(
    execution_id: str,
    *,
    store: Store | None = None,
    project: Project | Path | str | None = None,
    options: ExecutorOptions | None = None,
) -> Execution:
    """Continue an execution whose process died: finished steps are not run again."""
    store = store or _default_store(project)
    record = store.execution(execution_id)
    if record is None:
        raise CorralError(f"no execution {execution_id} in {store.url}")
    loaded = _project(project if project is not None else record.project_root)
    EmbeddedExecutor(store, loaded, options).run(execution_id)
    return get_execution(execution_id, store=store)


def abort(execution_id: str, *, store: Store | None = None, by: str | None = None) -> bool:
    """Ask the execution to stop; the running stage rolls back. False when it already ended."""
    store = store or _default_store(None)
    if store.execution(execution_id) is None:
        raise CorralError(f"no execution {execution_id} in {store.url}")
    return store.request_abort(execution_id, by=by)


def approve(
    execution_id: str,
    approve: bool = True,
    *,
    comment: str | None = None,
    by: str | None = None,
    step: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    store: Store | None = None,
    groups: Sequence[str] | None = None,
) -> VoteOutcome:
    """Approve (or reject) the HarnessApproval step waiting in the execution, as `by`.

    The step's rules hold (engine/approvals.py): `groups` are the user groups `by` belongs to
    (None: not known, as in a local store without users; the groups are then not checked);
    the step stays Waiting until `approvers.minimumCount` distinct people approved."""
    store = store or _default_store(None)
    request = _waiting(store, execution_id, "approval", step)
    return cast_vote(
        store,
        request,
        voter=by or "unknown",
        approve=approve,
        groups=groups,
        comment=comment,
        inputs=inputs,
    )


def intervene(
    execution_id: str,
    action: str,
    *,
    comment: str | None = None,
    by: str | None = None,
    step: str | None = None,
    store: Store | None = None,
) -> None:
    """Choose what a step waiting for manual intervention does (Retry, Ignore, StageRollback, ...)."""
    store = store or _default_store(None)
    request = _waiting(store, execution_id, "intervention", step)
    allowed = list(request.inputs or [])
    if action not in allowed:
        raise CorralError(f"{action!r} is not one of the actions offered: {', '.join(allowed)}")
    store.decide(execution_id, request.command_id, status="Decided", decision=action, comment=comment, by=by)


def _waiting(store: Store, execution_id: str, kind: str, step: str | None) -> Any:
    if store.execution(execution_id) is None:
        raise CorralError(f"no execution {execution_id} in {store.url}")
    waiting = [r for r in store.requests(execution_id, waiting=True) if r.kind == kind]
    if step is not None:
        waiting = [r for r in waiting if r.step_key == step or r.step_key.rsplit("/", 1)[-1] == step]
    what = "approval" if kind == "approval" else "manual intervention"
    if not waiting:
        raise CorralError(f"no step of execution {execution_id} is waiting for {what}")
    if len(waiting) > 1:
        keys = ", ".join(r.step_key for r in waiting)
        raise CorralError(f"several steps wait for {what} ({keys}); name one with step=")
    return waiting[0]


def _execution(record: ExecutionRecord, store: Store) -> Execution:
    return Execution(
        id=record.id,
        pipeline_id=record.pipeline_id,
        pipeline_name=record.pipeline_name,
        sequence_id=record.sequence_id,
        status=record.status,
        error=record.error,
        created_at=record.created_at,
        started_at=record.started_at,
        ended_at=record.ended_at,
        stages=tuple(store.stages(record.id)),
        steps=tuple(store.steps(record.id)),
    )


def _project(project: Project | Path | str) -> Project:
    return project if isinstance(project, Project) else load_project(project)


def _default_store(project: Project | Path | str | None) -> Store:
    if isinstance(project, Project):
        return Store.for_project(project)
    root = Path(project) if project is not None else find_project_root(Path.cwd())
    if root is None:
        raise CorralError("no corral.yaml here or above: say which store (store=...) or project to use")
    return Store.for_project(root)


def _check_services(
    project: Project, plan: PipelinePlan, filled: PipelineInputs, sets: Mapping[str, Any]
) -> None:
    """Every Deployment stage's service renders; inputs meant for services name one of theirs."""
    problems: list[Problem] = []
    unknown: dict[str, list[Problem]] = {}
    rendered = 0

    def stand_in(ref: str) -> str:  # checks the secret exists without reading it
        if project.secret(ref) is None:
            raise LookupError(ref)
        return "<secret>"

    for stage in plan.all_stages:
        target = stage.target
        if target is None or target.service is None:
            continue
        rendered += 1
        fixed, fixed_problems = fixed_inputs(
            project,
            target.inputs,
            target.service,
            target.environment,
            target.infrastructure or "",
            file=filled.pipeline.file,
        )
        problems += fixed_problems
        outcome = render_outcome(
            project,
            target.service,
            target.environment,
            target.infrastructure or "",
            inputs={**filled.service_inputs, **fixed},
            sets=sets,
            # registries are asked once, when the stage starts (wiring/stage_targets.py)
            options=RenderOptions(secrets=stand_in, defer_lookups=True),
        )
        problems += native_stage_problems(stage, outcome.rendered, filled.pipeline)
        problems += run_value_problems(plan, stage, outcome.rendered)
        for problem in outcome.problems:
            if problem.file == "--input":
                unknown.setdefault(problem.path, []).append(problem)
            else:
                problems.append(
                    Problem(problem.file, problem.path, f"{problem.message} (stage {stage.identifier})")
                )
    for found in unknown.values():
        if len(found) == rendered:  # no stage's service has an input by that name
            problems.append(found[0])
    if not rendered and filled.service_inputs:
        for key in filled.service_inputs:
            problems.append(Problem("--input", key, "no runtime input of the pipeline at this path"))
    if problems:
        raise ConfigError(sorted(set(problems), key=problems.index))
