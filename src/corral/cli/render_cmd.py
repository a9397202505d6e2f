"""`corral render`: print a service's manifests as rendered for one infrastructure."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import click

from corral.cli.config_cmds import (
    EXIT_PROBLEMS,
    EXIT_USAGE,
    friendly_errors,
    print_problems,
    project_option,
)
from corral.cli.run_support import given_values, with_values

if TYPE_CHECKING:
    from corral.manifests.native_phases import DeploymentPhases
    from corral.manifests.service_rendering import RenderedService


@click.command("render")
@project_option
@click.option("--service", "service_id", required=True, help="Service identifier.")
@click.option("--env", "env_id", required=True, help="Environment identifier.")
@click.option("--infra", "infra_id", required=True, help="Infrastructure definition identifier.")
@with_values
@click.option(
    "--format", "output_format", type=click.Choice(["yaml", "json"]), default="yaml", show_default=True
)
@friendly_errors
def render(
    project_dir: str | None,
    service_id: str,
    env_id: str,
    infra_id: str,
    inputs: tuple[str, ...],
    inputs_file: str | None,
    sets: tuple[str, ...],
    output_format: str,
) -> None:
    """Render the task definition, service definition, scaling and run task requests of a
    service as they would be sent to AWS (secret values masked). `setBy` names what set each
    service variable, manifest and config file: the service, or which override (type,
    identifier, file and line), applied in Harness's order of precedence. A service definition
    with an ECS-native strategy (BLUE_GREEN, LINEAR, CANARY) adds `nativeDeployment`: its
    phases (hooks, traffic steps, bake times) and an estimate of how long it takes."""
    from pathlib import Path

    from corral.config.project import blocking_problems, read_project
    from corral.config.runtime_inputs import read_inputs_file
    from corral.config.settings import project_root
    from corral.engine.inputs import EXPRESSION_FOR_SERVICE
    from corral.engine.literal_inputs import has_expression_text
    from corral.errors import ConfigError, Problem
    from corral.manifests.service_rendering import RenderOptions, render_outcome

    try:
        given, set_values = given_values(inputs, sets)
    except ConfigError as error:
        print_problems(error.problems)
        sys.exit(EXIT_USAGE)
    # as in a run: a value typed with --input for a service's input is data, never an expression
    refused = [
        Problem("--input", key, EXPRESSION_FOR_SERVICE)
        for key, value in given.items()
        if has_expression_text(value)
    ]
    if refused:
        print_problems(refused)
        sys.exit(EXIT_USAGE)
    if inputs_file is not None:
        from_file, file_problems = read_inputs_file(Path(inputs_file))
        if file_problems:
            print_problems(file_problems)
            sys.exit(EXIT_USAGE)
        given = {**from_file, **given}
    project, problems = read_project(project_root(project_dir))
    problems = blocking_problems(project, problems, pipeline=None)  # pipelines are not rendered
    if problems:
        print_problems(problems)
        click.echo(f"{len(problems)} problem(s) in the project; fix them first (corral validate)", err=True)
        sys.exit(EXIT_PROBLEMS)
    outcome = render_outcome(
        project, service_id, env_id, infra_id, inputs=given, sets=set_values, options=RenderOptions()
    )
    for note in outcome.notes:  # on stderr: stdout is the rendered YAML or JSON
        click.echo(f"info: {note}", err=True)
    for warning in outcome.warnings:
        click.echo(f"warning: {warning}", err=True)
    if outcome.problems or outcome.rendered is None:
        print_problems(outcome.problems)
        usage = all(p.file.startswith("--") for p in outcome.problems)
        sys.exit(EXIT_USAGE if usage else EXIT_PROBLEMS)
    data = outcome.rendered.to_dict()
    # what set each variable, manifest and config file: the service or which override
    data["setBy"] = outcome.rendered.set_by
    native = native_deployment(outcome.rendered)
    if native is not None:  # ECS's own strategy: its phases and how long it may take
        data["nativeDeployment"] = native.to_dict()
    data = _masked(data, sorted(outcome.rendered.used_secrets, key=len, reverse=True))
    text = _dump(data, output_format)
    click.echo(text, nl=not text.endswith("\n"))


def native_deployment(rendered: RenderedService) -> DeploymentPhases | None:
    """The phases of the service's ECS-native strategy (BLUE_GREEN, LINEAR, CANARY), or None."""
    from corral.manifests.native_phases import deployment_phases

    if rendered.service_definition is None:
        return None
    task = rendered.task_definition.request if rendered.task_definition else None
    return deployment_phases(rendered.service_definition.request, task)


def _masked(value: Any, secrets: list[str]) -> Any:
    """Secret values replaced by asterisks in every string (before printing, so the output
    stays valid YAML or JSON)."""
    if isinstance(value, str):
        from corral.expressions.masking import mask_text

        return mask_text(value, secrets)
    if isinstance(value, dict):
        return {k: _masked(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked(v, secrets) for v in value]
    return value


def _dump(data: object, output_format: str) -> str:
    if output_format == "json":
        return json.dumps(data, indent=2, ensure_ascii=False, default=str)
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False)
