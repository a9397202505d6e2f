"""Small projects for the CLI tests, and `corral` run as a separate process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from corral.cli.main import cli
from tests.engine.helpers import pipeline, shell, stage, step, write_project

__all__ = ["corral", "corral_process", "last_execution", "shell_project", "spawn"]


def shell_project(root: Path, *extra_pipelines: str, settings: str | None = None) -> Path:
    """Pipelines `ok` (two shell steps), `broken` (a failing step), `gated` (an approval),
    `slow` (a long wait) and `needs` (a required runtime input)."""
    docs = [
        pipeline(
            "ok", [stage("build", [shell("hello", "echo hello; echo world"), shell("after", "echo done")])]
        ),
        pipeline("broken", [stage("build", [shell("fails", "echo about to fail; exit 3")])]),
        pipeline(
            "gated",
            [
                stage(
                    "release",
                    [
                        step("gate", "HarnessApproval", {"approvalMessage": "Ship it?"}, timeout="5m"),
                        shell("ship", "echo shipped"),
                    ],
                )
            ],
        ),
        pipeline(
            "slow",
            [stage("wait", [shell("tick", "for i in $(seq 1 300); do echo tick $i; sleep 0.1; done")])],
        ),
        pipeline(
            "needs",
            [stage("s", [shell("say", "echo <+pipeline.variables.who>")])],
            variables=[{"name": "who", "type": "String", "value": "<+input>"}],
        ),
        *extra_pipelines,
    ]
    write_project(root, docs)
    if settings is not None:
        (root / "corral.yaml").write_text(settings, encoding="utf-8")
    return root


def corral(*args: str, cwd: Path | None = None) -> Result:
    """`corral ARGS` in this process (stdout is not a terminal)."""
    runner = CliRunner()
    old = Path.cwd()
    if cwd is not None:
        os.chdir(cwd)
    try:
        return runner.invoke(cli, list(args), catch_exceptions=False)
    finally:
        os.chdir(old)


def spawn(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """`corral ARGS` as a separate process."""
    return subprocess.Popen(
        [sys.executable, "-m", "corral.cli", *args],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def corral_process(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "corral.cli", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


def last_execution(cwd: Path) -> dict[str, Any] | None:
    result = corral("executions", "--json", "--limit", "1", cwd=cwd)
    found = json.loads(result.output)
    return found[0] if found else None
