"""`corral run`, `executions`, `logs`, `resume` on ShellScript pipelines: output, JSON, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

from corral.config import load_project
from corral.engine import create_execution
from corral.store import Store

from .helpers import corral, shell_project


def test_run_prints_plain_lines_when_not_a_terminal_and_exits_0(tmp_path: Path) -> None:
    shell_project(tmp_path)
    result = corral("run", "ok", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("execution ") and lines[0].endswith(
        " (ok #1); from another terminal: corral logs|approve|abort " + lines[0].split()[1]
    )
    assert "stage build: Running" in lines
    assert "  [build/hello] hello" in lines
    assert any(line.startswith("step ShellScript build/after: Success (") for line in lines)
    assert "pipeline Success" in lines
    # how it ended, then the summary: each step's time (a stage of shell steps changes no service)
    ended = next(
        i for i, line in enumerate(lines) if line.startswith("execution ") and ": Success in " in line
    )
    assert lines[ended + 1].startswith("  stage build (") and lines[ended + 1].endswith("): Success")
    assert re.fullmatch(r"    step build/hello: Success \d+\.\ds", lines[ended + 2])
    assert "ECS service" not in result.output
    assert lines[-1] == f"  more: corral logs {lines[0].split()[1]}"
    assert "\x1b[" not in result.output  # no terminal codes in a pipe


def test_a_failed_pipeline_exits_1_and_json_says_why(tmp_path: Path) -> None:
    shell_project(tmp_path)
    result = corral("run", "broken", "--json", cwd=tmp_path)
    assert result.exit_code == 1
    out = json.loads(result.output)  # one JSON object and nothing else
    assert out["status"] == "Failed"
    assert out["pipeline"] == "broken"
    [fails] = [s for s in out["steps"] if s["identifier"] == "fails"]
    assert fails["status"] == "Failed" and "3" in fails["error"]


def test_invalid_input_exits_2_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    shell_project(tmp_path)
    missing = corral("run", "needs", cwd=tmp_path)
    assert missing.exit_code == 2
    assert (
        "pipeline.variables[0].value: missing required input" in missing.output
        and "Traceback" not in missing.output
    )
    unknown = corral("run", "nope", cwd=tmp_path)
    assert unknown.exit_code == 2
    assert "pipeline not found" in unknown.output and "ok" in unknown.output
    bad = corral("run", "ok", "--input", "novalue", cwd=tmp_path)
    assert bad.exit_code == 2


def test_inputs_from_the_command_line_reach_the_steps(tmp_path: Path) -> None:
    shell_project(tmp_path)
    result = corral("run", "needs", "--input", "pipeline.variables[0].value=world", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert "  [s/say] world" in result.output.splitlines()


def test_a_pipeline_named_by_its_file_from_outside_the_project(tmp_path: Path) -> None:
    project = shell_project(tmp_path / "proj")
    result = corral("run", str(project / "pipelines.yaml"), cwd=tmp_path)
    # pipelines.yaml holds several pipelines: the file does not name one
    assert result.exit_code == 2
    assert "the file holds several pipelines (broken, gated, needs, ok, slow)" in result.output
    single = project / "single.yaml"
    single.write_text(
        "pipeline:\n  name: single\n  identifier: single\n  stages:\n    - stage:\n        name: s\n"
        "        identifier: s\n        type: Custom\n        spec:\n          execution:\n            steps:\n"
        "              - step: {name: w, identifier: w, type: Wait, spec: {duration: 10ms}}\n",
        encoding="utf-8",
    )
    result = corral("run", str(single), "--json", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["pipeline"] == "single"


def test_executions_logs_and_steps(tmp_path: Path) -> None:
    shell_project(tmp_path)
    corral("run", "ok", cwd=tmp_path)
    corral("run", "broken", cwd=tmp_path)
    listed = json.loads(corral("executions", "--json", cwd=tmp_path).output)
    assert [(e["pipeline"], e["status"]) for e in listed] == [("broken", "Failed"), ("ok", "Success")]
    table = corral("executions", "--limit", "1", cwd=tmp_path).output.splitlines()
    assert len(table) == 2 and "broken" in table[1] and "Failed" in table[1]
    ok_id = listed[1]["id"]
    logs = corral("logs", ok_id, cwd=tmp_path).output
    assert "[build/hello] Execute: hello" in logs and "[build/after] Execute: done" in logs
    only = corral("logs", ok_id, "--step", "after", cwd=tmp_path).output
    assert "done" in only and "hello" not in only
    lines = [json.loads(x) for x in corral("logs", ok_id, "--json", cwd=tmp_path).output.splitlines()]
    assert {"step": "build/hello", "message": "world"}.items() <= lines[1].items()
    unknown = corral("logs", "nope", cwd=tmp_path)
    assert unknown.exit_code == 2 and "no execution nope" in unknown.output


def test_resume_runs_an_execution_left_queued(tmp_path: Path) -> None:
    shell_project(tmp_path)
    project = load_project(tmp_path)
    store = Store.for_project(project)
    try:
        record = create_execution(project, "ok", store=store)
    finally:
        store.close()
    result = corral("resume", record.id, "--json", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["status"] == "Success"


def test_store_option_and_no_project(tmp_path: Path) -> None:
    shell_project(tmp_path / "proj")
    url = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    ran = corral("run", "ok", "--project", str(tmp_path / "proj"), "--store", url)
    assert ran.exit_code == 0
    listed = json.loads(corral("executions", "--json", "--store", url, cwd=tmp_path).output)
    assert [e["pipeline"] for e in listed] == ["ok"]
    # the summary's way to read more names the store, and works from anywhere
    more = ran.output.splitlines()[-1]
    assert more == f"  more: corral logs {listed[0]['id']} --store {url}"
    logs = corral(*more.split()[2:], cwd=tmp_path)
    assert logs.exit_code == 0 and "[build/hello] Execute: hello" in logs.output
    outside = corral("executions", cwd=tmp_path)
    assert outside.exit_code == 2 and "corral.yaml" in outside.output


def test_the_live_view_shows_stages_steps_statuses_and_the_running_steps_log() -> None:
    from rich.console import Console

    from corral.cli.execution_view import Board, render_board
    from corral.engine.messages import PipelineUpdate, StageUpdate, StepUpdate

    board = Board()
    board.apply(PipelineUpdate("Running"))
    board.apply(StageUpdate("deploy", 0, "deploy", "Rolling deploy", "Running"))
    step = dict(position=1, stage_key="deploy", phase="execution")
    board.apply(
        StepUpdate("deploy/a", identifier="a", name="Build", type="ShellScript", status="Success", **step)
    )
    board.apply(
        StepUpdate(
            "deploy/b", identifier="b", name="Deploy", type="EcsRollingDeploy", status="Running", **step
        )
    )
    for n in range(10):
        board.log("deploy/b", f"line {n}")
    console = Console(record=True, width=100)
    console.print(render_board(board, board.started + 5))
    text = console.export_text()
    assert "pipeline Running" in text
    assert "Rolling deploy" in text and "Build" in text and "EcsRollingDeploy" in text
    assert "Success" in text and "Running" in text
    assert "line 9" in text and "line 4" in text and "line 3" not in text  # the last six lines
