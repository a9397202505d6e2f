"""The pipeline snapshot the interpreter walks: plain, frozen dataclasses.

`build_plan(raw)` turns a pipeline document (the `pipeline:` mapping, runtime inputs already
filled in) into a `PipelinePlan`. The execution stores the document, not the dataclasses, so a
resumed execution (or a Temporal workflow) rebuilds exactly the same plan from the same JSON.

Every element carries `key`, its unique name within the execution (`deploy/phase1/canary`),
and `path`, where it stands in the YAML (`pipeline.stages[0].stage.spec.execution.steps[1]`),
for messages.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from corral.config.stage_inputs import stage_fragments
from corral.errors import ConfigError, Problem

from .durations import parse_duration
from .looping import Iteration, Loop, LoopError, expand, fill

PROVISIONER = "provisioner"  # the key part of a stage's provisioner steps: `deploy/provisioner/infra`
DEFAULT_STEP_TIMEOUT = 600.0  # Harness strategies default every step to 10m

ERROR_TYPES = (
    "AllErrors",
    "Unknown",
    "Timeout",
    "Verification",
    "ApprovalRejection",
    "Authentication",
    "Authorization",
    "Connectivity",
    "DelegateProvisioning",
    "DelegateRestart",
    "PolicyEvaluationFailure",
    "InputTimeoutError",
    "UserMarkedFailure",
)
ACTIONS = (
    "StageRollback",
    "PipelineRollback",
    "Abort",
    "Ignore",
    "Retry",
    "MarkAsSuccess",
    "ManualIntervention",
)
# what a person may pick when a step waits for manual intervention
INTERVENTION_ACTIONS = ("Ignore", "Retry", "MarkAsSuccess", "StageRollback", "PipelineRollback", "Abort")
STATUS_CHOICES = ("Success", "Failure", "All")


@dataclass(frozen=True)
class Action:
    type: str
    retry_count: int = 0
    retry_intervals: tuple[float, ...] = ()
    on_retry_failure: Action | None = None
    timeout: float | None = None  # ManualIntervention: how long to wait for a person
    on_timeout: Action | None = None


@dataclass(frozen=True)
class FailureStrategy:
    errors: tuple[str, ...]
    action: Action

    def matches(self, failure_type: str) -> bool:
        return "AllErrors" in self.errors or failure_type in self.errors


DEFAULT_STRATEGY = FailureStrategy(("AllErrors",), Action("StageRollback"))


@dataclass(frozen=True)
class When:
    status: str = "Success"  # the stage's (steps) or pipeline's (stages) status so far
    condition: str | None = None


@dataclass(frozen=True)
class StepNode:
    key: str
    path: str
    identifier: str
    name: str
    type: str
    spec: Mapping[str, Any]
    timeout: float
    strategies: tuple[FailureStrategy, ...] = ()
    when: When | None = None
    loops: tuple[Iteration, ...] = ()  # the looping strategy iterations it runs in, outermost first


@dataclass(frozen=True)
class GroupNode:
    key: str
    path: str
    identifier: str
    name: str
    steps: tuple[Element, ...]
    rollback_steps: tuple[Element, ...] = ()
    strategies: tuple[FailureStrategy, ...] = ()
    when: When | None = None
    loops: tuple[Iteration, ...] = ()


@dataclass(frozen=True)
class ParallelNode:
    key: str
    path: str
    branches: tuple[Element, ...]
    max_concurrency: int = 0  # a looping strategy's maxConcurrency; 0: every branch at once
    loop: bool = False  # the iterations of one looped step or step group


Element = StepNode | GroupNode | ParallelNode


@dataclass(frozen=True)
class TargetRef:
    """A Deployment stage's (or Custom stage's) service, environment and infrastructure."""

    service: str | None
    environment: str
    infrastructure: str | None
    # serviceInputs, environmentInputs, ... the stage fixes: {kind: {"at": path, "value": {...}}}
    inputs: Mapping[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class StageNode:
    key: str
    path: str
    identifier: str
    name: str
    type: str  # Deployment | Custom
    steps: tuple[Element, ...]
    rollback_steps: tuple[Element, ...] = ()
    strategies: tuple[FailureStrategy, ...] = ()
    when: When | None = None
    variables: tuple[Mapping[str, Any], ...] = ()
    target: TargetRef | None = None
    description: str = ""  # <+stage.description>
    tags: Mapping[str, Any] = field(default_factory=dict, compare=False)  # <+stage.tags>
    loops: tuple[Iteration, ...] = ()
    # `environment.provisioner`: run before the stage's target is prepared; rolled back last
    provisioner_steps: tuple[Element, ...] = ()
    provisioner_rollback_steps: tuple[Element, ...] = ()

    def element_lists(self) -> tuple[tuple[Element, ...], ...]:
        """Every list of steps the stage may run: provisioner, execution and their rollbacks."""
        return (self.provisioner_steps, self.steps, self.rollback_steps, self.provisioner_rollback_steps)


@dataclass(frozen=True)
class ParallelStages:
    key: str
    path: str
    stages: tuple[StageNode, ...]
    max_concurrency: int = 0


StageElement = StageNode | ParallelStages


@dataclass(frozen=True)
class PipelinePlan:
    identifier: str
    name: str
    stages: tuple[StageElement, ...]
    strategies: tuple[FailureStrategy, ...] = ()
    variables: tuple[Mapping[str, Any], ...] = ()
    all_stages: tuple[StageNode, ...] = field(default=(), compare=False)
    description: str = ""  # <+pipeline.description>
    tags: Mapping[str, Any] = field(default_factory=dict, compare=False)  # <+pipeline.tags>

    def stage(self, identifier: str) -> StageNode | None:
        return next((s for s in self.all_stages if s.identifier == identifier), None)

    def steps(self) -> Iterator[tuple[StageNode, StepNode]]:
        """Every step of every stage (looping iterations and rollback steps included), with its
        stage, in document order: what checks and views walk."""
        for stage in self.all_stages:
            for step in walk_steps(element for elements in stage.element_lists() for element in elements):
                yield stage, step


def walk_steps(elements: Iterable[Element], *, rollback: bool = True) -> Iterator[StepNode]:
    """The steps in elements, depth first in document order; a group's rollback steps after its
    steps (unless `rollback` is False). The one walk over the tree that checks and views use."""
    for element in elements:
        if isinstance(element, ParallelNode):
            yield from walk_steps(element.branches, rollback=rollback)
        elif isinstance(element, GroupNode):
            yield from walk_steps(element.steps, rollback=rollback)
            if rollback:
                yield from walk_steps(element.rollback_steps)
        else:
            yield element


def build_plan(raw: Mapping[str, Any], *, file: str = "") -> PipelinePlan:
    """The plan of a `pipeline:` mapping; ConfigError naming every bad field."""
    plan, problems = plan_with_problems(raw, file=file)
    if problems:
        raise ConfigError(problems)
    return plan


def plan_with_problems(raw: Mapping[str, Any], *, file: str = "") -> tuple[PipelinePlan, list[Problem]]:
    """The plan as far as it could be built (bad fields take their defaults), and its problems."""
    builder = _Builder(file)
    plan = builder.pipeline(raw)
    # a looped stage reports its problems once, not once per iteration
    return plan, list(dict.fromkeys(builder.problems))


class _Builder:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.stages: list[StageNode] = []

    def report(self, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, path, message))

    def pipeline(self, raw: Mapping[str, Any]) -> PipelinePlan:
        path = "pipeline"
        stages = tuple(
            self.stage_element(item, f"{path}.stages[{i}]") for i, item in enumerate(raw.get("stages") or [])
        )
        return PipelinePlan(
            identifier=str(raw.get("identifier", "")),
            name=str(raw.get("name", raw.get("identifier", ""))),
            stages=tuple(s for s in stages if s is not None),
            strategies=self.strategies(raw.get("failureStrategies"), f"{path}.failureStrategies"),
            variables=tuple(self.variables(raw.get("variables"), f"{path}.variables")),
            all_stages=tuple(self.stages),
            description=str(raw.get("description") or ""),
            tags=_tags(raw.get("tags")),
        )

    def stage_element(self, item: Any, path: str) -> StageElement | None:
        if not isinstance(item, Mapping):
            self.report(path, "expected `stage:` or `parallel:`")
            return None
        if "parallel" in item:
            branches = [
                self.stage_element(x, f"{path}.parallel[{i}]") for i, x in enumerate(item["parallel"] or [])
            ]
            stages: list[StageNode] = []
            for index, branch in enumerate(branches):
                if isinstance(branch, ParallelStages):  # a looped stage inside parallel: its iterations
                    if branch.max_concurrency:
                        self.report(
                            f"{path}.parallel[{index}].stage.strategy",
                            "maxConcurrency on a looped stage inside `parallel:` is not supported; "
                            "move the stage out of `parallel:` or drop maxConcurrency",
                        )
                    stages.extend(branch.stages)
                elif isinstance(branch, StageNode):
                    stages.append(branch)
            return ParallelStages(key="|".join(s.key for s in stages), path=path, stages=tuple(stages))
        raw = item.get("stage") or {}
        here = f"{path}.stage"
        if isinstance(raw, Mapping) and raw.get("strategy") is not None:
            loop = self.loop(raw["strategy"], f"{here}.strategy")
            if loop is None:
                return self.stage(raw, here)
            looped = tuple(self.stage(raw, here, replace(it, level="stage")) for it in loop.iterations)
            return ParallelStages(
                key="|".join(s.key for s in looped),
                path=here,
                stages=looped,
                max_concurrency=loop.max_concurrency,
            )
        return self.stage(raw, here)

    def loop(self, raw: Any, path: str) -> Loop | None:
        try:
            return expand(raw)
        except LoopError as error:
            self.report(f"{path}.{error.path}" if error.path else path, error.message)
            return None

    def stage(self, raw: Mapping[str, Any], path: str, iteration: Iteration | None = None) -> StageNode:
        loops = (iteration,) if iteration is not None else ()
        identifier = str(raw.get("identifier", "")) + (iteration.postfix if iteration else "")
        stage_type = str(raw.get("type", "Custom"))
        spec = raw.get("spec") or {}
        execution = spec.get("execution") or {}
        environment = spec.get("environment")
        provisioner = environment.get("provisioner") if isinstance(environment, Mapping) else None
        provisioner = provisioner if isinstance(provisioner, Mapping) else {}
        key = identifier
        node = StageNode(
            key=key,
            path=path,
            identifier=identifier,
            name=str(raw.get("name", identifier)) + (iteration.postfix if iteration else ""),
            type=stage_type,
            steps=self.elements(execution.get("steps") or [], f"{path}.spec.execution.steps", key, loops),
            rollback_steps=self.elements(
                execution.get("rollbackSteps") or [],
                f"{path}.spec.execution.rollbackSteps",
                f"{key}/rollback",
                loops,
            ),
            strategies=self.strategies(raw.get("failureStrategies"), f"{path}.failureStrategies"),
            when=self.when(raw.get("when"), f"{path}.when", stage=True),
            variables=tuple(
                self.variables(raw.get("variables") or spec.get("variables"), f"{path}.variables")
            ),
            target=self.target(spec, path, iteration),
            description=str(raw.get("description") or ""),
            tags=_tags(raw.get("tags")),
            loops=loops,
            provisioner_steps=self.elements(
                provisioner.get("steps") or [],
                f"{path}.spec.environment.provisioner.steps",
                f"{key}/{PROVISIONER}",
                loops,
            ),
            provisioner_rollback_steps=self.elements(
                provisioner.get("rollbackSteps") or [],
                f"{path}.spec.environment.provisioner.rollbackSteps",
                f"{key}/{PROVISIONER}/rollback",
                loops,
            ),
        )
        self.stages.append(node)
        return node

    def target(
        self, spec: Mapping[str, Any], path: str, iteration: Iteration | None = None
    ) -> TargetRef | None:
        environment = spec.get("environment")
        if not isinstance(environment, Mapping) or not environment.get("environmentRef"):
            return None
        service = spec.get("service") or {}
        service_ref = service.get("serviceRef") if isinstance(service, Mapping) else None
        use_from = service.get("useFromStage") if isinstance(service, Mapping) else None
        if not service_ref and isinstance(use_from, Mapping):
            source = next((s for s in self.stages if s.identifier == use_from.get("stage")), None)
            if source is None or source.target is None:
                self.report(
                    f"{path}.spec.service.useFromStage.stage",
                    "no earlier Deployment stage with this identifier",
                )
            else:
                service_ref = source.target.service
        infras = environment.get("infrastructureDefinitions")
        infra = None
        if isinstance(infras, list) and infras:
            first = infras[0]
            infra = str(first.get("identifier")) if isinstance(first, Mapping) else None
            if len(infras) > 1:
                self.report(
                    f"{path}.spec.environment.infrastructureDefinitions",
                    "deploying to several infrastructures from one stage is not supported; use one stage per infrastructure",
                )
        earlier = {s.identifier: s.target.inputs for s in self.stages if s.target is not None}

        def ref(value: Any) -> str:  # a looped stage may pick its service or place by iteration
            if iteration is None:
                return str(value)
            try:
                return fill(str(value), iteration)
            except LoopError as error:
                self.report(f"{path}.spec", error.message)
                return str(value)

        return TargetRef(
            service=ref(service_ref) if service_ref else None,
            environment=ref(environment["environmentRef"]),
            infrastructure=ref(infra) if infra else None,
            inputs=stage_fragments(spec, path, earlier),
        )

    def elements(
        self, items: Sequence[Any], path: str, parent: str, loops: tuple[Iteration, ...] = ()
    ) -> tuple[Element, ...]:
        out: list[Element] = []
        for index, item in enumerate(items):
            element = self.element(item, f"{path}[{index}]", parent, loops)
            if element is not None:
                out.append(element)
        return tuple(out)

    def element(self, item: Any, path: str, parent: str, loops: tuple[Iteration, ...] = ()) -> Element | None:
        if not isinstance(item, Mapping):
            self.report(path, "expected `step:`, `stepGroup:` or `parallel:`")
            return None
        if "parallel" in item:
            branches = self.elements(item["parallel"] or [], f"{path}.parallel", parent, loops)
            return ParallelNode(key=f"{parent}/parallel", path=f"{path}.parallel", branches=branches)
        kind = "stepGroup" if "stepGroup" in item else "step"
        raw = item.get(kind) or {}
        here = f"{path}.{kind}"
        build = self.group if kind == "stepGroup" else self.step
        if isinstance(raw, Mapping) and raw.get("strategy") is not None:
            loop = self.loop(raw["strategy"], f"{here}.strategy")
            if loop is not None:
                level = [replace(it, level=kind) for it in loop.iterations]
                branches = tuple(build(raw, here, parent, (*loops, it), it.postfix) for it in level)
                return ParallelNode(
                    key=f"{parent}/{raw.get('identifier', '')}",
                    path=here,
                    branches=branches,
                    max_concurrency=loop.max_concurrency,
                    loop=True,
                )
        return build(raw, here, parent, loops, "")

    def group(
        self,
        raw: Mapping[str, Any],
        path: str,
        parent: str,
        loops: tuple[Iteration, ...] = (),
        postfix: str = "",
    ) -> GroupNode:
        identifier = str(raw.get("identifier", "")) + postfix
        key = f"{parent}/{identifier}"
        return GroupNode(
            key=key,
            path=path,
            identifier=identifier,
            name=str(raw.get("name", identifier)) + postfix,
            steps=self.elements(raw.get("steps") or [], f"{path}.steps", key, loops),
            rollback_steps=self.elements(
                raw.get("rollbackSteps") or [], f"{path}.rollbackSteps", f"{key}/rollback", loops
            ),
            strategies=self.strategies(raw.get("failureStrategies"), f"{path}.failureStrategies"),
            when=self.when(raw.get("when"), f"{path}.when"),
            loops=loops,
        )

    def step(
        self,
        raw: Mapping[str, Any],
        path: str,
        parent: str,
        loops: tuple[Iteration, ...] = (),
        postfix: str = "",
    ) -> StepNode:
        identifier = str(raw.get("identifier", "")) + postfix
        timeout = DEFAULT_STEP_TIMEOUT
        if raw.get("timeout") is not None:
            timeout = self.duration(raw["timeout"], f"{path}.timeout") or DEFAULT_STEP_TIMEOUT
        spec = raw.get("spec")
        return StepNode(
            key=f"{parent}/{identifier}",
            path=path,
            identifier=identifier,
            name=str(raw.get("name", identifier)) + postfix,
            type=str(raw.get("type", "")),
            spec=dict(spec) if isinstance(spec, Mapping) else {},
            timeout=timeout,
            strategies=self.strategies(raw.get("failureStrategies"), f"{path}.failureStrategies"),
            when=self.when(raw.get("when"), f"{path}.when"),
            loops=loops,
        )

    # -- pieces --------------------------------------------------------------------------

    def duration(self, value: Any, path: str) -> float | None:
        if isinstance(value, str) and value.strip().startswith("<+input>"):
            return None  # validate's and plan's stand-in: the run gives it a value
        try:
            return parse_duration(value)
        except ValueError as error:
            self.report(path, str(error))
            return None

    def when(self, raw: Any, path: str, *, stage: bool = False) -> When | None:
        if raw is None:
            return None
        if not isinstance(raw, Mapping):
            self.report(path, "expected a mapping with stageStatus and/or condition")
            return None
        key = "pipelineStatus" if stage and "pipelineStatus" in raw else "stageStatus"
        status = str(raw.get(key, raw.get("pipelineStatus", "Success")))
        if status not in STATUS_CHOICES:
            self.report(f"{path}.{key}", f"expected one of {', '.join(STATUS_CHOICES)}, got {status!r}")
            status = "Success"
        condition = raw.get("condition")
        if condition is not None and not isinstance(condition, str | bool):
            self.report(
                f"{path}.condition", 'expected an expression such as <+pipeline.variables.deploy> == "yes"'
            )
            condition = None
        return When(
            status=status,
            condition=None
            if condition is None
            else str(condition).lower()
            if isinstance(condition, bool)
            else condition,
        )

    def variables(self, raw: Any, path: str) -> list[Mapping[str, Any]]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.report(path, "expected a list of {name, type, value}")
            return []
        out: list[Mapping[str, Any]] = []
        for index, item in enumerate(raw):
            if not isinstance(item, Mapping) or "name" not in item:
                self.report(f"{path}[{index}]", "expected {name, type, value}")
                continue
            out.append(dict(item))
        return out

    def strategies(self, raw: Any, path: str) -> tuple[FailureStrategy, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            self.report(path, "expected a list of `- onFailure: {errors: [...], action: {type: ...}}`")
            return ()
        out = []
        for index, item in enumerate(raw):
            here = f"{path}[{index}].onFailure"
            on_failure = item.get("onFailure") if isinstance(item, Mapping) else None
            if not isinstance(on_failure, Mapping):
                self.report(f"{path}[{index}]", "expected `onFailure: {errors: [...], action: {type: ...}}`")
                continue
            errors = on_failure.get("errors") or ["AllErrors"]
            errors = [errors] if isinstance(errors, str) else errors
            for position, name in enumerate(errors):
                if name not in ERROR_TYPES:
                    self.report(
                        f"{here}.errors[{position}]",
                        f"unknown error type {name!r}; expected one of {', '.join(ERROR_TYPES)}",
                    )
            action = self.action(on_failure.get("action"), f"{here}.action")
            if action is not None:
                out.append(FailureStrategy(tuple(str(e) for e in errors), action))
        return tuple(out)

    def action(self, raw: Any, path: str, *, nested: bool = False) -> Action | None:
        if not isinstance(raw, Mapping) or "type" not in raw:
            self.report(path, f"expected `type:` one of {', '.join(ACTIONS)}")
            return None
        kind = str(raw["type"])
        if kind not in ACTIONS:
            self.report(
                f"{path}.type", f"unknown failure action {kind!r}; expected one of {', '.join(ACTIONS)}"
            )
            return None
        spec = raw.get("spec") or {}
        if nested and kind in ("Retry", "ManualIntervention"):
            self.report(
                f"{path}.type", f"{kind} cannot follow a failed retry or a manual intervention timeout"
            )
            return None
        if kind == "Retry":
            count = spec.get("retryCount", 1)
            if isinstance(count, bool) or not isinstance(count, int) or count < 1:
                self.report(
                    f"{path}.spec.retryCount",
                    f"expected a whole number of retries (1 or more), got {count!r}",
                )
                count = 1
            intervals_raw = spec.get("retryIntervals") or ["10s"]
            intervals_raw = intervals_raw if isinstance(intervals_raw, list) else [intervals_raw]
            intervals = tuple(
                self.duration(v, f"{path}.spec.retryIntervals[{i}]") or 0.0
                for i, v in enumerate(intervals_raw)
            )
            after = (
                spec.get("onRetryFailure", {}).get("action")
                if isinstance(spec.get("onRetryFailure"), Mapping)
                else None
            )
            then = (
                self.action(after, f"{path}.spec.onRetryFailure.action", nested=True)
                if after
                else Action("StageRollback")
            )
            return Action(kind, retry_count=count, retry_intervals=intervals, on_retry_failure=then)
        if kind == "ManualIntervention":
            timeout = self.duration(spec.get("timeout", "1d"), f"{path}.spec.timeout")
            after = (
                spec.get("onTimeout", {}).get("action")
                if isinstance(spec.get("onTimeout"), Mapping)
                else None
            )
            then = (
                self.action(after, f"{path}.spec.onTimeout.action", nested=True)
                if after
                else Action("StageRollback")
            )
            return Action(kind, timeout=timeout, on_timeout=then)
        return Action(kind)


def _tags(value: Any) -> dict[str, Any]:
    """Harness tags are a mapping (`tags: {team: web}`); anything else reads as none."""
    return {str(k): v for k, v in value.items()} if isinstance(value, Mapping) else {}
