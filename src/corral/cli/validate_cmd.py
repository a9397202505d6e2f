"""`corral validate`: check the whole project, every manifest rendered where it can go."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click

from corral.cli.config_cmds import EXIT_PROBLEMS, friendly_errors, print_problems, project_option

if TYPE_CHECKING:
    from corral.config.input_listing import InputLine


@click.command("validate")
@project_option
@click.option("--offline", is_flag=True, help="Do not fetch manifests from Git or S3 stores.")
@click.option(
    "--strict",
    is_flag=True,
    help="Treat warnings (unknown manifest fields, which are not sent to AWS; ignored Harness fields) as problems.",
)
@friendly_errors
def validate(project_dir: str | None, offline: bool, strict: bool) -> None:
    """Validate the project: entities, references, and every manifest of every service
    rendered on every infrastructure. Prints one problem per line (file: path: message),
    then `info:` lines (describe output pasted as a manifest: what was left out) and
    `warning:` lines (unknown manifest fields: not sent to AWS; secrets exported from Harness
    without their value, once each; Harness fields Corral cannot honour, such as an AWS
    connector's `proxy: true`; problems with --strict).
    Runtime inputs (<+input>) are not problems: stand-ins (a default, the first allowed value,
    or a value of the field's type) keep everything around them checked, and each input a
    run will ask for is listed."""
    from corral.config.ignored_fields import ignored_field_warnings
    from corral.config.secrets import secrets_without_value
    from corral.config.settings import project_root
    from corral.config.validation import validate_project
    from corral.engine.pipeline_checks import project_pipeline_problems

    report = validate_project(
        project_root(project_dir), offline=offline, pipeline_checks=project_pipeline_problems
    )
    # validation reads no secret values, so a secret without one is a warning here; a run needs it
    report.warnings = [
        *secrets_without_value(report.project),
        *ignored_field_warnings(report.project),
        *report.warnings,
    ]
    if strict:
        report.problems += report.warnings
        report.warnings = []
    for note in report.notes:
        click.echo(f"info: {note}")
    for warning in report.warnings:
        click.echo(f"warning: {warning}")
    if report.problems:
        print_problems(report.problems)
        click.echo(f"{len(report.problems)} problem(s) found", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"ok: {report.summary()}")
    print_inputs(report.inputs)


def print_inputs(inputs: list[InputLine]) -> None:
    """The runtime inputs a run will ask for, one line each (where, path, type, default or
    allowed values)."""
    if not inputs:
        return
    click.echo(
        f"runtime inputs a run will ask for ({len(inputs)}; give them with --input, --inputs-file or an input set):"
    )
    for line in inputs:
        click.echo(f"  {line.text()}")
