"""`corral status`: what version runs where, per environment.

    corral status [--service ID] [--env ID] [--json]                      # this project, its store
    corral status --server URL --server-project NAME [--token T] [...]    # a Corral server's project
    corral status --service ID --history                                  # every stage that deployed it

For each service and infrastructure: what AWS says now (ECS service, blue / green role, revision,
image, running / desired / pending tasks, rollout, production traffic, autoscaling range) beside
what Corral last deployed there (execution, who, when, tag), and drift between the two. Locally
AWS is read through each infrastructure's connector (AWS_ENDPOINT_URL and AWS_PROFILE apply as
for `corral run`); with --server the server reads it, and the JSON is the server's
GET /api/v1/projects/{name}/status.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from corral.cli.run_support import echo_json, open_store, pipeline_errors, project_option, store_option

HEADERS = ("SERVICE", "ECS SERVICE", "ROLE", "REVISION", "IMAGE", "TASKS", "ROLLOUT", "TRAFFIC", "SCALING")


@click.command("status")
@click.option("--service", "service", metavar="ID", help="Only this service (identifier).")
@click.option("--env", "environment", metavar="ID", help="Only this environment (identifier).")
@click.option(
    "--history",
    is_flag=True,
    help="With --service: every stage that deployed it, newest first, instead of the status.",
)
@click.option("--json", "json_output", is_flag=True, help="Print the status as JSON.")
@click.option(
    "--aws-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(min=0.1),
    help="Seconds each service's AWS reads may retry throttling and connection errors.",
)
@click.option(
    "--server",
    metavar="URL",
    envvar="CORRAL_SERVER",
    help="Ask this Corral server instead of reading here [env CORRAL_SERVER].",
)
@click.option("--server-project", metavar="NAME", help="The project's name on the server (with --server).")
@click.option("--token", envvar="CORRAL_TOKEN", help="API token for --server [env CORRAL_TOKEN].")
@project_option
@store_option
@pipeline_errors
def status(
    service: str | None,
    environment: str | None,
    history: bool,
    json_output: bool,
    aws_timeout: float,
    server: str | None,
    server_project: str | None,
    token: str | None,
    project_dir: str | None,
    store_url: str | None,
) -> None:
    """Show what runs where: each service per environment, as AWS says now and as Corral last
    deployed it; drift flagged. Tasks are running/desired/pending."""
    if history:
        if not service:
            raise click.BadParameter("give the service whose history to show", param_hint="--service")
        items = (
            _server_get(server, server_project, token, f"services/{service}/history", {})
            if server
            else _local_history(project_dir, store_url, service)
        )
        if json_output:
            echo_json(items)
        else:
            _print_history(service, items)
        return
    if server:
        data = _from_server(server, server_project, token, service, environment)
    else:
        data = _local(project_dir, store_url, service, environment, aws_timeout)
    if json_output:
        echo_json(data)
        return
    _print(data)


def _local(
    project_dir: str | None,
    store_url: str | None,
    service: str | None,
    environment: str | None,
    aws_timeout: float,
) -> dict[str, Any]:
    from corral.config.project import load_project
    from corral.config.settings import project_root
    from corral.status import project_status

    project = load_project(project_root(project_dir))
    _check_filters(project, service, environment)
    store = open_store(project_dir, store_url)
    try:
        found = project_status(
            project, store, service=service, environment=environment, read_seconds=aws_timeout
        )
        return found.to_dict()
    finally:
        store.close()


def _local_history(project_dir: str | None, store_url: str | None, service: str) -> list[dict[str, Any]]:
    from corral.config.project import load_project
    from corral.config.settings import project_root
    from corral.status import service_history
    from corral.status.model import to_dict

    project = load_project(project_root(project_dir))
    _check_filters(project, service, None)
    store = open_store(project_dir, store_url)
    try:
        return [to_dict(item) for item in service_history(store, project, service)]
    finally:
        store.close()


def _print_history(service: str, items: list[dict[str, Any]]) -> None:
    if not items:
        click.echo(f"Corral has not deployed {service} yet")
        return
    for item in items:
        where = f"{item['environment']}/{item['infrastructure'] or ''}"
        click.echo(f"{where}  {deployed(item)}")


def _check_filters(project: Any, service: str | None, environment: str | None) -> None:
    if service is not None and service not in project.services:
        known = ", ".join(sorted(project.services)) or "none"
        raise click.BadParameter(f"no service {service!r}; the project's: {known}", param_hint="--service")
    if environment is not None and environment not in project.environments:
        known = ", ".join(sorted(project.environments)) or "none"
        raise click.BadParameter(
            f"no environment {environment!r}; the project's: {known}", param_hint="--env"
        )


def _from_server(
    url: str, project: str | None, token: str | None, service: str | None, environment: str | None
) -> dict[str, Any]:
    params = {k: v for k, v in (("service", service), ("env", environment)) if v}
    data: dict[str, Any] = _server_get(url, project, token, "status", params)
    return data


def _server_get(url: str, project: str | None, token: str | None, path: str, params: dict[str, str]) -> Any:
    """GET /api/v1/projects/{project}/{path} of the server; its refusal as one line."""
    import httpx

    from corral.errors import CorralError

    if not project:
        raise click.BadParameter("give the project's name on the server", param_hint="--server-project")
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        answer = httpx.get(
            f"{url.rstrip('/')}/api/v1/projects/{project}/{path}", params=params, headers=headers, timeout=120
        )
    except httpx.HTTPError as error:
        raise CorralError(f"the server at {url} did not answer: {error}") from None
    if answer.status_code != 200:
        try:
            detail = answer.json().get("detail")
        except ValueError:
            detail = answer.text[:300]
        raise CorralError(f"the server answered {answer.status_code}: {detail}")
    return answer.json()


# ---------------------------------------------------------------- the tables


def _print(data: dict[str, Any]) -> None:
    rows = data.get("services") or []
    if not rows:
        click.echo(f"{data.get('project')}: no service to show")
        return
    groups: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["environment"], row["infrastructure"]), []).append(row)
    first = True
    for (_, infra), items in groups.items():
        if not first:
            click.echo("")
        first = False
        head = items[0]
        where = f"cluster {head['cluster']} ({head['region']})" if head.get("cluster") else ""
        click.echo(
            click.style(
                f"Environment {head['environment_name']} ({head['environment']}, "
                f"{head['environment_type']}) · infrastructure {infra} · {where}",
                bold=True,
            )
        )
        table: list[tuple[str, ...]] = [HEADERS]
        notes: list[str] = []
        for row in items:
            table += _lines(row)
            notes += _notes(row)
        widths = [max(len(line[i]) for line in table) for i in range(len(HEADERS))]
        for line in table:
            click.echo(
                "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
            )
        for note in notes:
            click.echo(note)


def _lines(row: dict[str, Any]) -> list[tuple[str, ...]]:
    live = row.get("live")
    if row.get("error") or live is None:
        return [(row["service"], row.get("ecs_service") or "?", "", "", "", "", "", "", "")]
    if not live["exists"]:
        return [(row["service"], row.get("ecs_service") or "?", "", "", "", "", "not in AWS", "", "")]
    out: list[tuple[str, ...]] = []
    for service in live["services"]:
        counts = service["counts"]
        out.append(
            (
                row["service"],
                service["name"],
                service.get("role") or "",
                service.get("task_definition") or "",
                ", ".join(short_image(i) for i in service["images"]),
                f"{counts['running']}/{counts['desired']}/{counts['pending']}",
                rollout(service),
                traffic(service, live["routes"]),
                scaling(service.get("autoscaling")),
            )
        )
    return out


def _notes(row: dict[str, Any]) -> list[str]:
    name = row["service"]
    if row.get("deployed"):
        notes = [f"  {name}: last deployed {deployed(row['deployed'])}"]
    else:
        notes = [f"  {name}: no successful deployment by Corral here"]
    if row.get("last_attempt"):
        notes.append(f"  {name}: since then {deployed(row['last_attempt'])}")
    if row.get("error"):
        notes.append(click.style(f"  ! {name}: {row['error']}", fg="yellow"))
    for item in row.get("drift") or []:
        notes.append(click.style(f"  ! drift: {name}: {item}", fg="red"))
    return notes


def deployed(item: dict[str, Any]) -> str:
    """`#3 of demo_rolling (stage deploy), tag 2, by ana, 2026-12-07 14:03:11, Success`."""
    at = item.get("ended_at") or item.get("started_at")
    when = dt.datetime.fromtimestamp(at).strftime("%Y-%m-%d %H:%M:%S") if at else "?"
    outcome = item["status"] + (", rolled back" if item.get("rolled_back") else "")
    tag = f", tag {item['tag']}" if item.get("tag") else ""
    by = f", by {item['triggered_by']}" if item.get("triggered_by") else ""
    return (
        f"#{item['sequence_id']} of {item['pipeline']} (stage {item['stage']}){tag}{by}, {when}, "
        f"{outcome} [{item['execution_id']}]"
    )


def short_image(image: str) -> str:
    """`registry.example.com/team/web:7` -> `team/web:7` (the registry host is long and the same)."""
    first, _, rest = image.partition("/")
    return rest if rest and ("." in first or ":" in first or first == "localhost") else image


def rollout(service: dict[str, Any]) -> str:
    native = service.get("service_deployment")
    if native:
        stage = f" {native['lifecycle_stage']}" if native.get("lifecycle_stage") else ""
        return f"{native['status']}{stage}"
    primary = next((d for d in service["deployments"] if d["status"] == "PRIMARY"), None)
    others = len(service["deployments"]) - 1
    state = (primary or {}).get("rollout_state") or ""
    return f"{state} (+{others} old)" if others > 0 else state


def traffic(service: dict[str, Any], routes: list[dict[str, Any]]) -> str:
    """`production 100%`, `stage 100%`, `HTTP:80 50%`: each route that reaches the service."""
    mine = {group["arn"] for group in service["target_groups"]}
    parts = []
    for route in routes:
        percent = sum(t["percent"] for t in route["targets"] if t["arn"] in mine)
        if any(t["arn"] in mine for t in route["targets"]):
            parts.append(f"{route.get('role') or route['listener']} {percent}%")
    return ", ".join(parts)


def scaling(found: dict[str, int] | None) -> str:
    return f"{found['min']}-{found['max']}" if found else ""
