"""`corral artifacts SERVICE`: the tags of a service's artifact source, newest first, with digests.

On a terminal a table (short digests); otherwise one tab-separated line per tag (tag, full
digest, created) for scripts; `--json` gives everything. A source with a tagRegex lists only
the tags it matches, so the first line is the tag a deployment would pick.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from corral.cli.config_cmds import friendly_errors, project_option

SHORT_DIGEST = len("sha256:") + 12


@click.command("artifacts")
@click.argument("service_id", metavar="SERVICE")
@project_option
@click.option(
    "--source", "source_id", metavar="ID", default=None, help="Artifact source (default: the primary)."
)
@click.option("--limit", type=click.IntRange(min=1), default=None, metavar="N", help="Show at most N tags.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: the source and every tag's metadata.")
@friendly_errors
def artifacts(
    project_dir: str | None, service_id: str, source_id: str | None, limit: int | None, as_json: bool
) -> None:
    """List the tags of SERVICE's artifact source, newest first, with their digests."""
    from corral.artifacts import list_tags
    from corral.config.project import load_project
    from corral.config.settings import project_root

    project = load_project(project_root(project_dir))
    spec, repository, tags = list_tags(project, service_id, source_id, limit=limit)
    rows = [tag.to_dict() for tag in tags]
    if as_json:
        out = {"service": service_id, "source": spec.identifier, "type": spec.type, "repository": repository}
        out |= {"tagRegex": spec.tag_regex} if spec.tag_regex else {}
        click.echo(json.dumps({**out, "tags": rows}, indent=2))
    elif sys.stdout.isatty():
        click.echo(table(repository, spec.tag_regex, rows))
    else:
        for row in rows:
            click.echo("\t".join(str(row[k] or "") for k in ("tag", "digest", "created")))


def table(repository: str, tag_regex: str | None, rows: list[dict[str, Any]]) -> str:
    """The terminal view: a title line, then TAG, DIGEST (short), CREATED columns."""
    matching = f" matching {tag_regex}" if tag_regex else ""
    title = f"{repository}: {len(rows)} tag(s){matching}, newest first"
    if not rows:
        return title
    cells = [["TAG", "DIGEST", "CREATED"]]
    cells += [[r["tag"], (r["digest"] or "")[:SHORT_DIGEST], _when(r["created"])] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join([title, *lines])


def _when(created: str | None) -> str:
    """2026-03-01 08:30:00Z from an RFC 3339 time (seconds are enough on a terminal)."""
    if not created:
        return "-"
    return created[:19].replace("T", " ") + "Z"
