"""What loading a project checks about a stage's provisioners, across the pipeline and the
infrastructure definitions it names (each step's own spec: provisioner_specs.py):

- an infrastructure definition that names a provisioner (`spec.provisioner`) or reads
  `<+provisioner.*>` is deployed to only by stages with an `environment.provisioner`, and the
  provisioner it names is one of that stage's (a step identifier, or a CreateStack's
  provisionerIdentifier);
- a RollbackStack or an inherited DeleteStack names the provisionerIdentifier of a CreateStack
  of the same stage.
Names that are expressions or run-time inputs are checked when the stage runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from .entities.common import is_expression
from .entities.pipeline import EnvironmentConfig, Pipeline, Step, StepElement
from .provisioned_infrastructure import reads_provisioner
from .provisioner_specs import provisioner_identifier

if TYPE_CHECKING:
    from .references import ReferenceChecker

Path = tuple[str | int, ...]


def check_provisioners(
    check: ReferenceChecker, pipeline: Pipeline, path: Path, environment: EnvironmentConfig
) -> None:
    """`path` is the stage's `spec.environment`."""
    provisioner = environment.provisioner
    steps = list(_steps(provisioner.steps, (*path, "provisioner", "steps"))) if provisioner else []
    rollback = (
        list(_steps(provisioner.rollback_steps, (*path, "provisioner", "rollbackSteps")))
        if provisioner
        else []
    )
    names = {step.identifier for _, step in steps}
    created = {provisioner_identifier(s.type, s.spec) for _, s in steps if s.type == "CreateStack"}
    names |= {name for name in created if name}
    for where, step in steps + rollback:
        if step.type in ("RollbackStack", "DeleteStack") and not _inline_delete(step):
            named = provisioner_identifier(step.type, step.spec)
            if named and not is_expression(named) and named not in created:
                check.report(
                    pipeline,
                    (*where, "spec", "configuration", "provisionerIdentifier"),
                    f"no CreateStack step of this stage's environment.provisioner has provisionerIdentifier "
                    f"'{named}' (it has: {', '.join(sorted(n for n in created if n)) or 'none'})",
                )
    _infrastructures(check, pipeline, path, environment, names)


def _infrastructures(
    check: ReferenceChecker, pipeline: Pipeline, path: Path, environment: EnvironmentConfig, names: set[str]
) -> None:
    listed = environment.infrastructure_definitions
    if not isinstance(listed, list) or is_expression(environment.environment_ref):
        return
    for index, item in enumerate(listed):
        infra = check.project.infrastructures.get((environment.environment_ref, item.identifier))
        if infra is None:
            continue
        named = infra.spec.provisioner
        if not named and not reads_provisioner(infra):
            continue
        here = (*path, "infrastructureDefinitions", index, "identifier")
        if environment.provisioner is None:
            check.report(
                pipeline,
                here,
                f"infrastructure definition '{infra.identifier}' is provisioned dynamically (spec.provisioner, "
                "<+provisioner.*>): this stage needs an environment.provisioner with the step that provisions it",
            )
        elif named and not is_expression(named) and named not in names:
            check.report(
                pipeline,
                here,
                f"infrastructure definition '{infra.identifier}' takes its fields from provisioner '{named}', "
                f"which is not a step of this stage's environment.provisioner (it has: {', '.join(sorted(names))})",
            )


def _inline_delete(step: Step) -> bool:
    configuration = step.spec.get("configuration")
    return (
        step.type == "DeleteStack"
        and isinstance(configuration, dict)
        and configuration.get("type") == "Inline"
    )


def _steps(elements: list[StepElement], path: Path) -> Iterator[tuple[Path, Step]]:
    for index, element in enumerate(elements):
        here: Path = (*path, index)
        if element.step is not None:
            yield (*here, "step"), element.step
        elif element.step_group is not None:
            yield from _steps(element.step_group.steps, (*here, "stepGroup", "steps"))
            yield from _steps(element.step_group.rollback_steps, (*here, "stepGroup", "rollbackSteps"))
        elif element.parallel is not None:
            yield from _steps(element.parallel, (*here, "parallel"))
