"""The deployment tools as a user types them, and how the benchmark reads that each is done.

- `corral`: `corral run bench_rolling --input tag=TAG` in the project bench_project.py writes (one
  pipeline; a fleet is one run with a stage per service, in parallel). Done: the line
  `step EcsRollingDeploy <stage>/deploy: Success`; also noted: the step's log line
  `Service <name> reached steady state` (the moment Corral saw it).
- `corral-events`: the same in a project whose AWS connector names the Region's SQS queue of ECS
  events (`ecsEventQueues`, made with `corral connector ecs-events`).
- `ecs-deploy`: fabfuel's `ecs deploy CLUSTER SERVICE --image app IMAGE --timeout 900` (its other
  options at their defaults, so it deregisters the old task definition after success; the row
  `ecs-deploy --no-deregister` keeps it, as the run issue 17 quotes did). Done: its line
  `Deployment successful`.
- `aws-wait`: the AWS CLI, `aws ecs register-task-definition --cli-input-json file://... && aws ecs
  update-service ... && aws ecs wait services-stable ...` in one shell. The waiter prints nothing
  when it succeeds, so its done is the process exit.

Each runs with `AWS_RETRY_MODE=standard` (what AWS's SDK documentation recommends) and, on the
rows named "(defaults)", with no retry setting at all: boto3's and the AWS CLI v1's default is the
`legacy` mode. Corral's retries are its own (corral.aws.retry: botocore's are off), so the
setting changes nothing for it; its two rows are the same configuration run twice.
Every tool gets the same environment otherwise: the sandbox's endpoint in AWS_ENDPOINT_URL, dummy
keys, empty AWS config and credentials files, PYTHONUNBUFFERED (lines leave the tool when printed,
as at a terminal) and a bytecode cache as an installed copy has.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_project import PIPELINE, image
from deploy_tools import DUMMY_ENV, SandboxProcess, ToolRun, corral_env, run_process, task_definition

PYCACHE = Path(tempfile.gettempdir()) / "corral-bench-pycache"
SUCCESS = {
    "corral": re.compile(r"^step EcsRollingDeploy (?P<stage>\S+)/deploy: Success"),
    "ecs-deploy": re.compile(r"^Deployment successful"),
}
DETECTED = {"corral": re.compile(r"^\s*\[(?P<stage>\S+)/deploy\] Service \S+ reached steady state")}


@dataclass(frozen=True)
class Tool:
    name: str  # the row: kind, and "(defaults)" when no retry mode is set
    kind: str  # corral | corral-events | ecs-deploy | aws-wait
    standard_retries: bool
    options: tuple[str, ...] = ()  # more options of the tool's command

    @property
    def family(self) -> str:
        return "corral" if self.kind.startswith("corral") else self.kind


TOOLS = {
    t.name: t
    for t in (
        Tool("corral", "corral", True),
        Tool("corral (defaults)", "corral", False),
        Tool("corral-events", "corral-events", True),
        Tool("ecs-deploy", "ecs-deploy", True),
        Tool("ecs-deploy (defaults)", "ecs-deploy", False),
        # keeps the old task definition: no DeregisterTaskDefinition in the bucket registrations use
        Tool("ecs-deploy --no-deregister", "ecs-deploy", True, ("--no-deregister",)),
        Tool("aws-wait", "aws-wait", True),
        Tool("aws-wait (defaults)", "aws-wait", False),
    )
}


def console_script(name: str) -> str:
    """The script pip installed beside this Python (not a version manager's shim); else PATH's."""
    beside = Path(sys.executable).with_name(name)
    found = str(beside) if beside.is_file() else shutil.which(name)
    if not found:
        raise SystemExit(
            f"`{name}` is not installed (ecs-deploy: pip install ecs-deploy; aws: pip install awscli)"
        )
    return found


def stage_of(service: str) -> str:
    return service.replace("-", "_")


class Workspace:
    """The sandbox, the cluster, the two Corral projects and the AWS CLI's request files."""

    def __init__(
        self, sandbox: SandboxProcess, cluster: str, folder: Path, projects: dict[str, Path]
    ) -> None:
        self.sandbox = sandbox
        self.cluster = cluster
        self.folder = folder
        self.projects = projects  # "corral" and "corral-events" -> project folder
        empty = folder / "empty"
        empty.write_text("")
        self._empty = str(empty)

    def env(self, tool: Tool) -> dict[str, str]:
        env = {k: v for k, v in corral_env().items() if k not in ("PYTHONDONTWRITEBYTECODE", "AWS_PROFILE")}
        env |= DUMMY_ENV | {
            "AWS_ENDPOINT_URL": self.sandbox.endpoint,
            "AWS_CONFIG_FILE": self._empty,
            "AWS_SHARED_CREDENTIALS_FILE": self._empty,
            "PYTHONUNBUFFERED": "1",
            "PYTHONPYCACHEPREFIX": str(PYCACHE),
        }
        env.pop("AWS_MAX_ATTEMPTS", None)
        if tool.standard_retries:
            env["AWS_RETRY_MODE"] = "standard"
        else:
            env.pop("AWS_RETRY_MODE", None)
        return env

    def commands(self, tool: Tool, services: list[str], tag: str) -> list[tuple[list[str], Path | None]]:
        """The processes a user starts for this release: (argv, working folder) each."""
        if tool.family == "corral":
            project = self.projects[tool.kind]
            return [([console_script("corral"), "run", PIPELINE, "--input", f"tag={tag}"], project)]
        if tool.kind == "ecs-deploy":
            ecs = console_script("ecs")
            return [
                (
                    [
                        ecs,
                        "deploy",
                        self.cluster,
                        s,
                        "--image",
                        "app",
                        image(tag),
                        "--timeout",
                        "900",
                        *tool.options,
                    ],
                    None,
                )
                for s in services
            ]
        aws = shlex.quote(console_script("aws"))
        found = []
        for service in services:
            request = self.folder / f"{service}-{tag}.json"
            request.write_text(json.dumps(task_definition(service, image(tag))))
            cluster, name = shlex.quote(self.cluster), shlex.quote(service)
            script = (
                f"{aws} ecs register-task-definition --cli-input-json file://{shlex.quote(str(request))}"
                " --query taskDefinition.taskDefinitionArn --output text"
                f" && {aws} ecs update-service --cluster {cluster} --service {name} --task-definition {name}"
                " --query service.serviceArn --output text"
                f" && {aws} ecs wait services-stable --cluster {cluster} --services {name}"
            )
            found.append((["sh", "-c", script], None))
        return found


def release(
    workspace: Workspace,
    tool: Tool,
    services: list[str],
    tag: str,
    *,
    max_processes: int = 0,
    sample_rss: bool | None = None,
    sample_every: float = 0.02,
) -> list[ToolRun]:
    """Run the tool's processes for this release at once, each to its end; with `max_processes`,
    at most that many at a time (as `xargs -P` would), the next starting when one ends. Peak RSS
    is sampled (`sample_rss`, by default for a single process) every `sample_every` seconds."""
    commands = workspace.commands(tool, services, tag)
    env = workspace.env(tool)
    runs: list[ToolRun | None] = [None] * len(commands)
    slots = threading.BoundedSemaphore(max_processes or len(commands))
    sample = len(commands) == 1 if sample_rss is None else sample_rss

    def one(index: int, argv: list[str], cwd: Path | None) -> None:
        with slots:
            runs[index] = run_process(
                tool.name, argv, env, cwd=cwd, sample_rss=sample, sample_every=sample_every
            )

    threads = [threading.Thread(target=one, args=(i, argv, cwd)) for i, (argv, cwd) in enumerate(commands)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [run for run in runs if run is not None]


def moments(
    tool: Tool, runs: list[ToolRun], services: list[str], pattern: str = "success"
) -> dict[str, float]:
    """Per service, when the tool said it was done (`success`) or saw it steady (`detected`):
    the arrival of its line; the process exit for a tool that prints none (the AWS CLI waiter)."""
    table = SUCCESS if pattern == "success" else DETECTED
    regex = table.get(tool.family)
    found: dict[str, float] = {}
    if regex is None:
        if pattern == "success":
            for run, service in zip(runs, services, strict=True):
                if run.exit_code == 0:
                    found[service] = run.ended
        return found
    by_stage = {stage_of(s): s for s in services}
    for index, run in enumerate(runs):
        for at, text in run.lines:
            match = regex.match(text)
            if match is None:
                continue
            stage = match.groupdict().get("stage")
            service = by_stage.get(stage, "") if stage else services[index]
            if service and service not in found:
                found[service] = at
    return found


def describe(tool: Tool) -> dict[str, Any]:
    return {
        "kind": tool.kind,
        "retryMode": "standard" if tool.standard_retries else "the tool's default",
        "options": list(tool.options),
    }
