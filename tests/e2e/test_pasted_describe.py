"""The seeds' paste case: `aws ecs describe-task-definition` / `describe-services` output, taken
from the sandbox with boto3 and pasted into a project as JSON files, wrappers and all, validates
with one info line per file and deploys as it is through `corral run`.

The seeds: "If you have an existing Task Definition, you can paste it into the JSON" (Harness
ECS tutorial). The files are what `aws ecs describe-task-definition --include TAGS` and
`aws ecs describe-services` print (boto3's answer dumped as JSON, timestamps as text, as the
AWS CLI prints them).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from corral.cli.main import cli

from .conftest import DEMO, Demo

FAMILY = "pasted-web"
WEB_FILES = Path("files") / "account" / "web"


def _existing_service(demo: Demo) -> tuple[dict[str, Any], dict[str, Any]]:
    """A service made on the sandbox the way a console user would have, and the describe
    output of its task definition and of the service."""
    ecs = demo.client("ecs")
    registered = ecs.register_task_definition(
        family=FAMILY,
        requiresCompatibilities=["FARGATE"],
        networkMode="awsvpc",
        cpu="256",
        memory="512",
        containerDefinitions=[
            {
                "name": "app",
                "image": "demo/web:1",
                "essential": True,
                "portMappings": [{"containerPort": 80, "protocol": "tcp"}],
                "environment": [{"name": "GREETING", "value": "hello"}],
            }
        ],
        tags=[{"key": "team", "value": "web"}],
    )["taskDefinition"]
    ecs.create_service(
        cluster=demo.prepared["cluster"],
        serviceName=FAMILY,
        taskDefinition=registered["taskDefinitionArn"],
        desiredCount=1,
        launchType="FARGATE",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": [demo.prepared["subnets[0]"]],
                "securityGroups": [demo.prepared["securityGroups[0]"]],
                "assignPublicIp": "DISABLED",
            }
        },
        deploymentConfiguration={"maximumPercent": 200, "minimumHealthyPercent": 100},
    )
    task = ecs.describe_task_definition(taskDefinition=FAMILY, include=["TAGS"])
    service = ecs.describe_services(cluster=demo.prepared["cluster"], services=[FAMILY])
    return _as_cli_prints(task), _as_cli_prints(service)


def _as_cli_prints(answer: dict[str, Any]) -> dict[str, Any]:
    answer = {k: v for k, v in answer.items() if k != "ResponseMetadata"}
    printed: dict[str, Any] = json.loads(json.dumps(answer, default=str))
    return printed


def _project(tmp_path: Path, task: dict[str, Any], service: dict[str, Any]) -> Path:
    """The demo project with the web service's two manifests replaced by the pasted files."""
    root = tmp_path / "project"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".corral"))
    (root / WEB_FILES / "task-definition.json").write_text(json.dumps(task, indent=2))
    (root / WEB_FILES / "service.json").write_text(json.dumps(service, indent=2))
    definition = root / "services" / "web.yaml"
    text = definition.read_text()
    text = text.replace(
        "account:/web/RegisterTaskDefinitionRequest.yaml", "account:/web/task-definition.json"
    )
    text = text.replace("account:/web/CreateServiceRequest.yaml", "account:/web/service.json")
    definition.write_text(text)
    return root


