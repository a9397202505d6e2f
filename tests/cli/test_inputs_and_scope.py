"""Run-time inputs at validate time, the value options render/plan/run share, and the scope
built-ins (<+account.*>, <+org.*>, <+project.*>) with the other CD built-ins Corral knows.

Harness shapes followed: an artifact source whose `tag: <+input>` (Harness docs, "Runtime
inputs"; "CD artifact sources"), a pipeline variable `<+input>.allowedValues(a,b)` (Harness
docs, "Allowed values"), and the echo of built-ins in a Shell Script step of the Harness
"Built-in and custom variables reference" ("Expression examples").
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import Result

from corral.sandbox import Sandbox
from tests.engine.helpers import pipeline, shell, stage, write_project

from .helpers import corral, corral_process
from .test_plan_and_demo import DEMO

# every built-in Corral knows for a CD stage, echoed by a ShellScript step (one a line)
BUILT_INS = {
    "account.identifier": "acme_prod",
    "account.name": "Acme Production",
    "account.companyName": "Acme Inc",
    "org.identifier": "payments",
    "org.name": "Payments",
    "org.description": "money moves",
    "project.identifier": "checkout",
    "project.name": "Checkout",
    "project.description": "the checkout service",
    "project.tags.team": "web",
    "pipeline.identifier": "builtins",
    "pipeline.name": "builtins",
    "pipeline.executionMode": "NORMAL",
    "pipeline.triggeredBy.name": "cli",
    "pipeline.description": "ships the checkout",
    "pipeline.tags.owner": "payments",
    "stage.description": "to dev",
    "stage.tags.tier": "one",
    "stage.type": "Deployment",
    "step.type": "ShellScript",
    "stage.identifier": "deploy",
    "stage.name": "deploy",
    "step.identifier": "say",
    "step.name": "say",
    "service.identifier": "web",
    "service.name": "Web",
    "service.type": "ECS",
    "service.gitOpsEnabled": "false",
    "env.identifier": "dev",
    "env.name": "Dev",
    "env.type": "PreProduction",
    "infra.identifier": "fargate",
    "infra.infraIdentifier": "fargate",
    "infra.name": "Fargate",
    "infra.connectorRef": "aws",
    "infra.cluster": "dev-cluster",
    "infra.region": "us-east-1",
    "artifacts.primary.tag": "1.25",
    "artifacts.primary.imagePath": "library/nginx",
    "artifacts.primary.image": "registry.hub.docker.com/library/nginx:1.25",
    "artifacts.primary.type": "DockerRegistry",
    "artifacts.primary.connectorRef": "docker_hub",
    "artifacts.primary.identifier": "nginx",
}
SCOPE = """project:
  name: Checkout
  identifier: checkout
  description: the checkout service
  tags: {team: web}
  org: {identifier: payments, name: Payments, description: money moves}
  account: {identifier: acme_prod, name: Acme Production, companyName: Acme Inc}
