"""`corral validate`: check the whole project, every manifest rendered where it can go."""

from __future__ import annotations

import sys

import click

from corral.cli.config_cmds import EXIT_PROBLEMS, friendly_errors, print_problems, project_option


@click.command("validate")
@project_option
@click.option("--offline", is_flag=True, help="Do not fetch manifests from Git or S3 stores.")
@friendly_errors
def validate(project_dir: str | None, offline: bool) -> None:
    """Validate the project: entities, references, and every manifest of every service
    rendered on every infrastructure. Prints one problem per line (file: path: message)."""
    from corral.config.secrets import secrets_without_value
    from corral.config.settings import project_root
    from corral.config.validation import validate_project

    report = validate_project(project_root(project_dir), offline=offline)
    # validation reads no secret values, so these are not problems here; a run needs them
    for notice in secrets_without_value(report.project):
        click.echo(f"warning: {notice}")
    if report.problems:
        print_problems(report.problems)
        click.echo(f"{len(report.problems)} problem(s) found", err=True)
        sys.exit(EXIT_PROBLEMS)
    click.echo(f"ok: {report.summary()}")
