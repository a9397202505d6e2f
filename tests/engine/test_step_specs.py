"""The step spec registry (engine/step_specs.py): every step type that runs has a spec model,
and a spec is judged as `validate`, `plan` and `run` judge it, without running anything."""

from __future__ import annotations

from typing import Any

import yaml

from corral.config.ecs_step_specs import CHECKED_AT_LOAD
from corral.engine.plan import build_plan
from corral.engine.step_specs import check_steps
from corral.engine.steps import registered_types, spec_models
from corral.errors import Problem
from corral.wiring.ecs_step_types import ECS_SPECS
from corral.wiring.ecs_steps import STEP_TYPES
from tests.engine.helpers import pipeline, stage, step


def problems(steps: list[Any], **extra: Any) -> list[Problem]:
    raw = yaml.safe_load(pipeline("p", [stage("s", steps)], **extra))["pipeline"]
    plan = build_plan(raw, file="p.yaml")
    return check_steps(
        plan, locate=lambda parts: "p.yaml", specs=spec_models(), implemented=frozenset(registered_types())
    )


def test_every_ecs_step_type_has_a_spec_model_and_every_generic_one_too() -> None:
    assert set(STEP_TYPES) == set(ECS_SPECS)
    models = spec_models()
    for type_name in [*STEP_TYPES, "ShellScript", "Http", "Wait", "Verify"]:
        # a model, or the field checks of config/ecs_step_specs.py when the pipeline loads
        assert models[type_name] is not None or type_name in CHECKED_AT_LOAD, type_name


def test_values_still_expressions_are_left_for_the_run_but_missing_fields_are_not() -> None:
    variables = [{"name": "n", "type": "String", "value": "2"}]
    later = step("canary", "EcsCanaryDeploy", {"instances": "<+pipeline.variables.n>"})
    assert problems([later], variables=variables) == []
    missing = step(
        "bg", "EcsBlueGreenCreateService", {"prodListener": "<+pipeline.variables.n>", "isTrafficShift": True}
    )
    [problem] = problems([missing], variables=variables)
    assert problem.path.endswith("steps[0].step.spec.loadBalancer") and "missing" in problem.message


def test_blue_green_needs_a_stage_listener_unless_it_shifts_traffic() -> None:
    spec: dict[str, Any] = {"loadBalancer": "lb", "prodListener": "arn:l"}
    [problem] = problems([step("bg", "EcsBlueGreenCreateService", spec)])
    assert problem.path.endswith("spec.stageListener") and "isTrafficShift" in problem.message
    assert problems([step("bg", "EcsBlueGreenCreateService", {**spec, "isTrafficShift": True})]) == []


def test_a_reference_to_a_stage_the_pipeline_lacks_is_reported() -> None:
    wait = step("w", "Wait", {"duration": "<+pipeline.stages.nope.variables.d>"})
    [problem] = problems([wait])
    assert "no stage 'nope' (the pipeline has: s)" in problem.message


def test_the_cloudformation_step_types_registered_lazily_are_the_adapters() -> None:
    from corral.wiring import CLOUDFORMATION_STEP_TYPES
    from corral.wiring.cloudformation_steps import STEP_TYPES as ADAPTERS

    assert set(CLOUDFORMATION_STEP_TYPES) == set(ADAPTERS)
    assert set(CLOUDFORMATION_STEP_TYPES) <= set(spec_models())
