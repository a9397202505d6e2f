"""`corral secret encrypt`: make the value of a secret kept in Corral's encrypted store."""

from __future__ import annotations

import sys

import click

from corral.cli.config_cmds import friendly_errors, project_option


@click.group("secret")
def secret() -> None:
    """Work with the project's secrets."""


@secret.command("encrypt")
@project_option
@friendly_errors
def encrypt(project_dir: str | None) -> None:
    """Read a value on standard input and print it encrypted with the project key (created in
    .corral/secrets.key when there is none), for `secretManagerIdentifier: corral`."""
    from corral.config.project import Project, read_settings
    from corral.config.secrets import encrypt as encrypt_value
    from corral.config.settings import project_root
    from corral.errors import ConfigError

    root = project_root(project_dir)
    settings, problems = read_settings(root)
    if problems:
        raise ConfigError(problems)
    value = sys.stdin.read().rstrip("\n")
    if not value:
        raise click.UsageError("give the secret value on standard input")
    from corral.expressions.masking import MIN_SECRET_LENGTH

    if len(value) < MIN_SECRET_LENGTH:  # masking it would hide it inside words, an oracle
        raise click.UsageError(f"a secret must be at least {MIN_SECRET_LENGTH} characters long")
    click.echo(encrypt_value(Project(root=root, settings=settings), value))
