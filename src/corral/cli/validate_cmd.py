"""`corral validate`: check the whole project, every manifest rendered where it can go."""

from __future__ import annotations

import sys

import click

from corral.cli.config_cmds import EXIT_PROBLEMS, friendly_errors, print_problems, project_option


@click.command("validate")
@project_option
@click.option("--offline", is_flag=True, help="Do not fetch manifests from Git or S3 stores.")
@click.option(
    "--strict",
    is_flag=True,
    help="Treat warnings (unknown manifest fields, which are not sent to AWS) as problems.",
)
@friendly_errors
def validate(project_dir: str | None, offline: bool, strict: bool) -> None:
    """Validate the project: entities, references, and every manifest of every service
    rendered on every infrastructure. Prints one problem per line (file: path: message),
    then `info:` lines (describe output pasted as a manifest: what was left out) and
    `warning:` lines (unknown manifest fields: not sent to AWS; problems with --strict)."""
    from corral.config.settings import project_root
    from corral.config.validation import validate_project

    report = validate_project(project_root(project_dir), offline=offline)
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
