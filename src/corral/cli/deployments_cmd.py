"""`corral deployments`: an ECS service's own deployments (deployment controller ECS), from a terminal.

    corral deployments list SERVICE --cluster C [--connector ID | --region R] [--status S] [--json]
    corral deployments continue ARN [--hook-id H] [--wait-until STAGE]
    corral deployments rollback ARN [--no-wait]
    corral deployments stop ARN

AWS access: `--connector ID` uses one of the project's AWS connectors (its keys, role, endpoint);
without it, the default credential chain and `AWS_ENDPOINT_URL`, as the AWS CLI does. The Region
is `--region`, else the deployment ARN's, else the connector's, else AWS_REGION / AWS_DEFAULT_REGION.
The actions are those of the pipeline steps (corral.ecs.native.steering), with the same checks.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any

import click

from corral.cli.config_cmds import EXIT_USAGE, friendly_errors, project_option

STATUSES = (
    "PENDING",
    "IN_PROGRESS",
    "SUCCESSFUL",
    "STOPPED",
    "STOP_REQUESTED",
    "ROLLBACK_REQUESTED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_SUCCESSFUL",
    "ROLLBACK_FAILED",
)
WAIT_SECONDS = 3600.0  # how long `rollback` and `continue --wait-until` follow the deployment

connector_option = click.option(
    "--connector",
    "connector_id",
    metavar="ID",
    help="The project's AWS connector to use (default: the AWS CLI's credentials).",
)
region_option = click.option(
    "--region", help="AWS Region (default: the ARN's, the connector's, or AWS_REGION)."
)


@click.group("deployments")
def deployments() -> None:
    """An ECS service's own deployments: list, continue, roll back, stop."""


@deployments.command("list")
@click.argument("service")
@click.option("--cluster", required=True, help="The service's cluster (name or ARN).")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    type=click.Choice(STATUSES),
    help="Only these statuses (repeatable).",
)
@click.option(
    "--limit",
    default=20,
    show_default=True,
    type=click.IntRange(1, 100),
    help="At most this many, newest first.",
)
@click.option("--json", "json_output", is_flag=True, help="Print ECS's descriptions as a JSON list.")
@connector_option
@region_option
@project_option
@friendly_errors
def list_command(
    service: str,
    cluster: str,
    statuses: tuple[str, ...],
    limit: int,
    json_output: bool,
    connector_id: str | None,
    region: str | None,
    project_dir: str | None,
) -> None:
    """List SERVICE's service deployments, newest first: status, lifecycle stage, paused hooks."""
    from corral.ecs.context import StepContext
    from corral.ecs.native.steering import list_deployments

    ctx = StepContext.with_timeout(_clients(connector_id, region, project_dir), 60.0)
    with ctx.calls():  # retried as a step's calls are; ECS's refusal as one line
        found = list_deployments(ctx.clients.ecs, cluster, service, statuses=list(statuses), limit=limit)
    if json_output:
        import json

        click.echo(json.dumps(found, default=_json_default, indent=2))
        return
    if not found:
        click.echo(f"Service {service} in cluster {cluster} has no service deployments")
        return
    for deployment in found:
        click.echo(_line(deployment))


@deployments.command("continue")
@click.argument("arn")
@click.option("--hook-id", help="The paused hook to continue (default: every hook awaiting action).")
@click.option(
    "--wait-until", help="Then follow the deployment until SUCCESSFUL, PAUSED or a lifecycle stage."
)
@connector_option
@region_option
@project_option
@friendly_errors
def continue_command(
    arn: str,
    hook_id: str | None,
    wait_until: str | None,
    connector_id: str | None,
    region: str | None,
    project_dir: str | None,
) -> None:
    """Continue service deployment ARN past the PAUSE hook(s) it waits on."""
    from corral.ecs.native import steering
    from corral.ecs.native.judge import WAIT_UNTIL

    if wait_until is not None and wait_until not in WAIT_UNTIL:
        raise click.BadParameter(f"expected one of {', '.join(WAIT_UNTIL)}", param_hint="--wait-until")
    ctx = _context(arn, connector_id, region, project_dir)
    with ctx.calls():
        steering.continue_and_wait(ctx, arn, hook_id=hook_id, already=(), until=wait_until)
        click.echo(f"{arn}: {steering.summary(steering.describe(ctx, arn))}")


