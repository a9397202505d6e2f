"""The first hour: `corral sandbox --demo` in one terminal, `corral run` in the demo project in
another, typed as the sandbox's hint says (issue 18 item 1)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import boto3
import pytest

from corral.errors import ConfigError

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"


@contextmanager
def demo_sandbox(project: Path) -> Iterator[list[str]]:
    """`corral sandbox --demo` in the background; yields the lines it printed up to its hint's end."""
    argv = ["sandbox", "--demo", "--demo-project", str(project), "--port", "0", "--speed", "20"]
    process = subprocess.Popen(
        [sys.executable, "-m", "corral.cli", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].lstrip().startswith("("):  # the hint ends with "(any demo ..."
            line = process.stdout.readline()
            assert line, "".join(lines) + (process.stderr.read() if process.stderr else "")
            lines.append(line.rstrip("\n"))
        yield lines
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=20)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""


def typed(lines: list[str], prefix: str) -> list[str]:
    found = [line.strip() for line in lines if line.strip().startswith(prefix)]
    assert found, f"no line starting {prefix!r} in:\n" + "\n".join(lines)
    return shlex.split(found[0])


def test_corral_run_in_the_demo_folder_as_the_sandbox_says(tmp_path: Path) -> None:
    project = tmp_path / "sandbox-demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".corral"))
    with demo_sandbox(project) as lines:
        assert typed(lines, "cd ") == ["cd", str(project)]
        exported = dict(pair.split("=", 1) for pair in typed(lines, "export ")[1:])
        # the user's own AWS settings would not be in the other terminal's way: the hint sets them all
        env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
        env |= exported
        command = typed(lines, "corral run ")
        assert command[:3] == ["corral", "run", "demo_rolling"]

        def run(argv: list[str]) -> subprocess.CompletedProcess[str]:
            # `corral` is this worktree's console script when PYTHONPATH points here; -m is the same
            return subprocess.run(
                [sys.executable, "-m", "corral.cli", *argv[1:]],
                cwd=project,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )

        rolled = run(command)
        assert rolled.returncode == 0, rolled.stdout + rolled.stderr
        assert "pipeline Success" in rolled.stdout
        # "any demo pipeline the same way": ECS's own blue/green needs its rules and the check's url
        for pipeline in ("demo_native", "demo_runtask"):
            other = [part.replace("demo_rolling", pipeline) for part in command]
            done = run(other)
            assert done.returncode == 0, pipeline + done.stdout + done.stderr
        ecs = boto3.client(
            "ecs",
            endpoint_url=exported["AWS_ENDPOINT_URL"],
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        services = ecs.describe_services(cluster="corral-demo", services=["demo-web", "demo-native"])
        running = {s["serviceName"]: s for s in services["services"]}
        assert set(running) == {"demo-web", "demo-native"}
        task = ecs.describe_task_definition(taskDefinition=running["demo-web"]["taskDefinition"])
        assert task["taskDefinition"]["containerDefinitions"][0]["image"].endswith("demo/web:1")


def test_demo_flag_refuses_a_folder_without_a_project(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "corral.cli",
            "sandbox",
            "--demo",
            "--demo-project",
            str(tmp_path),
            "--port",
            "0",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert f"no corral.yaml in {tmp_path}" in result.stderr


def test_every_demo_pipeline_gets_each_input_it_needs(tmp_path: Path) -> None:
    """What `--demo` writes fills every runtime input without a default, for every pipeline of
    the demo project (the run above proves the values work against the sandbox)."""
    from corral.config.project import load_project
    from corral.demo.sandbox_inputs import inputs_file, prepare_demo_project
    from corral.engine.inputs import pipeline_inputs
    from corral.sandbox import Sandbox

    project_dir = tmp_path / "sandbox-demo"
    shutil.copytree(DEMO, project_dir, ignore=shutil.ignore_patterns(".corral"))
    with Sandbox(speed=20) as sandbox:
        written = prepare_demo_project(sandbox, project_dir)
        again = prepare_demo_project(sandbox, project_dir)  # a second start finds what the first made
    project = load_project(project_dir)
    assert sorted(written) == sorted(project.pipelines) and again == written
    for pipeline_id in project.pipelines:
        filled = pipeline_inputs(project, pipeline_id, inputs_file=inputs_file(project_dir, pipeline_id))
        assert filled.pipeline.identifier == pipeline_id
    # without the file, ECS's own blue/green cannot start: its rules and the check's url are inputs
    with pytest.raises(ConfigError) as refused:
        pipeline_inputs(project, "demo_native")
    assert "pipeline.variables[0].value: missing required input" in str(refused.value)
    assert "step.spec.url: missing required input" in str(refused.value)
