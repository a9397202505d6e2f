"""`corral ls`: the project's entities by kind, with identifier, name and file."""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from corral.cli.config_cmds import EXIT_PROBLEMS, friendly_errors, project_option

# what a user may type -> the YAML kind
KIND_NAMES = {
    "service": "service",
    "environment": "environment",
    "env": "environment",
    "infrastructure": "infrastructureDefinition",
    "infrastructuredefinition": "infrastructureDefinition",
    "infra": "infrastructureDefinition",
    "connector": "connector",
    "secret": "secret",
    "pipeline": "pipeline",
    "inputset": "inputSet",
    "trigger": "trigger",
    "override": "overrides",
    "serviceoverride": "serviceOverrides",
    "template": "template",
}


@click.command("ls")
@click.argument("kind", required=False)
@project_option
@click.option(
    "--format", "output_format", type=click.Choice(["table", "json"]), default="table", show_default=True
)
@friendly_errors
def ls(kind: str | None, project_dir: str | None, output_format: str) -> None:
    """List entities (services, environments, infrastructures, connectors, secrets,
    pipelines, input sets, templates), or only those of KIND."""
    from corral.config.project import read_project
    from corral.config.settings import project_root

    wanted = None
    if kind is not None:
        wanted = KIND_NAMES.get(kind.lower().removesuffix("s"))
        if wanted is None:
            raise click.BadParameter(
                f"expected one of {', '.join(sorted(set(KIND_NAMES.values())))}", param_hint="KIND"
            )
    project, problems = read_project(project_root(project_dir))
    rows = [_row(k, e) for k, e in project.entities() if wanted is None or k == wanted]
    if output_format == "json":
        click.echo(json.dumps(rows, indent=2))
    else:
        _table(rows)
    if problems:
        click.echo(f"{len(problems)} problem(s) in the project; run corral validate", err=True)
        sys.exit(EXIT_PROBLEMS)


def _row(kind: str, entity: Any) -> dict[str, str]:
    return {
        "kind": kind,
        "identifier": entity.identifier,
        "name": entity.name,
        "detail": _detail(kind, entity),
        "file": entity.where(),
    }


def _detail(kind: str, entity: Any) -> str:
    if kind == "service":
        spec = entity.service_definition.spec
        return f"{len(spec.manifests)} manifests"
    if kind == "environment":
        return str(entity.type)
    if kind == "infrastructureDefinition":
        return f"env={entity.environment_ref} cluster={entity.spec.cluster} region={entity.spec.region}"
    if kind == "connector":
        return str(entity.type)
    if kind == "secret":
        return (
            "no value (exported from Harness)" if entity.spec.exported_without_value else entity.spec.manager
        )
    if kind == "pipeline":
        return f"{len(entity.all_stages())} stages"
    if kind == "inputSet":
        return f"pipeline={entity.pipeline.identifier}"
    if kind == "template":
        return f"{entity.type} versionLabel={entity.version_label}"
    if kind in ("overrides", "serviceOverrides"):
        env, service, infra = entity.target()
        where = " ".join(f"{k}={v}" for k, v in (("env", env), ("service", service), ("infra", infra)) if v)
        return f"{entity.override_type} {where}"
    return ""


def _table(rows: list[dict[str, str]]) -> None:
    if not rows:
        click.echo("no entities")
        return
    headers = ["KIND", "IDENTIFIER", "NAME", "DETAIL", "FILE"]
    keys = ["kind", "identifier", "name", "detail", "file"]
    widths = [max(len(h), *(len(r[k]) for r in rows)) for h, k in zip(headers, keys, strict=True)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    for row in rows:
        click.echo("  ".join(row[k].ljust(w) for k, w in zip(keys, widths, strict=True)).rstrip())