def _corral(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def _inputs(demo: Demo) -> list[str]:
    return [f"--input={k}={v}" for k, v in demo.inputs("demo_rolling").items()]


def test_pasted_describe_output_validates_with_one_info_line_and_deploys_as_it_is(
    demo: Demo, tmp_path: Path
) -> None:
    task, service = _existing_service(demo)
    assert "taskDefinitionArn" in task["taskDefinition"] and "deployments" in service["services"][0]
    root = _project(tmp_path, task, service)

    code, output = _corral("validate", "--project", str(root))
    assert code == 0, output
    infos = [line for line in output.splitlines() if line.startswith("info: ")]
    assert len(infos) == 2, output  # one per pasted file
    task_info = next(line for line in infos if "task-definition.json" in line)
    for name in ("'taskDefinition' wrapper", "taskDefinitionArn", "revision", "status", "registeredAt"):
        assert name in task_info
    service_info = next(line for line in infos if "service.json" in line)
    for name in ("'services' wrapper", "failures", "serviceArn", "deployments", "events", "runningCount"):
        assert name in service_info
    assert "warning:" not in output

    code, output = _corral("run", "demo_rolling", "--project", str(root), *_inputs(demo))
    assert code == 0, output
    assert "info: files/account/web/task-definition.json" in output

    ecs = demo.client("ecs")
    live = ecs.describe_services(cluster=demo.prepared["cluster"], services=[FAMILY])["services"][0]
    deployed = ecs.describe_task_definition(taskDefinition=live["taskDefinition"], include=["TAGS"])
    # the request built from the pasted file is the live definition, tags (the wrapper's sibling)
    # included: the deploy reuses revision 1 instead of registering an equal one
    assert deployed["taskDefinition"]["revision"] == 1
    assert "already matches the manifest; reusing it" in output
    assert {"key": "team", "value": "web"} in deployed["tags"]
    assert live["deployments"][0]["rolloutState"] == "COMPLETED" and live["runningCount"] == 1


def test_an_unknown_field_is_a_warning_not_sent_and_an_error_with_strict(demo: Demo, tmp_path: Path) -> None:
    task, service = _existing_service(demo)
    task["taskDefinition"]["platformFamily"] = "LINUX"  # Harness ignores it; ECS has no such member
    task["taskDefinition"]["containerDefinitions"][0]["memoryReservaton"] = 128
    task["taskDefinition"]["containerDefinitions"][0]["image"] = "demo/web:2"  # a new revision
    root = _project(tmp_path, task, service)
    warned = (
        "warning: files/account/web/task-definition.json: taskDefinition.platformFamily: "
        "unknown field 'platformFamily'"
    )
    typo = (
        "warning: files/account/web/task-definition.json: "
        "taskDefinition.containerDefinitions[0].memoryReservaton: unknown field 'memoryReservaton'; "
        "did you mean 'memoryReservation'? (ignored: not sent to AWS)"
    )

    code, output = _corral("validate", "--project", str(root))
    assert code == 0, output
    assert warned in output and typo in output
    assert "2 warning(s)" in output

    code, output = _corral("validate", "--strict", "--project", str(root))
    assert code == 1, output
    assert warned.removeprefix("warning: ") in output and "warning:" not in output

    rendered = CliRunner().invoke(
        cli,
        ["render", "--project", str(root), "--service", "demo_web", "--env", "sandbox", "--infra", "sandbox"],
    )
    assert rendered.exit_code == 0 and warned in rendered.stderr  # stdout is the requests alone
    assert "GREETING" in rendered.stdout and "platformFamily" not in rendered.stdout
    assert "memoryReservaton" not in rendered.stdout

    demo.sandbox.admin.clear_calls()
    code, output = _corral("run", "demo_rolling", "--project", str(root), *_inputs(demo))
    assert code == 0, output  # botocore itself refuses a member its model lacks: it was not sent
    assert warned in output
    registers = [c for c in demo.sandbox.admin.calls() if c["operation"] == "RegisterTaskDefinition"]
    assert registers and all(c["outcome"] == "ok" for c in registers)
    ecs = demo.client("ecs")
    live = ecs.describe_services(cluster=demo.prepared["cluster"], services=[FAMILY])["services"][0]
    container = ecs.describe_task_definition(taskDefinition=live["taskDefinition"])["taskDefinition"][
        "containerDefinitions"
    ][0]
    assert "memoryReservation" not in container


def test_a_typo_of_a_required_field_is_named_as_the_unknown_key(demo: Demo, tmp_path: Path) -> None:
    task, service = _existing_service(demo)
    definition = task["taskDefinition"]
    definition["containerDefinitons"] = definition.pop("containerDefinitions")
    root = _project(tmp_path, task, service)

    code, output = _corral("validate", "--project", str(root))
    assert code == 1, output
    assert (
        "files/account/web/task-definition.json: taskDefinition.containerDefinitons: "
        "unknown field 'containerDefinitons'; did you mean 'containerDefinitions'?"
    ) in output
    assert "missing required field" not in output