@deployments.command("rollback")
@click.argument("arn")
@click.option("--no-wait", is_flag=True, help="Return once ECS has taken the rollback.")
@connector_option
@region_option
@project_option
@friendly_errors
def rollback_command(
    arn: str, no_wait: bool, connector_id: str | None, region: str | None, project_dir: str | None
) -> None:
    """Roll service deployment ARN back to the previous revision through ECS (ContinueServiceDeployment
    ROLLBACK when paused, else StopServiceDeployment ROLLBACK) and wait for ROLLBACK_SUCCESSFUL."""
    from corral.ecs.native import steering

    ctx = _context(arn, connector_id, region, project_dir)
    with ctx.calls():
        if no_wait:
            steering.start_rollback(ctx, arn)
            deployment = steering.describe(ctx, arn)
        else:
            deployment = steering.roll_back(ctx, arn)[1]
        click.echo(f"{arn}: {steering.summary(deployment)}")


@deployments.command("stop")
@click.argument("arn")
@connector_option
@region_option
@project_option
@friendly_errors
def stop_command(arn: str, connector_id: str | None, region: str | None, project_dir: str | None) -> None:
    """Stop service deployment ARN where it is (StopServiceDeployment ABORT), without a rollback."""
    from corral.ecs.native import steering

    ctx = _context(arn, connector_id, region, project_dir)
    with ctx.calls():
        click.echo(f"{arn}: {steering.summary(steering.stop(ctx, arn))}")


# ---------------------------------------------------------------- AWS access


def _context(arn: str, connector_id: str | None, region: str | None, project_dir: str | None) -> Any:
    """A step context whose log prints to the terminal, on the ARN's Region unless --region says."""
    from corral.ecs.context import StepContext
    from corral.ecs.native.steering import DeploymentArn
    from corral.errors import DeploymentError
    from corral.step_log import StepLog

    try:
        where = DeploymentArn.parse(arn)
    except DeploymentError as error:
        raise click.BadParameter(str(error), param_hint="ARN") from None
    clients = _clients(connector_id, region or where.region, project_dir)
    log = StepLog(sink=lambda line: click.echo(_shown(line.level, line.message)))
    return StepContext.with_timeout(clients, WAIT_SECONDS, log=log)


def _clients(connector_id: str | None, region: str | None, project_dir: str | None) -> Any:
    from corral.aws.clients import AwsSettings, Clients

    if connector_id:
        return Clients(_connector_settings(connector_id, region, project_dir))
    region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        click.echo("corral: give --region (or --connector, or set AWS_REGION)", err=True)
        sys.exit(EXIT_USAGE)
    return Clients(AwsSettings(region=region, source="the AWS CLI's credentials"))


def _connector_settings(connector_id: str, region: str | None, project_dir: str | None) -> Any:
    from corral.config.connections import aws_settings
    from corral.config.entities.connector import AwsConnector
    from corral.config.project import load_project
    from corral.config.secrets import SecretResolver
    from corral.config.settings import project_root

    project = load_project(project_root(project_dir))
    found = project.connector(connector_id)
    if not isinstance(found, AwsConnector):
        aws = sorted(i for i, c in project.connectors.items() if isinstance(c, AwsConnector))
        what = "not an AWS connector" if found is not None else "not found"
        click.echo(
            f"corral: connector '{connector_id}' {what}; the project's AWS connectors: {', '.join(aws) or 'none'}",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    return aws_settings(found, SecretResolver(project), region=region).for_clients()


def _json_default(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _shown(level: str, message: str) -> str:
    return message if level == "INFO" else f"{level.lower()}: {message}"


def _line(deployment: dict[str, Any]) -> str:
    from corral.ecs.native.steering import summary

    created = deployment.get("createdAt")
    when = created.strftime("%Y-%m-%d %H:%M:%S") if isinstance(created, dt.datetime) else str(created or "")
    target = (deployment.get("targetServiceRevision") or {}).get("arn", "")
    revision = target.rsplit("/", 1)[-1] if target else "?"
    return f"{deployment.get('serviceDeploymentArn')}  {when}  revision {revision}  {summary(deployment)}"