"""
# built-ins only a running pipeline knows: render leaves them as written
RUN_ONLY = ("pipeline.", "stage.", "step.")


def built_ins_project(root: Path, settings: str = SCOPE) -> Path:
    script = "\n".join(f"echo '{name}=<+{name}>'" for name in BUILT_INS)
    doc = pipeline(
        "builtins",
        [
            stage(
                "deploy",
                [shell("say", script)],
                type="Deployment",
                spec={
                    "service": {"serviceRef": "web"},
                    "environment": {
                        "environmentRef": "dev",
                        "infrastructureDefinitions": [{"identifier": "fargate"}],
                    },
                },
                description="to dev",
                tags={"tier": "one"},
            )
        ],
        description="ships the checkout",
        tags={"owner": "payments"},
    )
    write_project(root, doc, ecs=True)
    (root / "corral.yaml").write_text(settings, encoding="utf-8")
    return root


def test_every_built_in_resolves_in_a_shell_step_of_corral_run(tmp_path: Path) -> None:
    built_ins_project(tmp_path)
    result = corral("run", "builtins", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    for name, value in BUILT_INS.items():
        assert f"  [deploy/say] {name}={value}" in result.output.splitlines(), name


def test_scope_built_ins_have_documented_defaults(tmp_path: Path) -> None:
    built_ins_project(tmp_path, settings="project:\n  name: ECS Tutorial\n  tags: {team: web}\n")
    lines = corral("run", "builtins", cwd=tmp_path).output.splitlines()
    for name, value in {
        "account.identifier": "corral",
        "account.name": "Corral",
        "account.companyName": "Corral",
        "org.identifier": "default",
        "org.name": "default",
        "project.identifier": "ECS_Tutorial",
        "project.name": "ECS Tutorial",
    }.items():
        assert f"  [deploy/say] {name}={value}" in lines, name


def test_every_built_in_a_service_can_read_resolves_in_corral_render(tmp_path: Path) -> None:
    built_ins_project(tmp_path)
    knowable = {k: v for k, v in BUILT_INS.items() if not k.startswith(RUN_ONLY)}
    environment = [{"name": name, "value": f"<+{name}>"} for name in knowable]
    task = yaml.safe_load((tmp_path / "files/web/task.yaml").read_text())
    task["containerDefinitions"][0]["environment"] = environment
    (tmp_path / "files/web/task.yaml").write_text(yaml.safe_dump(task), encoding="utf-8")
    result = corral(
        "render", "--service", "web", "--env", "dev", "--infra", "fargate", "--format", "json", cwd=tmp_path
    )
    assert result.exit_code == 0, result.output
    rendered = json.loads(result.output)["taskDefinition"]["request"]["containerDefinitions"][0]
    assert {e["name"]: e["value"] for e in rendered["environment"]} == knowable


# -- run-time inputs at validate time ---------------------------------------------------


def input_project(root: Path, *, task_extra: str = "", service_extra: str = "") -> Path:
    """A service whose artifact tag and some manifest fields are runtime inputs, and a pipeline
    with an allowedValues variable."""
    doc = pipeline(
        "deploy",
        [
            stage(
                "deploy",
                [shell("say", "echo <+pipeline.variables.flavour>")],
                type="Deployment",
                spec={
                    "service": {"serviceRef": "web"},
                    "environment": {
                        "environmentRef": "dev",
                        "infrastructureDefinitions": [{"identifier": "fargate"}],
                    },
                },
            )
        ],
        variables=[
            {"name": "flavour", "type": "String", "value": "<+input>.allowedValues(a,b)"},
            {
                "name": "release",
                "type": "String",
                "value": "<+input>.default(v1).regex(^v[0-9]+$).executionInput()",
            },
        ],
    )
    write_project(root, doc, ecs=True)
    service = (root / "service.yaml").read_text().replace("tag: <+input>.default(1.25)", "tag: <+input>")
    (root / "service.yaml").write_text(service, encoding="utf-8")
    task = (root / "files/web/task.yaml").read_text()
    task = task.replace('memory: "512"', "memory: <+input>.allowedValues(512,1024)")
    task = task.replace(
        "      - containerPort: 80\n", "      - containerPort: 80\n        hostPort: <+input>\n"
    )
    (root / "files/web/task.yaml").write_text(task + task_extra, encoding="utf-8")
    definition = "serviceName: web\ndesiredCount: <+input>\nenableExecuteCommand: <+input>\n" + service_extra
    (root / "files/web/service.yaml").write_text(definition, encoding="utf-8")
    return root


def test_validate_accepts_runtime_inputs_and_lists_what_a_run_will_ask_for(tmp_path: Path) -> None:
    input_project(tmp_path)
    result = corral_process("validate", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("ok: ")
    assert lines[1].startswith("runtime inputs a run will ask for (7;")
    assert lines[2:] == [
        "  pipelines.yaml:32: pipeline.variables[0].value (flavour): String, required, allowed values: a, b",
        "  pipelines.yaml:35: pipeline.variables[1].value (release): String, default v1, matching ^v[0-9]+$, "
        "asked for while the run is under way",
        "  service.yaml:27: service.serviceDefinition.spec.artifacts.primary.sources[0].spec.tag: String, required",
        "  files/web/task.yaml: task_def.memory: String, required, allowed values: 512, 1024",
        "  files/web/task.yaml: task_def.containerDefinitions[0].portMappings[0].hostPort: Integer, required",
        "  files/web/service.yaml: service_def.desiredCount: Integer, required",
        "  files/web/service.yaml: service_def.enableExecuteCommand: Boolean, required",
    ]


def test_a_wrong_manifest_around_runtime_inputs_still_fails_with_file_and_path(tmp_path: Path) -> None:
    input_project(tmp_path, task_extra="taskRoleArn: <+input>\n", service_extra="launchType: MOON\n")
    task_file = tmp_path / "files/web/task.yaml"
    task = task_file.read_text()
    task_file.write_text(
        task.replace("    essential: true\n", "    essential: true\n    memoryReservaton: 64\n")
    )
    result = corral_process("validate", cwd=tmp_path)
    assert result.returncode == 1
    out = result.stdout + result.stderr
    assert (
        "files/web/task.yaml: containerDefinitions[0].memoryReservaton: unknown field 'memoryReservaton'; "
        "did you mean 'memoryReservation'?"
    ) in out
    assert "files/web/service.yaml: launchType: expected one of EC2, FARGATE" in out
    assert "Traceback" not in out and "runtime input" not in out

    # the ECS rules across fields still run around the inputs' stand-ins (hostPort is an
    # Integer stand-in, memory the first allowed value): Fargate sizes
    task_file.write_text(task.replace('cpu: "256"', 'cpu: "4096"'))
    (tmp_path / "files/web/service.yaml").write_text("serviceName: web\ndesiredCount: <+input>\n")
    result = corral_process("validate", cwd=tmp_path)
    assert result.returncode == 1
    assert "files/web/task.yaml: memory: No Fargate configuration exists for given values." in result.stdout


def test_plan_and_run_refuse_what_render_refuses_alike(tmp_path: Path) -> None:
    """--set values are data: the same refusal and exit code 2 on render, plan and run."""
    input_project(tmp_path)
    commands = {
        "render": ["render", "--service", "web", "--env", "dev", "--infra", "fargate"],
        "plan": ["plan", "deploy"],
        "run": ["run", "deploy"],
    }
    for name, args in commands.items():
        result = corral(*args, "--set", "serviceVariables.replicas=<+secrets.getValue('x')>", cwd=tmp_path)
        assert result.exit_code == 2, (name, result.output)
        assert "--set: serviceVariables.replicas: a value given on the command line is data" in result.output


def test_render_plan_and_run_share_the_value_options(tmp_path: Path) -> None:
    for command in ("render", "plan", "run"):
        help_text = corral(command, "--help").output
        for option in ("-i, --input PATH=VALUE", "--inputs-file FILE", "--set NAME=VALUE"):
            assert option in help_text, (command, option)


def rendered(result: Result) -> dict[str, object]:
    assert result.exit_code == 0, result.output
    return dict(json.loads(result.output))


def test_render_takes_an_inputs_file_and_sets(tmp_path: Path) -> None:
    input_project(tmp_path)
    (tmp_path / "inputs.yaml").write_text(
        "tag: '1.27'\nmemory: '1024'\nhostPort: 80\ndesiredCount: 3\nenableExecuteCommand: true\n",
        encoding="utf-8",
    )
    args = ["render", "--service", "web", "--env", "dev", "--infra", "fargate", "--format", "json"]
    out = rendered(corral(*args, "--inputs-file", "inputs.yaml", "--input", "desiredCount=4", cwd=tmp_path))
    task = out["taskDefinition"]["request"]  # type: ignore[index]
    assert task["memory"] == "1024" and task["containerDefinitions"][0]["portMappings"][0]["hostPort"] == 80
    assert task["containerDefinitions"][0]["image"].endswith("nginx:1.27")
    assert out["serviceDefinition"]["request"]["desiredCount"] == 4  # type: ignore[index]  # --input wins
    out = rendered(corral(*args, "--inputs-file", "inputs.yaml", "--set", "artifact.tag=2.0", cwd=tmp_path))
    assert out["image"] == "registry.hub.docker.com/library/nginx:2.0"

    typed = corral(*args, "--inputs-file", "inputs.yaml", "--input", "tag=<+env.name>", cwd=tmp_path)
    assert typed.exit_code == 2  # as in a run: a typed value is data, never evaluated
    assert "--input: tag: a value given at run time for a service" in typed.output

    (tmp_path / "fragment.yaml").write_text("pipeline:\n  identifier: deploy\n", encoding="utf-8")
    refused = corral(*args, "--inputs-file", "fragment.yaml", cwd=tmp_path)
    assert refused.exit_code == 2
    assert "fragment.yaml: expected a mapping of input paths to values" in refused.output


def test_run_takes_an_inputs_file_and_sets_for_the_stage_service(tmp_path: Path) -> None:
    input_project(tmp_path)
    script = (
        "echo tag=<+artifact.tag> replicas=<+serviceVariables.replicas> flavour=<+pipeline.variables.flavour>"
    )
    doc = (tmp_path / "pipelines.yaml").read_text().replace("echo <+pipeline.variables.flavour>", script)
    (tmp_path / "pipelines.yaml").write_text(doc, encoding="utf-8")
    (tmp_path / "inputs.yaml").write_text(
        "flavour: b\ntag: '1.27'\nmemory: '512'\nhostPort: 80\ndesiredCount: 1\nenableExecuteCommand: false\n",
        encoding="utf-8",
    )
    result = corral(
        "run", "deploy", "--inputs-file", "inputs.yaml", "--set", "serviceVariables.replicas=5", cwd=tmp_path
    )
    assert result.exit_code == 0, result.output
    assert "  [deploy/say] tag=1.27 replicas=5 flavour=b" in result.output.splitlines()


def test_plan_lists_inputs_given_no_value_and_takes_sets(
    sandbox: Sandbox,
    aws: list[str],
    tmp_path: Path,
) -> None:
    """Against the sandbox, as tests/cli/test_plan_and_demo.py plans the demo project."""
    result = corral("plan", "demo_rolling", "--project", str(DEMO), *aws)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "runtime inputs given no value (1); the run will ask for them:" in lines
    tag = "service.serviceDefinition.spec.artifacts.primary.sources[0].spec.tag: String, default 1"
    assert any(line.startswith("  services/web.yaml:") and line.endswith(tag) for line in lines)

    store = ["--store", f"sqlite:///{tmp_path / 'corral.db'}"]
    deployed = corral(
        "run", "demo_rolling", "--project", str(DEMO), *store, *aws, "--input", "tag=1", "--json"
    )
    assert json.loads(deployed.output)["status"] == "Success", deployed.output
    planned = corral("plan", "demo_rolling", "--project", str(DEMO), *aws, "--set", "artifact.tag=7")
    assert planned.exit_code == 0, planned.output
    assert any(line.startswith("+") and line.endswith("demo/web:7") for line in planned.output.splitlines())
    assert "runtime inputs given no value" in planned.output  # --set is not an input

    # the same inputs from a file: nothing left to ask for, and the tag it gives is planned
    given = dict(arg.split("=", 1) for arg in aws[1::2])
    (tmp_path / "inputs.yaml").write_text(yaml.safe_dump({**given, "tag": "8"}), encoding="utf-8")
    from_file = corral(
        "plan", "demo_rolling", "--project", str(DEMO), "--inputs-file", str(tmp_path / "inputs.yaml")
    )
    assert from_file.exit_code == 0, from_file.output
    assert any(line.startswith("+") and line.endswith("demo/web:8") for line in from_file.output.splitlines())
    assert "runtime inputs given no value" not in from_file.output
