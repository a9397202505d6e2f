"""What `corral run` prints, read as a person reads it (issue 18 item 3): one line per real state
change, a failed step's ECS events under it, and a summary at the end. `corral run` runs as a
separate process in a copy of examples/sandbox-demo, against a sandbox prepared as
`corral sandbox --demo` prepares it; plain output through a pipe, live output through a pty."""

from __future__ import annotations

import os
import pty
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest

from corral.demo.sandbox_inputs import inputs_file, prepare_demo_project
from corral.sandbox import Sandbox

DEMO = Path(__file__).resolve().parents[2] / "examples" / "sandbox-demo"
STATUS = re.compile(r"^(stage|step \S+) (\S+): (\w+)")
EVENT = re.compile(r"^\s+\d\d:\d\d:\d\d \(service demo-web\) ")


@pytest.fixture
def demo(sandbox: Sandbox, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A copy of the demo project, the sandbox prepared for it, and the environment a person
    types in the other terminal (`corral sandbox --demo`'s hint)."""
    project = tmp_path / "sandbox-demo"
    shutil.copytree(DEMO, project, ignore=shutil.ignore_patterns(".corral"))
    prepare_demo_project(sandbox, project)
    env = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    env |= {
        "AWS_ENDPOINT_URL": sandbox.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONUNBUFFERED": "1",  # lines as they happen, for the tests that read while it runs
    }
    yield project, env


def argv(project: Path, pipeline: str, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "corral.cli",
        "run",
        pipeline,
        "--inputs-file",
        str(inputs_file(project, pipeline)),
        *extra,
    ]


def run(project: Path, env: dict[str, str], pipeline: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv(project, pipeline, *extra), cwd=project, env=env, capture_output=True, text=True, timeout=180
    )


def statuses(lines: list[str]) -> dict[str, list[str]]:
    """Each stage's and step's printed states, in order."""
    found: dict[str, list[str]] = {}
    for line in lines:
        matched = STATUS.match(line)
        if matched:
            found.setdefault(matched.group(2), []).append(matched.group(3))
    return found


def summary(lines: list[str], execution_line: str) -> list[str]:
    return lines[lines.index(execution_line) + 1 :]


def test_plain_output_one_line_per_state_the_failed_steps_ecs_events_and_a_summary(
    demo: tuple[Path, dict[str, str]],
) -> None:
    project, env = demo
    first = run(project, env, "demo_rolling")
    assert first.returncode == 0, first.stdout + first.stderr
    # a canary of the next release, deleted, then the rollout: the summary speaks of demo-web
    second = run(project, env, "demo_canary", "--input", "tag=2")
    assert second.returncode == 0, second.stdout + second.stderr
    lines = second.stdout.splitlines()
    # no Running, Waiting, Running before the first step: nobody else held the service
    assert statuses(lines) == {
        "canary": ["Running", "Success"],
        "canary/EcsCanaryDeploy": ["Running", "Success"],
        "canary/EcsCanaryDelete": ["Running", "Success"],
        "canary/EcsRollingDeploy": ["Running", "Success"],
    }
    ended = next(line for line in lines if line.startswith("execution ") and ": Success in " in line)
    execution_id = ended.split()[1]
    told = summary(lines, ended)
    assert told[0] == "  stage canary (Canary deploy): Success"
    assert told[1] == (
        "    ECS service corral-demo/demo-web (us-east-1): demo-web:1 -> demo-web:2, "
        "image registry.demo.internal/demo/web:2, desired count 2"
    )
    assert re.fullmatch(r"    step canary/EcsCanaryDeploy: Success \d+\.\ds", told[2])
    assert re.fullmatch(r"    step canary/EcsRollingDeploy: Success \d+\.\ds", told[4])
    assert told[-1] == f"  more: corral logs {execution_id}"
    created = first.stdout.splitlines()
    assert any(
        line.startswith("    ECS service corral-demo/demo-web (us-east-1): new service -> demo-web:1,")
        for line in created
    )
    # where to read more is a command that works
    logs = subprocess.run(
        [sys.executable, "-m", "corral.cli", "logs", execution_id],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert logs.returncode == 0 and "Deployment Successful." in logs.stdout
    # then a release whose tasks crash: the demo's "broken" tag
    failed = run(project, env, "demo_rolling", "--input", "tag=broken")
    assert failed.returncode == 1, failed.stdout + failed.stderr
    lines = failed.stdout.splitlines()
    at = next(
        i
        for i, line in enumerate(lines)
        if line.startswith("step EcsRollingDeploy deploy/EcsRollingDeploy: Failed")
    )
    under = []
    for line in lines[at + 1 :]:
        if not line.startswith("    "):
            break
        under.append(line)
    # the stopped tasks' reasons, then ECS's own events with their time
    assert any(
        re.match(r"    task \w+: Essential container in task exited \(container app exit code 139\)", x)
        for x in under
    )
    assert "    ECS events (newest first):" in under
    events = under[under.index("    ECS events (newest first):") + 1 :]
    assert events and all(EVENT.match(event) for event in events)
    assert any("deployment failed" in event for event in events)
    # shown once: the stage and the pipeline say only the reason's first line
    assert sum(1 for line in lines if "ECS events (newest first):" in line) == 1
    stage_line = next(line for line in lines if line.startswith("stage deploy: Failed"))
    assert stage_line.endswith("ECS deployment circuit breaker: tasks failed to start.")
    assert statuses(lines)["deploy"] == ["Running", "Failed"]
    ended = next(line for line in lines if line.startswith("execution ") and ": Failed in " in line)
    execution_id = ended.split()[1]
    told = summary(lines, ended)
    assert told[0] == "  stage deploy (Rolling deploy): Failed, rolled back"
    assert told[1] == (
        "    ECS service corral-demo/demo-web (us-east-1): demo-web:3 "
        "(image registry.demo.internal/demo/web:broken) failed; rolled back to demo-web:2, desired count 2"
    )
    assert re.fullmatch(
        r"    step deploy/EcsRollingDeploy: Failed \d+\.\ds: Deployment \S+ failed: "
        r"ECS deployment circuit breaker: tasks failed to start\.",
        told[2],
    )
    assert re.fullmatch(
        r"    step deploy/rollback/EcsRollingRollback \(rollback\): Success \d+\.\ds", told[3]
    )
    assert told[-1] == (
        f"  more: corral logs {execution_id} --step deploy/EcsRollingDeploy; corral logs {execution_id}"
    )


def test_the_live_view_in_a_terminal_shows_the_failed_steps_ecs_events(
    demo: tuple[Path, dict[str, str]],
) -> None:
    project, env = demo
    assert run(project, env, "demo_rolling").returncode == 0
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        argv(project, "demo_rolling", "--input", "tag=broken"),
        cwd=project,
        env=env | {"COLUMNS": "200", "LINES": "60", "TERM": "xterm"},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the process closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    assert process.wait(timeout=60) == 1
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode(errors="replace"))
    final = text[text.rindex("stage / step") :]  # the table as last drawn, and what follows it
    assert "ECS Rolling Deploy (deploy/EcsRollingDeploy): Deployment" in final
    assert "ECS events (newest first):" in final
    assert re.search(r"\d\d:\d\d:\d\d \(service demo-web\) \(deployment \S+\) deployment failed", final)
    assert "ECS service corral-demo/demo-web (us-east-1): demo-web:2" in final
    assert "rolled back to demo-web:1" in final


def read_until(stream: IO[str], needle: str, seen: list[str]) -> str:
    """Lines of a running `corral run` until one holds `needle` (it ends or prints it)."""
    for line in stream:
        seen.append(line.rstrip("\n"))
        if needle in line:
            return line
    raise AssertionError(f"{needle!r} never printed:\n" + "\n".join(seen))


def test_a_stage_shows_waiting_only_while_another_execution_holds_its_service(
    demo: tuple[Path, dict[str, str]],
) -> None:
    """demo_basic holds demo-web while it waits for its approval; demo_rolling, started then,
    waits for it: its stage prints Running, Waiting (naming the holder), Running, each once."""
    project, env = demo
    holder = subprocess.Popen(
        argv(project, "demo_basic"), cwd=project, env=env, stdout=subprocess.PIPE, text=True
    )
    waiter: subprocess.Popen[str] | None = None
    try:
        assert holder.stdout is not None
        held: list[str] = []
        read_until(holder.stdout, "Waiting for approval", held)
        holder_id = held[0].split()[1]
        waiter = subprocess.Popen(
            argv(project, "demo_rolling"), cwd=project, env=env, stdout=subprocess.PIPE, text=True
        )
        assert waiter.stdout is not None
        waited: list[str] = []
        read_until(waiter.stdout, f"is being deployed by execution {holder_id}", waited)
        approved = subprocess.run(
            [sys.executable, "-m", "corral.cli", "approve", holder_id],
            cwd=project,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert approved.returncode == 0, approved.stdout + approved.stderr
        waited.extend(line.rstrip("\n") for line in waiter.stdout)
        held.extend(line.rstrip("\n") for line in holder.stdout)
        assert waiter.wait(timeout=120) == 0, "\n".join(waited)
        assert holder.wait(timeout=120) == 0, "\n".join(held)
    finally:
        for process in (holder, waiter):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
    assert statuses(waited)["deploy"] == ["Running", "Waiting", "Running", "Success"]
    waiting = next(i for i, line in enumerate(waited) if line.startswith("stage deploy: Waiting"))
    assert "is being deployed by execution" in waited[waiting + 1]
    assert statuses(held)["deploy"] == ["Running", "Success"]


def test_a_failure_whose_error_holds_no_events_shows_the_events_the_step_logged() -> None:
    """When ECS could not be described before the step gave up, its error's `Recent events:` is
    empty: the `# AWS Event:` lines the step logged while it waited stand in (newest first)."""
    from corral.cli.step_failure import failure_lines, logged_event

    logged = [
        logged_event(f"# AWS Event: 2026-12-07 10:00:0{n}.000 (service web) event {n}") for n in range(7)
    ]
    assert logged_event("Waiting for pending tasks to finish. 0/2 running ...") is None
    error = "Timed out waiting for service web to reach a steady state. 0/2 running\nRecent events:\n"
    shown = failure_lines(error, [line for line in logged if line])
    assert shown == ["ECS events (newest first):"] + [
        f"  10:00:0{n} (service web) event {n}" for n in (6, 5, 4, 3, 2)
    ]
