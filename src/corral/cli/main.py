"""The `corral` command: a click group whose subcommands are imported only when used.

Lazy loading keeps `corral --help` fast: boto3, moto and pydantic are imported by the
commands that need them, not at start-up.
"""

from __future__ import annotations

import importlib

import click

# command name -> (module, attribute, one-line help shown by `corral --help`)
COMMANDS: dict[str, tuple[str, str, str]] = {
    "sandbox": ("corral.cli.sandbox_cmd", "sandbox", "Run the local AWS sandbox for ECS deployments."),
    "demo": ("corral.cli.demo_cmd", "demo", "Run the demo against an embedded sandbox."),
    "validate": (
        "corral.cli.validate_cmd",
        "validate",
        "Check the project: entities, references, rendered manifests.",
    ),
    "render": (
        "corral.cli.render_cmd",
        "render",
        "Print a service's manifests rendered for one infrastructure.",
    ),
    "ls": ("corral.cli.ls_cmd", "ls", "List the project's entities by kind."),
    "connector": ("corral.cli.connector_cmd", "connector", "Test a connector (AWS, Docker registry, Git)."),
    "secret": ("corral.cli.secret_cmd", "secret", "Encrypt a value for Corral's secret store."),
    "delegate": (
        "corral.cli.delegate_cmd",
        "delegate",
        "Run pipeline steps for a distributed (Temporal) Corral.",
    ),
    "artifacts": ("corral.cli.artifacts_cmd", "artifacts", "List a service's artifact tags, newest first."),
    "server": (
        "corral.cli.server_cmd",
        "server",
        "Serve the REST API and web UI (projects, executions, access).",
    ),
    "user": ("corral.cli.server_cmd", "user", "Add users and make API tokens for the server."),
    "run": (
        "corral.cli.run_cmd",
        "run",
        "Run a pipeline and show it live; exit 0 success, 1 failed, 3 aborted.",
    ),
    "resume": ("corral.cli.run_cmd", "resume", "Continue an execution whose process stopped."),
    "plan": ("corral.cli.plan_cmd", "plan", "Show what a pipeline would change on each ECS service (diff)."),
    "deployments": (
        "corral.cli.deployments_cmd",
        "deployments",
        "An ECS service's own deployments: list, continue, roll back, stop.",
    ),
    "status": (
        "corral.cli.status_cmd",
        "status",
        "What version runs where: each service per environment, AWS beside Corral's last deployment.",
    ),
    "executions": ("corral.cli.execution_cmds", "executions", "List executions, newest first."),
    "logs": ("corral.cli.execution_cmds", "logs", "Print (or --follow) an execution's logs."),
    "abort": ("corral.cli.execution_cmds", "abort", "Abort a running execution (its stage rolls back)."),
    "approve": ("corral.cli.execution_cmds", "approve", "Approve or --reject a waiting approval step."),
}


class LazyGroup(click.Group):
    """A group that imports a subcommand's module only when that subcommand runs."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*COMMANDS, *super().list_commands(ctx)])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            module_name, attribute, _ = COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module_name), attribute)
            assert isinstance(command, click.Command)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][2]) for name in sorted(COMMANDS)]
        rows += [(name, cmd.get_short_help_str()) for name, cmd in sorted(self.commands.items())]
        with formatter.section("Commands"):
            formatter.write_dl(sorted(rows))


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="corral")
def cli() -> None:
    """Corral: continuous delivery for Amazon ECS."""


def main() -> None:
    try:
        cli()
    except BrokenPipeError:
        from corral.cli.pipes import quiet_broken_pipe

        quiet_broken_pipe()
